//! What PostgREST knows about the database: tables, views, columns, keys, foreign keys and
//! functions of the exposed schemas, read from the catalogs at start and on
//! `NOTIFY pgrst, 'reload schema'`.

use std::collections::HashMap;

use serde::Deserialize;

/// The schemas `/rest/v1` serves, as on a default Supabase project (`db-schemas`).
pub const EXPOSED_SCHEMAS: &[&str] = &["public"];

#[derive(Debug, Default)]
pub struct SchemaCache {
    tables: HashMap<(String, String), Table>,
    functions: HashMap<(String, String), Vec<Function>>,
    pub foreign_keys: Vec<ForeignKey>,
    /// `ALTER ROLE … SET` settings of `authenticator` and of the roles it can become (the
    /// API roles' `statement_timeout`), by role name.
    role_settings: HashMap<String, Vec<(String, String)>>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    /// Primary key and unique constraints: the column sets that identify one row.
    pub unique_keys: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Column {
    pub name: String,
    /// The default expression as Postgres prints it (`now()`, `gen_random_uuid()`), as
    /// PostgREST reads it: a domain's default when the column has none, `nextval` of the
    /// sequence of an identity column `BY DEFAULT`, none for a generated column.
    pub default: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub name: String,
    pub schema: String,
    pub table: String,
    pub columns: Vec<String>,
    pub foreign_schema: String,
    pub foreign_table: String,
    pub foreign_columns: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// The input parameters, in order.
    pub params: Vec<FunctionParam>,
    pub returns_set: bool,
    pub returns: ReturnKind,
    /// The table or view whose row type the function returns, which makes embedding possible.
    pub returns_table: Option<(String, String)>,
    /// `ROWS 1`: a set-returning function that PostgREST embeds as one object.
    pub single_row: bool,
    /// `v` volatile, `s` stable, `i` immutable.
    pub volatility: char,
    /// The function's own `SET` clauses that PostgREST hoists into the transaction before the
    /// call (its `db-hoisted-tx-settings`), so that a function's `statement_timeout` bounds
    /// the statement that calls it.
    pub hoisted_settings: Vec<(String, String)>,
}

/// PostgREST's default `db-hoisted-tx-settings`, less `default_transaction_isolation` (the
/// isolation level of a transaction already begun cannot change).
const HOISTED_SETTINGS: [&str; 2] = ["statement_timeout", "plan_filter.statement_cost_limit"];

#[derive(Debug, Clone, Deserialize)]
pub struct FunctionParam {
    pub name: String,
    /// The type as SQL (`integer`, `text[]`), from `format_type`.
    #[serde(rename = "type")]
    pub type_sql: String,
    pub has_default: bool,
    pub variadic: bool,
    /// The table or view whose row type this is (`[schema, name]`), for computed
    /// relationships.
    #[serde(default)]
    pub row_of: Option<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnKind {
    Void,
    Scalar,
    /// Rows with named columns: a table type, a composite, `RETURNS TABLE`/OUT parameters.
    Rows,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl SchemaCache {
    pub async fn load(client: &impl tokio_postgres::GenericClient) -> anyhow::Result<Self> {
        let schemas: Vec<String> = EXPOSED_SCHEMAS.iter().map(|s| s.to_string()).collect();
        let mut cache = SchemaCache::default();
        for row in client.query(TABLES_SQL, &[&schemas]).await? {
            let columns: serde_json::Value = row.get(2);
            let table = Table {
                schema: row.get(0),
                name: row.get(1),
                columns: serde_json::from_value(columns)?,
                primary_key: Vec::new(),
                unique_keys: Vec::new(),
            };
            cache
                .tables
                .insert((table.schema.clone(), table.name.clone()), table);
        }
        for row in client.query(CONSTRAINTS_SQL, &[&schemas]).await? {
            let kind: String = row.get(1);
            let schema: String = row.get(2);
            let table: String = row.get(3);
            let columns: Vec<String> = row.get(4);
            match kind.as_str() {
                "f" => cache.foreign_keys.push(ForeignKey {
                    name: row.get(0),
                    schema,
                    table,
                    columns,
                    foreign_schema: row.get(5),
                    foreign_table: row.get(6),
                    foreign_columns: row.get(7),
                }),
                _ => {
                    if let Some(t) = cache.tables.get_mut(&(schema, table)) {
                        if kind == "p" {
                            t.primary_key = columns.clone();
                        }
                        t.unique_keys.push(columns);
                    }
                }
            }
        }
        for row in client.query(FUNCTIONS_SQL, &[&schemas]).await? {
            let params: serde_json::Value = row.get(6);
            let returns = if row.get::<_, bool>(4) {
                ReturnKind::Void
            } else if row.get::<_, bool>(5) {
                ReturnKind::Rows
            } else {
                ReturnKind::Scalar
            };
            let function = Function {
                schema: row.get(0),
                name: row.get(1),
                volatility: row.get::<_, String>(2).chars().next().unwrap_or('v'),
                returns_set: row.get(3),
                returns,
                returns_table: row
                    .get::<_, Option<String>>(7)
                    .zip(row.get::<_, Option<String>>(8)),
                single_row: row.get::<_, f64>(10) == 1.0,
                params: serde_json::from_value(params)?,
                hoisted_settings: row
                    .get::<_, Vec<String>>(9)
                    .iter()
                    .filter_map(|setting| setting.split_once('='))
                    .filter(|(name, _)| HOISTED_SETTINGS.contains(name))
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect(),
            };
            cache
                .functions
                .entry((function.schema.clone(), function.name.clone()))
                .or_default()
                .push(function);
        }
        cache.sort_overloads();
        for row in client.query(ROLE_SETTINGS_SQL, &[]).await? {
            let role: String = row.get(0);
            let settings: Vec<String> = row.get(1);
            cache.role_settings.insert(
                role,
                settings
                    .iter()
                    .filter_map(|s| s.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            );
        }
        Ok(cache)
    }

    /// PostgREST's order of overloads: fewest parameters first, then by the parameters.
    fn sort_overloads(&mut self) {
        for overloads in self.functions.values_mut() {
            overloads.sort_by(|a, b| {
                a.params.len().cmp(&b.params.len()).then_with(|| {
                    let key = |f: &Function| {
                        f.params
                            .iter()
                            .map(|p| {
                                (
                                    p.name.clone(),
                                    p.type_sql.clone(),
                                    !p.has_default,
                                    p.variadic,
                                )
                            })
                            .collect::<Vec<_>>()
                    };
                    key(a).cmp(&key(b))
                })
            });
        }
    }

    /// A cache of just these functions, as `load` would order them.
    #[cfg(test)]
    pub fn with_functions(functions: Vec<Function>) -> Self {
        let mut cache = Self::default();
        for f in functions {
            cache
                .functions
                .entry((f.schema.clone(), f.name.clone()))
                .or_default()
                .push(f);
        }
        cache.sort_overloads();
        cache
    }

    /// The settings `role` has of its own (`ALTER ROLE role SET name = value`).
    pub fn role_settings(&self, role: &str) -> &[(String, String)] {
        self.role_settings
            .get(role)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables.get(&(schema.to_owned(), name.to_owned()))
    }

    pub fn table_names(&self, schema: &str) -> impl Iterator<Item = &str> {
        self.tables
            .keys()
            .filter(move |(s, _)| s == schema)
            .map(|(_, n)| n.as_str())
    }

    /// Every overload of `schema.name`.
    pub fn functions(&self, schema: &str, name: &str) -> &[Function] {
        self.functions
            .get(&(schema.to_owned(), name.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn function_names(&self, schema: &str) -> impl Iterator<Item = &str> {
        self.functions
            .keys()
            .filter(move |(s, _)| s == schema)
            .map(|(_, n)| n.as_str())
    }
}

/// The closest name to `wanted`, if close enough to suggest (PostgREST's "Perhaps you meant").
pub fn closest_name<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    closest_within(wanted, names, 0.75)
}

/// The closest of `names` to `wanted` with a similarity of at least `min_score`.
pub fn closest_within<'a>(
    wanted: &str,
    names: impl Iterator<Item = &'a str>,
    min_score: f64,
) -> Option<&'a str> {
    names
        .map(|n| (similarity(wanted, n), n))
        .filter(|(score, _)| *score >= min_score)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, n)| n)
}

/// 1 - Levenshtein distance / longer length, case-insensitively.
fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    1.0 - previous[b.len()] as f64 / longest as f64
}

const TABLES_SQL: &str = "
SELECT n.nspname::text, c.relname::text,
  coalesce(
    json_agg(json_build_object('name', a.attname, 'default',
               CASE
                 WHEN t.typbasetype <> 0 AND d.adbin IS NULL THEN pg_get_expr(t.typdefaultbin, 0)
                 WHEN a.attidentity = 'd' THEN
                   format('nextval(%L)', pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname::text))
                 WHEN a.attgenerated = 's' THEN NULL
                 ELSE pg_get_expr(d.adbin, d.adrelid)
               END)
             ORDER BY a.attnum) FILTER (WHERE a.attname IS NOT NULL),
    '[]')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname::text = ANY($1::text[]) AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
GROUP BY 1, 2";

const CONSTRAINTS_SQL: &str = "
SELECT con.conname::text, con.contype::text, n.nspname::text, c.relname::text,
  array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, i)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.i),
  fn.nspname::text, fc.relname::text,
  array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, i)
        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.i)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype IN ('p', 'u', 'f') AND n.nspname::text = ANY($1::text[])
ORDER BY con.contype DESC, con.conname";

/// Functions with their input parameters (modes in, inout, variadic); the last
/// `pronargdefaults` inputs have defaults.
const FUNCTIONS_SQL: &str = "
SELECT n.nspname::text, p.proname::text, p.provolatile::text, p.proretset,
  p.prorettype = 'void'::regtype,
  (rt.typrelid <> 0 OR p.prorettype = 'record'::regtype),
  coalesce((
    SELECT json_agg(json_build_object(
             'name', coalesce(args.name, ''),
             'type', format_type(args.type_oid, NULL),
             'has_default', args.input_index > args.input_count - p.pronargdefaults,
             'variadic', args.mode = 'v',
             'row_of', (SELECT json_build_array(tn.nspname, tc.relname)
                        FROM pg_type t JOIN pg_class tc ON tc.oid = t.typrelid
                        JOIN pg_namespace tn ON tn.oid = tc.relnamespace
                        WHERE t.oid = args.type_oid)) ORDER BY args.i)
    FROM (
      SELECT a.i, a.type_oid, p.proargnames[a.i] AS name, coalesce(p.proargmodes[a.i], 'i') AS mode,
             row_number() OVER (ORDER BY a.i) AS input_index,
             p.pronargs AS input_count
      FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY a(type_oid, i)
      WHERE coalesce(p.proargmodes[a.i], 'i') IN ('i', 'b', 'v')
    ) args), '[]'),
  rn.nspname::text, rc.relname::text, coalesce(p.proconfig, '{}'), p.prorows::float8
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_type rt ON rt.oid = p.prorettype
LEFT JOIN pg_class rc ON rc.oid = rt.typrelid AND rc.relkind IN ('r', 'v', 'm', 'f', 'p')
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE n.nspname::text = ANY($1::text[]) AND p.prokind = 'f'
  AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)";

/// What PostgREST reads at start (`queryRoleSettings`): the database-wide settings of the
/// roles `authenticator` can become, those a user may set, which it then sets in every
/// transaction run as that role (its "impersonated role settings"); `authenticator`'s own are
/// its session's, read here only for how long its statements may take.
const ROLE_SETTINGS_SQL: &str = "
SELECT r.rolname::text,
  coalesce(array_agg(s.setting) FILTER (WHERE s.setting IS NOT NULL), '{}')
FROM pg_roles r
LEFT JOIN LATERAL unnest(r.rolconfig) s(setting) ON TRUE
LEFT JOIN pg_settings ps ON ps.name = split_part(s.setting, '=', 1)
WHERE (r.rolname = 'authenticator'
       OR r.oid IN (SELECT m.roleid FROM pg_auth_members m
                    JOIN pg_roles a ON a.oid = m.member WHERE a.rolname = 'authenticator'))
  AND (s.setting IS NULL OR (ps.context = 'user' AND split_part(s.setting, '=', 1) <> 'default_transaction_isolation'))
GROUP BY r.rolname";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["todos", "profiles", "teams"];
        assert_eq!(closest_name("todo", names.into_iter()), Some("todos"));
        assert_eq!(closest_name("profile", names.into_iter()), Some("profiles"));
        assert_eq!(closest_name("zzz", names.into_iter()), None);
    }
}
