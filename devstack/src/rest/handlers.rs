//! The HTTP side of `/rest/v1`: one handler for tables and views, one for functions. Each
//! authenticates, negotiates, builds one statement, runs it and shapes the response.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::ast::{CompareOp, Filter, LogicTree, Operation};
use super::error::ApiError;
use super::executor::{self, RequestScope, StatementResult};
use super::preferences::{
    CountPreference, MediaType, Preferences, Resolution, ReturnPreference, negotiate, row_range,
    schema_for,
};
use super::query_params::QueryParams;
use super::response::{Reply, content_range, range_status};
use super::rpc::{self, CallArgs, Payload};
use super::schema_cache::{ReturnKind, SchemaCache, Table};
use super::select_query::SelectBuilder;
use super::table_statements::{self, InsertSpec, Returning};
use crate::gateway::authenticate;
use crate::project::SharedProject;

/// Bodies above this are refused with 413 before any parsing.
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// What every request resolves before its statement is built.
struct Prepared {
    scope: RequestScope,
    media: MediaType,
    prefs: Preferences,
    /// The schema was picked by a profile header, so the response names it.
    profile_negotiated: bool,
    body: Bytes,
    /// PostgREST's `db-aggregates-enabled`.
    aggregates_enabled: bool,
}

async fn prepare(
    project: &SharedProject,
    method: &Method,
    path: String,
    headers: &HeaderMap,
    body: Body,
) -> Result<Prepared, ApiError> {
    let auth = authenticate(headers, &project.config, &project.jwt)
        .map_err(|e| ApiError::from_gateway(&e))?;
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::body_too_large())?;
    let is_read = matches!(*method, Method::GET | Method::HEAD);
    let (schema, profile_negotiated) = schema_for(headers, is_read)?;
    let media = negotiate(headers)?;
    let headers_json: Map<String, Value> = headers
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_owned(),
                Value::String(v.to_str().ok()?.to_owned()),
            ))
        })
        .collect();
    let role = auth.role().to_owned();
    // PostgREST puts the role in use into the claims it exposes.
    let mut claims = auth.claims;
    if let Value::Object(object) = &mut claims {
        object.insert("role".to_owned(), Value::String(role.clone()));
    }
    let prefs = Preferences::from_headers(headers);
    prefs.check_strict()?;
    let cache = project.rest.cache();
    Ok(Prepared {
        scope: RequestScope {
            role_settings: cache.role_settings(&role).to_vec(),
            function_settings: Vec::new(),
            session_settings: cache.role_settings("authenticator").to_vec(),
            role,
            claims,
            method: method.as_str().to_owned(),
            path,
            headers_json: Value::Object(headers_json).to_string(),
            schema,
            read_only: is_read,
            rollback: prefs.rollback(),
        },
        media,
        prefs,
        profile_negotiated,
        body,
        aggregates_enabled: project.rest.aggregates_enabled,
    })
}

pub async fn table(
    State(project): State<SharedProject>,
    Path(table): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let req = prepare(&project, &method, format!("/{table}"), &headers, body).await?;
        let cache = project.rest.cache();
        let Some(target) = cache.table(&req.scope.schema, &table) else {
            return Err(ApiError::table_not_found(&cache, &req.scope.schema, &table));
        };
        let params = QueryParams::parse(uri.query().unwrap_or(""), |_| false)?;
        let reply = match method {
            Method::GET | Method::HEAD => {
                read_table(
                    &project,
                    &cache,
                    target,
                    &params,
                    &req,
                    &headers,
                    method == Method::HEAD,
                )
                .await?
            }
            Method::POST => insert(&project, &cache, target, &params, &req).await?,
            Method::PATCH => update(&project, &cache, target, &params, &req).await?,
            Method::PUT => put(&project, &cache, target, &params, &req).await?,
            Method::DELETE => delete(&project, &cache, target, &params, &req).await?,
            Method::OPTIONS => {
                Reply::new(StatusCode::OK).header("allow", "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE")
            }
            other => return Err(unsupported_method(&other)),
        };
        Ok(finish(reply, &req))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

pub async fn rpc(
    State(project): State<SharedProject>,
    Path(function): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let mut req = prepare(
            &project,
            &method,
            format!("/rpc/{function}"),
            &headers,
            body,
        )
        .await?;
        let cache = project.rest.cache();
        let is_post = match method {
            Method::POST => true,
            Method::GET | Method::HEAD => false,
            Method::OPTIONS => {
                // Volatile functions may write, so only POST (PostgREST's Allow).
                let read_only = cache
                    .functions(&req.scope.schema, &function)
                    .iter()
                    .all(|f| f.volatility != 'v');
                let allow = if read_only {
                    "OPTIONS,GET,HEAD,POST"
                } else {
                    "OPTIONS,POST"
                };
                return Ok(finish(
                    Reply::new(StatusCode::OK).header("allow", allow),
                    &req,
                ));
            }
            other => {
                return Err(ApiError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "PGRST101",
                    format!("Cannot use the {other} method on RPC"),
                    None,
                    None,
                ));
            }
        };
        let overloads = cache.functions(&req.scope.schema, &function);
        let is_param = |name: &str| {
            !is_post
                && overloads
                    .iter()
                    .any(|f| f.params.iter().any(|p| p.name == name))
        };
        let params = QueryParams::parse(uri.query().unwrap_or(""), is_param)?;
        let payload = is_post.then(|| {
            Payload::from_content_type(
                headers.get("content-type").and_then(|v| v.to_str().ok()),
            )
        });
        // The arguments as one JSON object (or the raw body for a single unnamed parameter).
        let (arg_text, keys) = if let Some(raw) = payload.filter(|p| *p != Payload::Json) {
            (raw_argument(raw, &req.body)?, Vec::new())
        } else if is_post {
            let text = std::str::from_utf8(&req.body)
                .map_err(|_| ApiError::invalid_body("Empty or invalid json"))?;
            let text = if text.trim().is_empty() { "{}" } else { text };
            let value: Value = serde_json::from_str(text)
                .map_err(|_| ApiError::invalid_body("Empty or invalid json"))?;
            let keys = match &value {
                Value::Object(o) => o.keys().cloned().collect(),
                _ => Vec::new(),
            };
            (text.to_owned(), keys)
        } else {
            let object: Map<String, Value> = params
                .rpc_args
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let keys = object.keys().cloned().collect();
            (Value::Object(object).to_string(), keys)
        };
        let (chosen, args) = rpc::choose(
            &cache,
            &req.scope.schema,
            &function,
            &keys,
            req.prefs.single_object,
            payload,
        )?;
        if payload == Some(Payload::Json)
            && matches!(args, CallArgs::Named(_))
            && !arg_text.trim_start().starts_with('{')
        {
            return Err(ApiError::invalid_body("Empty or invalid json"));
        }
        if req.prefs.strict() && req.prefs.max_affected.is_some() && !chosen.returns_set {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST128",
                "Function must return SETOF or TABLE when max-affected preference is used with handling=strict",
                None,
                None,
            ));
        }
        req.scope.function_settings = chosen.hoisted_settings.clone();
        let range = row_range(&headers, params.limit(&[]), params.offset(&[]))?;
        let mut builder = SelectBuilder::new(&cache, &params, req.media, req.aggregates_enabled);
        let with_count = req.prefs.count.is_some();
        let sql = rpc::call(
            &cache,
            &mut builder,
            chosen,
            &args,
            &params,
            range,
            with_count,
        )?;
        let returns_rows = chosen.returns == ReturnKind::Rows && chosen.returns_set;
        let singular = req.media.is_single();
        // A call without arguments has no `$1` to bind.
        let bound = match &args {
            CallArgs::Named(keys) if keys.is_empty() => Vec::new(),
            _ => vec![arg_text],
        };
        let result = executor::run(&project.pools, &req.scope, &sql, &bound, |r| {
            check_singular(singular && chosen.returns_set, r)?;
            req.prefs.check_max_affected(r.page_total)
        })
        .await?;
        if chosen.returns == ReturnKind::Void {
            return Ok(finish(Reply::new(StatusCode::NO_CONTENT), &req));
        }
        // Paging applies to set-returning functions; every result gets a Content-Range.
        let offset = if returns_rows { range.offset } else { 0 };
        let status = if returns_rows {
            range_status(offset, result.page_total, result.total)?
        } else {
            StatusCode::OK
        };
        let mut reply = Reply::new(status).header(
            "content-range",
            content_range(offset, result.page_total, result.total),
        );
        reply = reply.header_opt("preference-applied", req.prefs.applied_to_call());
        if method != Method::HEAD {
            let media = if chosen.returns_set
                || req.media == MediaType::Csv
                || req.media.strips_nulls()
            {
                req.media
            } else {
                MediaType::Json
            };
            reply = reply.body(media, result.body.unwrap_or_else(|| "null".to_owned()))?;
        }
        Ok(finish(reply, &req))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// A raw body as the text bound for the function's one parameter: bytes hex-encoded for
/// `bytea`, text as it is (it must be UTF-8).
fn raw_argument(payload: Payload, body: &[u8]) -> Result<String, ApiError> {
    if payload == Payload::Binary {
        return Ok(body.iter().map(|b| format!("{b:02x}")).collect());
    }
    String::from_utf8(body.to_vec()).map_err(|_| ApiError::invalid_body("Empty or invalid json"))
}

pub async fn invalid_path() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "PGRST125",
        "Invalid path specified in request URL",
        None,
        None,
    )
    .into_response()
}

fn unsupported_method(method: &Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "PGRST117",
        format!("Unsupported HTTP method: {method}"),
        None,
        None,
    )
}

fn finish(reply: Reply, req: &Prepared) -> Response {
    let reply = if req.profile_negotiated {
        reply.header("content-profile", req.scope.schema.clone())
    } else {
        reply
    };
    reply.into_response()
}

/// `Accept: application/vnd.pgrst.object+json` needs exactly one row; otherwise PGRST116,
/// and a mutation is rolled back.
fn check_singular(singular: bool, result: &StatementResult) -> Result<(), ApiError> {
    if singular && result.page_total != 1 {
        return Err(ApiError::singular(result.page_total));
    }
    Ok(())
}

async fn read_table(
    project: &SharedProject,
    cache: &SchemaCache,
    table: &Table,
    params: &QueryParams,
    req: &Prepared,
    headers: &HeaderMap,
    head: bool,
) -> Result<Reply, ApiError> {
    let range = row_range(headers, params.limit(&[]), params.offset(&[]))?;
    let count = req.prefs.count;
    let exact = matches!(
        count,
        Some(CountPreference::Exact | CountPreference::Estimated)
    );
    let planned = matches!(
        count,
        Some(CountPreference::Planned | CountPreference::Estimated)
    );
    let mut builder = SelectBuilder::new(cache, params, req.media, req.aggregates_enabled);
    let (sql, explain) = table_statements::read(&mut builder, table, params, range, exact, !head)?;
    let singular = req.media.is_single();
    let result = executor::run_estimated(
        &project.pools,
        &req.scope,
        planned.then_some(explain.as_str()),
        &sql,
        &[],
        |r| check_singular(singular, r),
    )
    .await?;
    // PostgREST's totals: the planner's for `planned`; for `estimated` the larger of the
    // exact count and the planner's (devstack has no `db-max-rows` below which it is exact).
    let total = match count {
        Some(CountPreference::Planned) => result.estimate,
        Some(CountPreference::Estimated) => result.total.max(result.estimate),
        _ => result.total,
    };
    let status = range_status(range.offset, result.page_total, total)?;
    let mut reply = Reply::new(status)
        .header(
            "content-range",
            content_range(range.offset, result.page_total, total),
        )
        .header_opt("preference-applied", req.prefs.applied_to_read());
    if !head {
        reply = reply.body(req.media, result.body.unwrap_or_else(|| "[]".to_owned()))?;
    }
    Ok(reply)
}

/// The request body as a list of objects (an object is a list of one) and its keys, which
/// every object must share (PGRST102 otherwise) unless `columns=` names the columns.
fn body_rows(body: &[u8], uniform_keys: bool) -> Result<(String, Vec<String>, bool), ApiError> {
    let invalid = || ApiError::invalid_body("Empty or invalid json");
    let value: Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    let (rows, was_array) = match value {
        Value::Array(rows) => (rows, true),
        object @ Value::Object(_) => (vec![object], false),
        _ => return Err(invalid()),
    };
    let mut keys: Option<Vec<String>> = None;
    for row in &rows {
        let Value::Object(object) = row else {
            return Err(invalid());
        };
        let mut these: Vec<String> = object.keys().cloned().collect();
        these.sort();
        match &keys {
            None => keys = Some(these),
            Some(k) if uniform_keys && *k != these => {
                return Err(ApiError::invalid_body("All object keys must match"));
            }
            Some(_) => {}
        }
    }
    Ok((
        Value::Array(rows).to_string(),
        keys.unwrap_or_default(),
        was_array,
    ))
}

/// The columns a write sets: `columns=` when given, else the body's keys; each must exist.
fn write_columns(
    table: &Table,
    params: &QueryParams,
    body_keys: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let columns = params.columns.clone().unwrap_or(body_keys);
    if let Some(missing) = columns.iter().find(|c| table.column(c).is_none()) {
        return Err(ApiError::column_not_found(&table.name, missing));
    }
    Ok(columns)
}

fn returning_for(prefs: &Preferences) -> Returning {
    match prefs.return_ {
        Some(ReturnPreference::Representation) => Returning::Rows,
        Some(ReturnPreference::HeadersOnly) => Returning::Location,
        _ => Returning::Count,
    }
}

/// The mutation's rows count for `Content-Range` when a count was asked for.
fn mutation_total(req: &Prepared, result: &StatementResult) -> Option<i64> {
    req.prefs.count.map(|_| result.page_total)
}

async fn insert(
    project: &SharedProject,
    cache: &SchemaCache,
    table: &Table,
    params: &QueryParams,
    req: &Prepared,
) -> Result<Reply, ApiError> {
    let (rows_json, keys, _) = body_rows(&req.body, params.columns.is_none())?;
    let columns = write_columns(table, params, keys)?;
    let conflict_keys = match &params.on_conflict {
        Some(cols) => cols.clone(),
        None => table.primary_key.clone(),
    };
    if let Some(missing) = conflict_keys.iter().find(|c| table.column(c).is_none()) {
        return Err(ApiError::column_not_found(&table.name, missing));
    }
    let upsert = match req.prefs.resolution {
        Some(resolution) if !conflict_keys.is_empty() => Some((conflict_keys, resolution)),
        _ => None,
    };
    let resolution_applied = upsert.is_some();
    let spec = InsertSpec {
        columns: &columns,
        missing_default: req.prefs.missing_default(),
        upsert,
    };
    let returning = returning_for(&req.prefs);
    let mut builder = SelectBuilder::new(cache, params, req.media, req.aggregates_enabled);
    let sql = table_statements::insert(&mut builder, table, params, &spec, returning)?;
    let singular = req.media.is_single() && returning == Returning::Rows;
    let result = executor::run(&project.pools, &req.scope, &sql, &[rows_json], |r| {
        check_singular(singular, r)
    })
    .await?;
    let total = mutation_total(req, &result);
    // An upsert that merged every row into an existing one created nothing: 200.
    let status = if result.inserted.is_some_and(|n| n <= 0) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut reply = Reply::new(status)
        .header(
            "content-range",
            format!("*/{}", total.map_or("*".to_owned(), |t| t.to_string())),
        )
        .header_opt(
            "preference-applied",
            req.prefs.applied(resolution_applied, true, false),
        );
    if let Some(location) = result
        .location
        .as_deref()
        .and_then(|l| location_header(&table.name, l))
    {
        reply = reply.header("location", location);
    }
    if returning == Returning::Rows {
        reply = reply.body(req.media, result.body.unwrap_or_else(|| "[]".to_owned()))?;
    }
    Ok(reply)
}

/// PUT: replace (or create) the one row the URL names by its whole primary key.
async fn put(
    project: &SharedProject,
    cache: &SchemaCache,
    table: &Table,
    params: &QueryParams,
    req: &Prepared,
) -> Result<Reply, ApiError> {
    if params.limit(&[]).is_some() || params.offset(&[]).is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "PGRST114",
            "limit/offset querystring parameters are not allowed for PUT",
            None,
            None,
        ));
    }
    let url_key = primary_key_filters(table, params).ok_or_else(|| {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "PGRST105",
            "Filters must include all and only primary key columns with 'eq' operators",
            None,
            None,
        )
    })?;
    let (rows_json, keys, was_array) = body_rows(&req.body, true)?;
    let rows: Vec<Value> =
        serde_json::from_str(&rows_json).map_err(|e| ApiError::internal("PUT body", e))?;
    if was_array && rows.len() != 1 {
        return Err(ApiError::invalid_body("Empty or invalid json"));
    }
    let matches_url = url_key.iter().all(|(column, value)| {
        match rows.first().and_then(|row| row.get(column.as_str())) {
            Some(Value::String(s)) => s == value,
            Some(Value::Number(n)) => value.parse::<serde_json::Number>().is_ok_and(|v| v == *n),
            Some(Value::Bool(b)) => value.parse::<bool>().is_ok_and(|v| v == *b),
            _ => false,
        }
    });
    if !matches_url {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "PGRST115",
            "Payload values do not match URL in primary key column(s)",
            None,
            None,
        ));
    }
    let columns = write_columns(table, params, keys)?;
    let spec = InsertSpec {
        columns: &columns,
        missing_default: false,
        upsert: Some((table.primary_key.clone(), Resolution::MergeDuplicates)),
    };
    let returning = returning_for(&req.prefs);
    let mut builder = SelectBuilder::new(cache, params, req.media, req.aggregates_enabled);
    let sql = table_statements::insert(&mut builder, table, params, &spec, returning)?;
    let result = executor::run(&project.pools, &req.scope, &sql, &[rows_json], |_| Ok(())).await?;
    let mut reply = Reply::new(if returning == Returning::Rows {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    })
    .header_opt("preference-applied", req.prefs.applied(false, false, false));
    if returning == Returning::Rows {
        reply = reply.body(req.media, result.body.unwrap_or_else(|| "[]".to_owned()))?;
    }
    Ok(reply)
}

/// The URL's `pk=eq.value` filters when they name exactly the primary key, and nothing else.
fn primary_key_filters(table: &Table, params: &QueryParams) -> Option<Vec<(String, String)>> {
    let mut found = Vec::new();
    for (path, tree) in &params.filters {
        let LogicTree::Leaf(Filter {
            field,
            negated: false,
            operation: Operation::Compare(CompareOp::Eq, value),
        }) = tree
        else {
            return None;
        };
        if !path.is_empty() || !field.json_path.is_empty() {
            return None;
        }
        found.push((field.name.clone(), value.clone()));
    }
    let mut named: Vec<&String> = found.iter().map(|(c, _)| c).collect();
    named.sort();
    let mut key: Vec<&String> = table.primary_key.iter().collect();
    key.sort();
    (!key.is_empty() && named == key).then_some(found)
}

/// `/todos?id=eq.1` from the inserted row's primary key values (a JSON object).
fn location_header(table: &str, pk_json: &str) -> Option<String> {
    let Value::Object(pk) = serde_json::from_str(pk_json).ok()? else {
        return None;
    };
    let pairs: Vec<String> = pk
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{}=eq.{}", url_encode(k), url_encode(&v))
        })
        .collect();
    Some(format!("/{table}?{}", pairs.join("&")))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn update(
    project: &SharedProject,
    cache: &SchemaCache,
    table: &Table,
    params: &QueryParams,
    req: &Prepared,
) -> Result<Reply, ApiError> {
    let (rows_json, keys, was_array) = body_rows(&req.body, params.columns.is_none())?;
    if was_array {
        return Err(ApiError::invalid_body("Empty or invalid json"));
    }
    let columns = write_columns(table, params, keys)?;
    // The single object, not the one-element list `body_rows` made of it.
    let object = rows_json
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or("{}")
        .to_owned();
    let returning = returning_for(&req.prefs);
    let mut builder = SelectBuilder::new(cache, params, req.media, req.aggregates_enabled);
    let sql = table_statements::update(&mut builder, table, params, &columns, returning)?;
    let singular = req.media.is_single() && returning == Returning::Rows;
    let params_sql = if columns.is_empty() {
        vec![]
    } else {
        vec![object]
    };
    let result = executor::run(&project.pools, &req.scope, &sql, &params_sql, |r| {
        check_singular(singular, r)?;
        req.prefs.check_max_affected(r.page_total)
    })
    .await?;
    mutation_reply(req, &result, returning, true)
}

async fn delete(
    project: &SharedProject,
    cache: &SchemaCache,
    table: &Table,
    params: &QueryParams,
    req: &Prepared,
) -> Result<Reply, ApiError> {
    let returning = returning_for(&req.prefs);
    let mut builder = SelectBuilder::new(cache, params, req.media, req.aggregates_enabled);
    let sql = table_statements::delete(&mut builder, table, params, returning)?;
    let singular = req.media.is_single() && returning == Returning::Rows;
    let result = executor::run(&project.pools, &req.scope, &sql, &[], |r| {
        check_singular(singular, r)?;
        req.prefs.check_max_affected(r.page_total)
    })
    .await?;
    mutation_reply(req, &result, returning, false)
}

/// PATCH and DELETE: 200 with the rows for `return=representation`, else 204.
fn mutation_reply(
    req: &Prepared,
    result: &StatementResult,
    returning: Returning,
    ranged: bool,
) -> Result<Reply, ApiError> {
    let total = mutation_total(req, result);
    let range = if ranged {
        content_range(0, result.page_total, total)
    } else {
        format!("*/{}", total.map_or("*".to_owned(), |t| t.to_string()))
    };
    let status = if returning == Returning::Rows {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    };
    let mut reply = Reply::new(status)
        .header("content-range", range)
        .header_opt("preference-applied", req.prefs.applied(false, ranged, true));
    if returning == Returning::Rows {
        reply = reply.body(
            req.media,
            result.body.clone().unwrap_or_else(|| "[]".to_owned()),
        )?;
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_become_row_lists() {
        let (json, keys, array) = body_rows(br#"{"b":1,"a":"x"}"#, true).unwrap();
        assert_eq!(json, r#"[{"a":"x","b":1}]"#);
        assert_eq!(keys, vec!["a", "b"]);
        assert!(!array);
        let (_, keys, array) = body_rows(br#"[{"a":1},{"a":2}]"#, true).unwrap();
        assert_eq!(keys, vec!["a"]);
        assert!(array);
        assert_eq!(body_rows(b"[]", true).unwrap().1, Vec::<String>::new());
        assert_eq!(body_rows(b"{oops", true).unwrap_err().status, 400);
        assert_eq!(body_rows(b"", true).unwrap_err().status, 400);
        assert_eq!(body_rows(b"42", true).unwrap_err().status, 400);
        assert_eq!(
            body_rows(br#"[{"a":1},{"b":2}]"#, true).unwrap_err().status,
            400
        );
        assert!(body_rows(br#"[{"a":1},{"b":2}]"#, false).is_ok());
    }

    #[test]
    fn locations_are_encoded() {
        assert_eq!(
            location_header("todos", r#"{"id":1}"#).unwrap(),
            "/todos?id=eq.1"
        );
        assert_eq!(
            location_header("t", r#"{"k":"a b&c"}"#).unwrap(),
            "/t?k=eq.a%20b%26c"
        );
    }
}
