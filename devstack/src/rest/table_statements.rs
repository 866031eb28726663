//! The statements for `/rest/v1/<table>`: read (GET/HEAD), insert/upsert (POST), update
//! (PATCH) and delete (DELETE). Each yields one row of `(total, page_total, body, location)`.
//! Request bodies are bound as one text parameter (`$1`) and turned into rows by Postgres
//! with the table's own row type, so every column gets its own type's input rules.

use super::ast::SelectItem;
use super::conditions::order_sql;
use super::error::ApiError;
use super::preferences::{Resolution, RowRange};
use super::query_params::QueryParams;
use super::schema_cache::Table;
use super::select_query::{SelectBuilder, SelectList, top_level_paging};
use super::sql_text::{ident, literal, qualified};

/// What a mutation gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returning {
    /// Only the number of affected rows (`return=minimal`): no SELECT privilege needed.
    Count,
    /// The primary key, for the `Location` header.
    Location,
    /// The rows, through the select list.
    Rows,
}

pub fn read(
    builder: &mut SelectBuilder,
    table: &Table,
    params: &QueryParams,
    range: RowRange,
    with_count: bool,
    with_body: bool,
) -> Result<(String, String), ApiError> {
    let reference = qualified(&table.schema, &table.name);
    let root = Vec::new();
    let list = builder.select_list(Some(table), &reference, &params.select, &root)?;
    let conditions = builder.conditions(Some(table), &reference, &params.select, &root)?;
    builder.check_embed_paths()?;
    let paging = top_level_paging(params, &reference, range);
    let total = if with_count {
        format!("(SELECT pg_catalog.count(*) FROM {reference} WHERE {conditions})")
    } else {
        "NULL::bigint".to_owned()
    };
    let body = if with_body {
        builder.rows_body("coalesce(json_agg(_pgrst_t), '[]')::text")
    } else {
        "NULL::text".to_owned()
    };
    // What PostgREST asks the planner for `count=planned|estimated`: its count query.
    let explain = format!("EXPLAIN (FORMAT JSON) SELECT 1 FROM {reference} WHERE {conditions}");
    Ok((
        format!(
            "SELECT {total}, pg_catalog.count(*)::bigint, {body}, NULL::text \
             FROM (SELECT {} FROM {reference}{} WHERE {conditions}{}{paging}) _pgrst_t",
            list.columns, list.joins, list.group_by
        ),
        explain,
    ))
}

/// What an INSERT needs besides the table.
pub struct InsertSpec<'a> {
    pub columns: &'a [String],
    pub missing_default: bool,
    /// `ON CONFLICT (cols)` and what to do, when upserting.
    pub upsert: Option<(Vec<String>, Resolution)>,
}

pub fn insert(
    builder: &mut SelectBuilder,
    table: &Table,
    params: &QueryParams,
    spec: &InsertSpec,
    returning: Returning,
) -> Result<String, ApiError> {
    let target = qualified(&table.schema, &table.name);
    let column_list: Vec<String> = spec.columns.iter().map(|c| ident(c)).collect();
    let values: Vec<String> = spec
        .columns
        .iter()
        .map(|c| {
            let value = format!("_pgrst_r.{}", ident(c));
            if !spec.missing_default {
                return value;
            }
            let default = table
                .column(c)
                .and_then(|col| col.default.clone())
                .unwrap_or_else(|| "NULL".to_owned());
            format!(
                "CASE WHEN _pgrst_j.j::jsonb ? {} THEN {value} ELSE {default} END",
                literal(c)
            )
        })
        .collect();
    // A merging upsert counts the rows it inserts as PostgREST does: each row offered adds
    // one to `pgrst.inserted`, each that turns into an update takes it back, so the response
    // can tell an upsert that only updated (200) from one that created (201).
    let merging = matches!(spec.upsert, Some((_, Resolution::MergeDuplicates)));
    let offered = if merging {
        format!(" WHERE {}", count_inserted('+', "0"))
    } else {
        String::new()
    };
    let on_conflict = match &spec.upsert {
        None => String::new(),
        Some((keys, resolution)) => {
            let keys: Vec<String> = keys.iter().map(|k| ident(k)).collect();
            let updates: Vec<String> = spec
                .columns
                .iter()
                .map(|c| format!("{} = EXCLUDED.{}", ident(c), ident(c)))
                .collect();
            if *resolution == Resolution::IgnoreDuplicates || updates.is_empty() {
                format!(" ON CONFLICT ({}) DO NOTHING", keys.join(", "))
            } else {
                format!(
                    " ON CONFLICT ({}) DO UPDATE SET {} WHERE {}",
                    keys.join(", "),
                    updates.join(", "),
                    count_inserted('-', "-1")
                )
            }
        }
    };
    let columns_sql = if column_list.is_empty() {
        String::new()
    } else {
        format!(" ({})", column_list.join(", "))
    };
    let mutation = format!(
        "INSERT INTO {target}{columns_sql} SELECT {} \
         FROM json_array_elements($1::text::json) AS _pgrst_j(j) \
         CROSS JOIN LATERAL json_populate_record(NULL::{target}, _pgrst_j.j) AS _pgrst_r\
         {offered}{on_conflict} RETURNING {}",
        values.join(", "),
        returning_sql(&target, table, params, returning)
    );
    mutation_result(builder, table, params, &mutation, returning, merging)
}

/// The rows a merging upsert inserted, read after it ran (a fifth result column).
const INSERTED_COUNT: &str = "nullif(current_setting('pgrst.inserted', true), '')::int";

/// A condition that is always true and moves `pgrst.inserted` by one (`+` or `-`); `never`
/// is the value the setting cannot take after the move.
fn count_inserted(direction: char, never: &str) -> String {
    format!(
        "set_config('pgrst.inserted', (coalesce({INSERTED_COUNT}, 0) {direction} 1)::text, true) <> '{never}'"
    )
}

pub fn update(
    builder: &mut SelectBuilder,
    table: &Table,
    params: &QueryParams,
    columns: &[String],
    returning: Returning,
) -> Result<String, ApiError> {
    let target = qualified(&table.schema, &table.name);
    let conditions = builder.conditions(Some(table), &target, &[], &Vec::new())?;
    let mutation = if columns.is_empty() {
        // Nothing to set: PostgREST changes nothing and reports nothing.
        format!("SELECT {target}.* FROM {target} WHERE FALSE")
    } else {
        let sets: Vec<String> = columns
            .iter()
            .map(|c| format!("{} = _pgrst_r.{}", ident(c), ident(c)))
            .collect();
        format!(
            "UPDATE {target} SET {} \
             FROM (SELECT * FROM json_populate_record(NULL::{target}, $1::text::json)) AS _pgrst_r \
             WHERE {conditions} RETURNING {}",
            sets.join(", "),
            returning_sql(&target, table, params, returning)
        )
    };
    mutation_result(builder, table, params, &mutation, returning, false)
}

pub fn delete(
    builder: &mut SelectBuilder,
    table: &Table,
    params: &QueryParams,
    returning: Returning,
) -> Result<String, ApiError> {
    let target = qualified(&table.schema, &table.name);
    let conditions = builder.conditions(Some(table), &target, &[], &Vec::new())?;
    let mutation = format!(
        "DELETE FROM {target} WHERE {conditions} RETURNING {}",
        returning_sql(&target, table, params, returning)
    );
    mutation_result(builder, table, params, &mutation, returning, false)
}

/// What a mutation returns: only the columns the response reads (the selected and ordered
/// columns plus the primary key), as PostgREST does, so a role that may read just some of a
/// table's columns can still write with `return=representation`.
fn returning_sql(
    target: &str,
    table: &Table,
    params: &QueryParams,
    returning: Returning,
) -> String {
    let columns: Vec<&str> = match returning {
        Returning::Count => return "1".to_owned(),
        Returning::Location => table.primary_key.iter().map(String::as_str).collect(),
        Returning::Rows => {
            let needs_all = params.select.is_empty()
                || params.select.iter().any(|item| match item {
                    SelectItem::Star | SelectItem::Embed(_) => true,
                    // `count()` counts the rows whatever their columns.
                    SelectItem::Column { field, .. } => field.name == "*",
                });
            if needs_all {
                return format!("{target}.*");
            }
            let selected = params.select.iter().filter_map(|item| match item {
                SelectItem::Column { field, .. } => Some(field.name.as_str()),
                _ => None,
            });
            let ordered = params
                .order(&[])
                .unwrap_or_default()
                .iter()
                .map(|t| t.field.name.as_str());
            let keys = table.primary_key.iter().map(String::as_str);
            let mut columns: Vec<&str> = Vec::new();
            for column in selected.chain(ordered).chain(keys) {
                if !columns.contains(&column) {
                    columns.push(column);
                }
            }
            columns
        }
    };
    if columns.is_empty() {
        return "1".to_owned();
    }
    columns
        .iter()
        .map(|c| format!("{target}.{}", ident(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Wraps a mutation in the statement every response reads; `inserted` adds the count of a
/// merging upsert's inserted rows.
fn mutation_result(
    builder: &mut SelectBuilder,
    table: &Table,
    params: &QueryParams,
    mutation: &str,
    returning: Returning,
    inserted: bool,
) -> Result<String, ApiError> {
    let reference = ident(&table.name);
    let (list, body) = match returning {
        Returning::Rows => (
            builder.select_list(Some(table), &reference, &params.select, &Vec::new())?,
            builder.rows_body("coalesce(json_agg(_pgrst_t), '[]')::text"),
        ),
        Returning::Location => (
            SelectList::plain(format!("{reference}.*")),
            "NULL::text".to_owned(),
        ),
        Returning::Count => (SelectList::plain("1".to_owned()), "NULL::text".to_owned()),
    };
    let location = if returning == Returning::Location && !table.primary_key.is_empty() {
        let pairs: Vec<String> = table
            .primary_key
            .iter()
            .map(|c| format!("{}, {reference}.{}", literal(c), ident(c)))
            .collect();
        format!(
            "(SELECT json_build_object({})::text FROM pgrst_mutation AS {reference} LIMIT 1)",
            pairs.join(", ")
        )
    } else {
        "NULL::text".to_owned()
    };
    // `order` shapes the returned representation, as PostgREST applies it.
    let order = match params.order(&[]) {
        Some(terms) if returning == Returning::Rows => {
            format!(" ORDER BY {}", order_sql(&reference, terms))
        }
        _ => String::new(),
    };
    Ok(format!(
        "WITH pgrst_mutation AS ({mutation}) \
         SELECT NULL::bigint, pg_catalog.count(*)::bigint, {body}, {location}{inserted} \
         FROM (SELECT {columns} FROM pgrst_mutation AS {reference}{joins}{group_by}{order}) _pgrst_t",
        columns = list.columns,
        joins = list.joins,
        group_by = list.group_by,
        inserted = if inserted {
            format!(", {INSERTED_COUNT}")
        } else {
            String::new()
        }
    ))
}
