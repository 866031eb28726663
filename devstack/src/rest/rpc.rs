//! `/rest/v1/rpc/<fn>`: choosing the function from the argument names, PostgREST's way, and
//! the statement that calls it with the arguments converted by Postgres from one JSON object.

use axum::http::StatusCode;

use super::error::ApiError;
use super::preferences::RowRange;
use super::query_params::QueryParams;
use super::schema_cache::{Function, ReturnKind, SchemaCache, closest_name, closest_within};
use super::select_query::{SelectBuilder, top_level_paging};
use super::sql_text::{ident, qualified};

/// How the request's arguments reach the function.
#[derive(Debug)]
pub enum CallArgs {
    /// Named arguments, taken from a JSON object by name.
    Named(Vec<String>),
    /// The whole body as the function's one parameter: its single unnamed one, or its
    /// single json/jsonb one with `params=single-object`.
    WholeBody,
}

/// What a POST body is, by its `Content-Type`: besides JSON, the raw bodies PostgREST passes
/// to a function's single unnamed parameter of the matching type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    Json,
    /// `text/plain`, for a `text` parameter.
    Text,
    /// `text/xml`, for an `xml` parameter.
    Xml,
    /// `application/octet-stream`, for a `bytea` parameter.
    Binary,
}

impl Payload {
    pub fn from_content_type(content_type: Option<&str>) -> Self {
        let essence = content_type
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some("text/plain") => Self::Text,
            Some("text/xml") => Self::Xml,
            Some("application/octet-stream") => Self::Binary,
            _ => Self::Json,
        }
    }

    /// Whether a single unnamed parameter of `type_sql` takes this body.
    fn fits(self, type_sql: &str) -> bool {
        matches!(
            (self, type_sql),
            (Self::Json, "json" | "jsonb")
                | (Self::Text, "text")
                | (Self::Xml, "xml")
                | (Self::Binary, "bytea")
        )
    }

    fn is_raw(self) -> bool {
        self != Self::Json
    }
}

/// The overload to call, as PostgREST's `findProc` picks it: the one whose parameters fit
/// `keys` (every key names a parameter and every parameter without a default is given);
/// failing that, on POST, the one with a single unnamed parameter whose type fits the body.
/// Overloads are tried fewest parameters first, PostgREST's order, which is also the order
/// PGRST203 lists them in. `params=single-object` sends the whole body to a single json one.
pub fn choose<'a>(
    cache: &'a SchemaCache,
    schema: &str,
    name: &str,
    keys: &[String],
    single_object: bool,
    post: Option<Payload>,
) -> Result<(&'a Function, CallArgs), ApiError> {
    let overloads = cache.functions(schema, name);
    let raw = post.is_some_and(Payload::is_raw);
    let named: Vec<&Function> = overloads
        .iter()
        .filter(|f| {
            if f.params.is_empty() {
                return keys.is_empty() && !raw;
            }
            keys.iter().all(|k| f.params.iter().any(|p| &p.name == k))
                && f.params
                    .iter()
                    .all(|p| p.has_default || keys.contains(&p.name))
        })
        .collect();
    let fallback: Vec<&Function> = overloads
        .iter()
        .filter(|f| match (post, f.params.as_slice()) {
            (Some(payload), [p]) => p.name.is_empty() && payload.fits(&p.type_sql),
            _ => false,
        })
        .collect();
    if single_object
        && post == Some(Payload::Json)
        && let [f] = overloads
            .iter()
            .filter(|f| matches!(f.params.as_slice(), [p] if Payload::Json.fits(&p.type_sql)))
            .collect::<Vec<_>>()
            .as_slice()
    {
        return Ok((f, CallArgs::WholeBody));
    }
    let chosen = match (named.as_slice(), fallback.as_slice()) {
        ([], []) => return Err(not_found(cache, schema, name, keys, post)),
        ([f], _) | ([], [f]) => *f,
        (many, _) if !many.is_empty() => return Err(ambiguous(many)),
        (_, many) => return Err(ambiguous(many)),
    };
    let args = match chosen.params.as_slice() {
        [p] if p.name.is_empty() => CallArgs::WholeBody,
        _ => CallArgs::Named(keys.to_vec()),
    };
    Ok((chosen, args))
}

fn ambiguous(candidates: &[&Function]) -> ApiError {
    ApiError::new(
        StatusCode::MULTIPLE_CHOICES,
        "PGRST203",
        format!(
            "Could not choose the best candidate function between: {}",
            candidates
                .iter()
                .map(|f| format!(
                    "{}.{}({})",
                    f.schema,
                    f.name,
                    f.params
                        .iter()
                        .map(|p| format!("{} => {}", p.name, p.type_sql))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None,
        Some(
            "Try renaming the parameters or the function itself in the database so function overloading can be resolved",
        ),
    )
}

fn not_found(
    cache: &SchemaCache,
    schema: &str,
    name: &str,
    keys: &[String],
    post: Option<Payload>,
) -> ApiError {
    let mut sorted = keys.to_vec();
    sorted.sort();
    let listed = sorted.join(", ");
    let with = if keys.is_empty() {
        " without parameters".to_owned()
    } else if keys.len() == 1 {
        format!(" with parameter {listed}")
    } else {
        format!(" with parameters {listed}")
    };
    // A raw body names no parameters: the message and details say which one was looked for.
    let (in_message, searched, hint) = match post {
        Some(Payload::Text) => (
            String::new(),
            " with a single unnamed text parameter".to_owned(),
            None,
        ),
        Some(Payload::Xml) => (
            String::new(),
            " with a single unnamed xml parameter".to_owned(),
            None,
        ),
        Some(Payload::Binary) => (
            String::new(),
            " with a single unnamed bytea parameter".to_owned(),
            None,
        ),
        json_or_get => (
            if keys.is_empty() {
                " without parameters".to_owned()
            } else {
                format!("({listed})")
            },
            if json_or_get.is_some() {
                format!("{with} or with a single unnamed json/jsonb parameter")
            } else {
                with
            },
            perhaps(cache, schema, name, &listed),
        ),
    };
    ApiError::new(
        StatusCode::NOT_FOUND,
        "PGRST202",
        format!("Could not find the function {schema}.{name}{in_message} in the schema cache"),
        Some(&format!(
            "Searched for the function {schema}.{name}{searched}, but no matches were found in the schema cache."
        )),
        hint.as_deref(),
    )
}

/// PGRST202's hint: a function of a close name when none has this one, else the overload
/// whose (sorted) parameter names are closest to the ones given.
fn perhaps(cache: &SchemaCache, schema: &str, name: &str, listed: &str) -> Option<String> {
    let overloads = cache.functions(schema, name);
    let suggestion = if overloads.is_empty() {
        closest_name(name, cache.function_names(schema))?.to_owned()
    } else {
        let signatures: Vec<String> = overloads
            .iter()
            .map(|f| {
                let mut names: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
                names.sort();
                format!("({})", names.join(", "))
            })
            .collect();
        let given = format!("({listed})");
        let best = closest_within(&given, signatures.iter().map(String::as_str), 0.33)?;
        format!("{name}{best}")
    };
    Some(format!(
        "Perhaps you meant to call the function {schema}.{suggestion}"
    ))
}

/// The call statement. `$1` is the JSON argument object (or the whole body).
pub fn call(
    cache: &SchemaCache,
    builder: &mut SelectBuilder,
    function: &Function,
    args: &CallArgs,
    params: &QueryParams,
    range: RowRange,
    with_count: bool,
) -> Result<String, ApiError> {
    let (from_args, call_args) = match args {
        // A bytea body arrives hex-encoded (the parameters are text); any other as its text.
        CallArgs::WholeBody if function.params[0].type_sql == "bytea" => {
            (None, "pg_catalog.decode($1, 'hex')".to_owned())
        }
        CallArgs::WholeBody => (None, format!("$1::text::{}", function.params[0].type_sql)),
        CallArgs::Named(keys) if keys.is_empty() => (None, String::new()),
        CallArgs::Named(keys) => {
            let chosen: Vec<_> = function
                .params
                .iter()
                .filter(|p| keys.contains(&p.name))
                .collect();
            let definitions: Vec<String> = chosen
                .iter()
                .map(|p| format!("{} {}", ident(&p.name), p.type_sql))
                .collect();
            let passed: Vec<String> = chosen
                .iter()
                .map(|p| {
                    format!(
                        "{}{} => _pgrst_args.{}",
                        if p.variadic { "VARIADIC " } else { "" },
                        ident(&p.name),
                        ident(&p.name)
                    )
                })
                .collect();
            (
                Some(format!(
                    "json_to_record($1::text::json) AS _pgrst_args({})",
                    definitions.join(", ")
                )),
                passed.join(", "),
            )
        }
    };
    let call = format!(
        "{}({call_args})",
        qualified(&function.schema, &function.name)
    );
    let source = |alias: &str| match &from_args {
        Some(args) => format!("{args} CROSS JOIN LATERAL {call} AS {alias}"),
        None => format!("{call} AS {alias}"),
    };
    let root = Vec::new();
    match (function.returns, function.returns_set) {
        (ReturnKind::Rows, _) => {
            let reference = ident(&function.name);
            let table = function
                .returns_table
                .as_ref()
                .and_then(|(schema, name)| cache.table(schema, name));
            let list = builder.select_list(table, &reference, &params.select, &root)?;
            let conditions = builder.conditions(table, &reference, &params.select, &root)?;
            builder.check_embed_paths()?;
            let paging = top_level_paging(params, &reference, range);
            let from = source(&reference);
            let total = if with_count {
                format!("(SELECT pg_catalog.count(*) FROM {from} WHERE {conditions})")
            } else {
                "NULL::bigint".to_owned()
            };
            let body = builder.rows_body(if function.returns_set {
                "coalesce(json_agg(_pgrst_t), '[]')::text"
            } else {
                "coalesce(json_agg(_pgrst_t)->0, 'null')::text"
            });
            Ok(format!(
                "SELECT {total}, pg_catalog.count(*)::bigint, {body}, NULL::text \
                 FROM (SELECT {} FROM {from}{} WHERE {conditions}{}{paging}) _pgrst_t",
                list.columns, list.joins, list.group_by
            ))
        }
        (ReturnKind::Scalar, true) => Ok(format!(
            "SELECT NULL::bigint, pg_catalog.count(*)::bigint, \
             coalesce(json_agg(_pgrst_v.v), '[]')::text, NULL::text FROM {}",
            source("_pgrst_v(v)")
        )),
        // A single value counts as one row, as PostgREST counts it.
        (ReturnKind::Scalar, false) => Ok(format!(
            "SELECT {}, 1::bigint, coalesce(to_json(_pgrst_v.v)::text, 'null'), NULL::text FROM {}",
            if with_count {
                "1::bigint"
            } else {
                "NULL::bigint"
            },
            source("_pgrst_v(v)")
        )),
        (ReturnKind::Void, _) => Ok(format!(
            "SELECT NULL::bigint, pg_catalog.count(*)::bigint, NULL::text, NULL::text FROM {}",
            source("_pgrst_v")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::schema_cache::FunctionParam;

    fn function(name: &str, params: &[(&str, &str, bool)]) -> Function {
        Function {
            schema: "public".into(),
            name: name.into(),
            params: params
                .iter()
                .map(|(name, type_sql, has_default)| FunctionParam {
                    name: (*name).into(),
                    type_sql: (*type_sql).into(),
                    has_default: *has_default,
                    variadic: false,
                    row_of: None,
                })
                .collect(),
            returns_set: false,
            returns: ReturnKind::Scalar,
            returns_table: None,
            single_row: false,
            volatility: 'i',
            hoisted_settings: Vec::new(),
        }
    }

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn a_single_unnamed_parameter_takes_the_body_whose_type_fits() {
        let cache = SchemaCache::with_functions(vec![
            function("f", &[("", "text", false)]),
            function("f", &[("", "json", false)]),
            function("b", &[("", "bytea", false)]),
        ]);
        let pick = |name: &str, keys: &[String], post| {
            choose(&cache, "public", name, keys, false, post).map(|(f, args)| {
                (
                    f.params[0].type_sql.clone(),
                    matches!(args, CallArgs::WholeBody),
                )
            })
        };
        assert_eq!(
            pick("f", &[], Some(Payload::Text)).unwrap(),
            ("text".into(), true)
        );
        assert_eq!(
            pick("f", &keys(&["a"]), Some(Payload::Json)).unwrap(),
            ("json".into(), true)
        );
        assert_eq!(
            pick("b", &[], Some(Payload::Binary)).unwrap(),
            ("bytea".into(), true)
        );
        let err = pick("b", &[], Some(Payload::Xml)).unwrap_err();
        assert_eq!(err.status, 404);
        assert_eq!(
            err.body()["details"],
            "Searched for the function public.b with a single unnamed xml parameter, but no matches were found in the schema cache."
        );
        assert_eq!(
            err.body()["message"],
            "Could not find the function public.b in the schema cache"
        );
        // Not on GET: there is no body.
        assert_eq!(pick("f", &[], None).unwrap_err().status, 404);
    }

    #[test]
    fn overloads_are_listed_fewest_parameters_first() {
        let cache = SchemaCache::with_functions(vec![
            function("g", &[("a", "integer", false), ("b", "integer", true)]),
            function("g", &[("a", "text", false)]),
            function("g", &[("a", "integer", false)]),
        ]);
        let json = Some(Payload::Json);
        let err = choose(&cache, "public", "g", &keys(&["a"]), false, json).unwrap_err();
        assert_eq!(
            err.body()["message"],
            "Could not choose the best candidate function between: public.g(a => integer), public.g(a => text), public.g(a => integer, b => integer)"
        );
        let (two, _) = choose(&cache, "public", "g", &keys(&["a", "b"]), false, json).unwrap();
        assert_eq!(two.params.len(), 2);
    }

    #[test]
    fn the_not_found_hint_names_the_closest_parameters() {
        let cache = SchemaCache::with_functions(vec![
            function(
                "h",
                &[("alpha", "integer", false), ("beta", "integer", false)],
            ),
            function("h", &[("gamma", "integer", false)]),
        ]);
        let given = keys(&["betta", "alpha"]);
        let err = choose(&cache, "public", "h", &given, false, Some(Payload::Json)).unwrap_err();
        assert_eq!(
            err.body()["hint"],
            "Perhaps you meant to call the function public.h(alpha, beta)"
        );
        assert_eq!(
            err.body()["message"],
            "Could not find the function public.h(alpha, betta) in the schema cache"
        );
    }

    #[test]
    fn content_types_pick_the_payload() {
        let payload = |t| Payload::from_content_type(Some(t));
        assert_eq!(payload("text/plain; charset=utf-8"), Payload::Text);
        assert_eq!(payload("TEXT/XML"), Payload::Xml);
        assert_eq!(payload("application/octet-stream"), Payload::Binary);
        assert_eq!(payload("application/json"), Payload::Json);
        assert_eq!(Payload::from_content_type(None), Payload::Json);
    }
}
