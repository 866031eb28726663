//! `/rest/v1/rpc/<fn>`: choosing the function from the argument names, PostgREST's way, and
//! the statement that calls it with the arguments converted by Postgres from one JSON object.

use axum::http::StatusCode;

use super::error::ApiError;
use super::preferences::RowRange;
use super::query_params::QueryParams;
use super::schema_cache::{Function, ReturnKind, SchemaCache, closest_name};
use super::select_query::{SelectBuilder, top_level_paging};
use super::sql_text::{ident, qualified};

/// How the request's arguments reach the function.
pub enum CallArgs {
    /// Named arguments, taken from a JSON object by name.
    Named(Vec<String>),
    /// The whole body as the function's single json/jsonb parameter.
    WholeBody,
}

/// The overload whose parameters fit `keys`: every key names a parameter and every
/// parameter without a default is given. A single unnamed json/jsonb parameter (or any single
/// json/jsonb one with `params=single-object`) takes the whole body instead.
pub fn choose<'a>(
    cache: &'a SchemaCache,
    schema: &str,
    name: &str,
    keys: &[String],
    single_object: bool,
    is_post: bool,
) -> Result<(&'a Function, CallArgs), ApiError> {
    let overloads = cache.functions(schema, name);
    let mut named: Vec<&Function> = overloads
        .iter()
        .filter(|f| {
            keys.iter().all(|k| f.params.iter().any(|p| &p.name == k))
                && f.params
                    .iter()
                    .all(|p| p.has_default || keys.contains(&p.name))
        })
        .collect();
    let whole_body: Vec<&Function> = overloads
        .iter()
        .filter(|f| {
            is_post
                && f.params.len() == 1
                && matches!(f.params[0].type_sql.as_str(), "json" | "jsonb")
                && (f.params[0].name.is_empty() || single_object)
        })
        .collect();
    if (single_object || named.is_empty())
        && let [f] = whole_body.as_slice()
    {
        return Ok((f, CallArgs::WholeBody));
    }
    match named.len() {
        1 => Ok((named.pop().expect("one"), CallArgs::Named(keys.to_vec()))),
        0 => Err(not_found(cache, schema, name, keys, is_post)),
        _ => Err(ApiError::new(
            StatusCode::MULTIPLE_CHOICES,
            "PGRST203",
            format!(
                "Could not choose the best candidate function between: {}",
                named
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
        )),
    }
}

fn not_found(
    cache: &SchemaCache,
    schema: &str,
    name: &str,
    keys: &[String],
    is_post: bool,
) -> ApiError {
    let mut sorted = keys.to_vec();
    sorted.sort();
    let listed = sorted.join(", ");
    let in_message = if keys.is_empty() {
        " without parameters".to_owned()
    } else {
        format!("({listed})")
    };
    let with = if keys.is_empty() {
        " without parameters".to_owned()
    } else if keys.len() == 1 {
        format!(" with parameter {listed}")
    } else {
        format!(" with parameters {listed}")
    };
    let alternative = if is_post {
        " or with a single unnamed json/jsonb parameter"
    } else {
        ""
    };
    let overloads = cache.functions(schema, name);
    let hint = if overloads.is_empty() {
        closest_name(name, cache.function_names(schema))
            .map(|f| format!("Perhaps you meant to call the function {schema}.{f}"))
    } else {
        overloads.first().map(|f| {
            let mut names: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
            names.sort();
            format!(
                "Perhaps you meant to call the function {schema}.{name}({})",
                names.join(", ")
            )
        })
    };
    ApiError::new(
        StatusCode::NOT_FOUND,
        "PGRST202",
        format!("Could not find the function {schema}.{name}{in_message} in the schema cache"),
        Some(&format!(
            "Searched for the function {schema}.{name}{with}{alternative}, but no matches were found in the schema cache."
        )),
        hint.as_deref(),
    )
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
            let body = if function.returns_set {
                "coalesce(json_agg(_pgrst_t), '[]')::text"
            } else {
                "coalesce(json_agg(_pgrst_t)->0, 'null')::text"
            };
            Ok(format!(
                "SELECT {total}, pg_catalog.count(*)::bigint, {body}, NULL::text \
                 FROM (SELECT {list} FROM {from} WHERE {conditions}{paging}) _pgrst_t"
            ))
        }
        (ReturnKind::Scalar, true) => Ok(format!(
            "SELECT NULL::bigint, pg_catalog.count(*)::bigint, \
             coalesce(json_agg(_pgrst_v.v), '[]')::text, NULL::text FROM {}",
            source("_pgrst_v(v)")
        )),
        (ReturnKind::Scalar, false) => Ok(format!(
            "SELECT NULL::bigint, 1::bigint, coalesce(to_json(_pgrst_v.v)::text, 'null'), NULL::text FROM {}",
            source("_pgrst_v(v)")
        )),
        (ReturnKind::Void, _) => Ok(format!(
            "SELECT NULL::bigint, pg_catalog.count(*)::bigint, NULL::text, NULL::text FROM {}",
            source("_pgrst_v")
        )),
    }
}
