//! Runs one statement the way PostgREST does: a transaction on the `authenticator` pool,
//! the role and request settings set locally, then commit — or rollback on any error, when
//! the response turns out unacceptable (a singular request that matched several rows, more
//! rows than a strict `max-affected`) or when the client asked for it (`tx=rollback`). Every
//! wait is bounded: for a connection (PGRST003), and for the transaction (the statement timeout
//! in effect, as Postgres would cancel it, even when Postgres cannot answer at all).

use std::time::Duration;

use axum::http::StatusCode;
use deadpool_postgres::{PoolError, TimeoutType};
use serde_json::Value;
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

use super::error::ApiError;
use super::statement_timeout::{self, CLIENT_GRACE};
use crate::db::{POOL_WAIT, Pools};

/// Who is asking, and about what: what `request.*` settings expose to SQL.
pub struct RequestScope {
    pub role: String,
    /// The JWT claims, with `role` set to the role in use, as PostgREST sets them.
    pub claims: Value,
    pub method: String,
    pub path: String,
    pub headers_json: String,
    pub schema: String,
    pub read_only: bool,
    /// `Prefer: tx=rollback`: the statement runs, its answer is sent, nothing is kept.
    pub rollback: bool,
    /// The role's own settings (`ALTER ROLE … SET`), set locally before the role itself, as
    /// PostgREST sets an impersonated role's settings.
    pub role_settings: Vec<(String, String)>,
    /// The called function's hoisted settings (its `SET statement_timeout`), set last.
    pub function_settings: Vec<(String, String)>,
    /// `authenticator`'s own settings, the session's defaults: only read, for the time limit.
    pub session_settings: Vec<(String, String)>,
}

impl RequestScope {
    pub fn is_anonymous(&self) -> bool {
        self.role == "anon"
    }

    /// How long the transaction may take before devstack gives up on it: the statement timeout
    /// in effect plus a little, so that Postgres, when it is alive, is the one that cancels.
    fn time_limit(&self) -> Duration {
        statement_timeout::in_effect([
            &self.session_settings[..],
            &self.role_settings[..],
            &self.function_settings[..],
        ]) + CLIENT_GRACE
    }

    /// Every `set_config(name, value, true)` the transaction starts with, in PostgREST's order.
    fn local_settings(&self) -> Vec<(String, String)> {
        let mut all = vec![(
            "search_path".to_owned(),
            format!("{}, extensions", super::sql_text::ident(&self.schema)),
        )];
        all.extend(self.role_settings.iter().cloned());
        all.push(("role".to_owned(), self.role.clone()));
        all.push(("request.jwt.claims".to_owned(), self.claims.to_string()));
        all.extend(legacy_claim_settings(&self.claims));
        all.push(("request.method".to_owned(), self.method.clone()));
        all.push(("request.path".to_owned(), self.path.clone()));
        all.push(("request.headers".to_owned(), self.headers_json.clone()));
        all.extend(self.function_settings.iter().cloned());
        all
    }
}

/// Sets each `(name, value)` for the transaction: `set_config(name, value, true)` is `SET
/// LOCAL` with name and value as parameters, so no quoting is involved; it is what PostgREST
/// itself runs. Storage sets its caller's role and claims the same way.
pub(crate) async fn set_local(
    tx: &tokio_postgres::Transaction<'_>,
    settings: &[(String, String)],
) -> Result<(), tokio_postgres::Error> {
    let calls: Vec<String> = (0..settings.len())
        .map(|i| format!("set_config(${}, ${}, true)", 2 * i + 1, 2 * i + 2))
        .collect();
    let values: Vec<&(dyn ToSql + Sync)> = settings
        .iter()
        .flat_map(|(name, value)| [name as &(dyn ToSql + Sync), value as &(dyn ToSql + Sync)])
        .collect();
    tx.execute(&format!("SELECT {}", calls.join(", ")), &values)
        .await?;
    Ok(())
}

/// The claims the legacy `request.jwt.claim.<name>` settings hold (what PostgREST before v10
/// set, and what `auth.uid()`, `auth.role()` and `auth.email()` read first), set on every
/// request: `sub`, `role` and `email` always (empty when the token has none), so a value some
/// earlier SQL left on the connection can never stand in for the caller's. A string claim is
/// its text, any other its JSON; claims whose names cannot be setting names are left out.
pub(crate) fn legacy_claim_settings(claims: &Value) -> Vec<(String, String)> {
    let mut settings: Vec<(String, String)> = ["sub", "role", "email"]
        .iter()
        .map(|name| (format!("request.jwt.claim.{name}"), String::new()))
        .collect();
    let Some(object) = claims.as_object() else {
        return settings;
    };
    for (name, value) in object {
        if !is_setting_name_part(name) {
            continue;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let key = format!("request.jwt.claim.{name}");
        match settings.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = text,
            None => settings.push((key, text)),
        }
    }
    settings
}

/// Whether `name` can follow `request.jwt.claim.` in a setting's name: Postgres takes a part
/// that starts with a letter or `_` and goes on with letters, digits, `_` or `$`.
fn is_setting_name_part(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
}

/// A statement's result, in the shape every builder produces: one row of
/// `(total bigint, page_total bigint, body text, location text)`.
#[derive(Debug)]
pub struct StatementResult {
    /// The total the count preference asked for.
    pub total: Option<i64>,
    /// Rows in this response (or affected by the mutation).
    pub page_total: i64,
    pub body: Option<String>,
    /// The query string locating the inserted row (`id=eq.1`), for `return=headers-only`.
    pub location: Option<String>,
    /// The rows a merging upsert inserted, from the optional fifth column.
    pub inserted: Option<i32>,
    /// The planner's estimate of the rows, for `count=planned|estimated`.
    pub estimate: Option<i64>,
}

/// No connection for the request: every pooled one stayed busy for the whole wait (PostgREST's
/// PGRST003, 504), or the database cannot be reached (PGRST000, 503) — both bounded in time by
/// the pool's timeouts, so a database that is down or stuck fails requests fast.
fn pool_error(e: PoolError) -> ApiError {
    if matches!(e, PoolError::Timeout(TimeoutType::Wait)) {
        return ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "PGRST003",
            "Timed out acquiring connection from connection pool.",
            None,
            None,
        );
    }
    tracing::error!("database pool: {e}");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "PGRST000",
        "Database connection error. Retrying the connection.",
        None,
        None,
    )
}

/// Postgres's answer to a statement it cancelled for its statement timeout, which PostgREST
/// passes on as a 500; devstack gives it too when Postgres did not answer in time at all.
fn statement_timed_out() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "57014",
        "canceling statement due to statement timeout",
        None,
        None,
    )
}

/// A connection from the API pool within [`POOL_WAIT`], however the pool spends it (waiting
/// for a free connection, resetting an idle one, opening a new one).
async fn connection(pools: &Pools) -> Result<deadpool_postgres::Object, ApiError> {
    match tokio::time::timeout(POOL_WAIT, pools.api.get()).await {
        Ok(result) => result.map_err(pool_error),
        Err(_) => Err(pool_error(PoolError::Timeout(TimeoutType::Wait))),
    }
}

/// Gives up on a connection whose server did not answer in time: asks the server to cancel
/// what it runs (in the background, bounded) and drops the connection instead of lending it
/// again.
fn abandon(client: deadpool_postgres::Object) {
    let cancel = client.cancel_token();
    tokio::spawn(async move {
        let _ = tokio::time::timeout(POOL_WAIT, cancel.cancel_query(NoTls)).await;
    });
    drop(deadpool_postgres::Object::take(client));
}

/// Runs `sql` with text parameters. `accept` sees the result before commit; an error from
/// it rolls the transaction back.
pub async fn run(
    pools: &Pools,
    scope: &RequestScope,
    sql: &str,
    params: &[String],
    accept: impl FnOnce(&StatementResult) -> Result<(), ApiError>,
) -> Result<StatementResult, ApiError> {
    run_estimated(pools, scope, None, sql, params, accept).await
}

/// [`run`], after `estimate` (an `EXPLAIN (FORMAT JSON)` without parameters) in the same
/// transaction, whose top plan's row estimate becomes the result's `estimate`, as PostgREST
/// reads one for `count=planned`.
pub async fn run_estimated(
    pools: &Pools,
    scope: &RequestScope,
    estimate: Option<&str>,
    sql: &str,
    params: &[String],
    accept: impl FnOnce(&StatementResult) -> Result<(), ApiError>,
) -> Result<StatementResult, ApiError> {
    let mut client = connection(pools).await?;
    let limit = scope.time_limit();
    let outcome = tokio::time::timeout(
        limit,
        transaction(&mut client, scope, estimate, sql, params, accept),
    )
    .await;
    match outcome {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(
                "no answer from Postgres within {limit:?}; cancelling and dropping the connection"
            );
            abandon(client);
            Err(statement_timed_out())
        }
    }
}

async fn transaction(
    client: &mut deadpool_postgres::Object,
    scope: &RequestScope,
    estimate: Option<&str>,
    sql: &str,
    params: &[String],
    accept: impl FnOnce(&StatementResult) -> Result<(), ApiError>,
) -> Result<StatementResult, ApiError> {
    let db_error = |e: tokio_postgres::Error| ApiError::from_db(&e, scope.is_anonymous());
    let tx = client
        .build_transaction()
        .read_only(scope.read_only)
        .start()
        .await
        .map_err(db_error)?;
    set_local(&tx, &scope.local_settings())
        .await
        .map_err(db_error)?;
    let estimate = match estimate {
        Some(explain) => {
            let row = tx.query_one(explain, &[]).await.map_err(db_error)?;
            plan_rows(&row.get::<_, Value>(0))
        }
        None => None,
    };
    let params: Vec<&(dyn ToSql + Sync)> =
        params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let row = tx.query_one(sql, &params).await.map_err(|e| {
        if e.as_db_error().is_none() {
            tracing::error!("statement failed: {e}\n{sql}");
        }
        db_error(e)
    })?;
    let result = StatementResult {
        total: row.get(0),
        page_total: row.get(1),
        body: row.get(2),
        location: row.get(3),
        inserted: if row.len() > 4 { row.get(4) } else { None },
        estimate,
    };
    accept(&result)?;
    if scope.rollback {
        // As PostgREST ends a `tx=rollback` transaction: deferred constraints are checked,
        // so their errors are still answered, then nothing is kept.
        tx.batch_execute("SET CONSTRAINTS ALL IMMEDIATE")
            .await
            .map_err(db_error)?;
        tx.rollback().await.map_err(db_error)?;
    } else {
        tx.commit().await.map_err(db_error)?;
    }
    Ok(result)
}

/// `Plan Rows` of the top plan of an `EXPLAIN (FORMAT JSON)`.
fn plan_rows(explained: &Value) -> Option<i64> {
    let rows = explained.pointer("/0/Plan/Plan Rows")?.as_f64()?;
    // The planner's estimate is a whole, non-negative number of rows.
    Some(rows.max(0.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use deadpool_postgres::{PoolError, TimeoutType};

    use super::pool_error;

    async fn answer(e: PoolError) -> (u16, serde_json::Value) {
        let response = pool_error(e).into_response();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, serde_json::from_slice(&body).expect("JSON"))
    }

    #[tokio::test]
    async fn a_busy_pool_is_pgrst003_and_an_unreachable_database_pgrst000() {
        let (status, body) = answer(PoolError::Timeout(TimeoutType::Wait)).await;
        assert_eq!((status, body["code"].as_str()), (504, Some("PGRST003")));
        for e in [
            PoolError::Timeout(TimeoutType::Create),
            PoolError::Timeout(TimeoutType::Recycle),
            PoolError::Closed,
        ] {
            let (status, body) = answer(e).await;
            assert_eq!((status, body["code"].as_str()), (503, Some("PGRST000")));
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }

    #[test]
    fn the_estimate_is_the_top_plan_rows() {
        let explained = serde_json::json!([{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 1360.0,
            "Plans": [{"Plan Rows": 3}]}}]);
        assert_eq!(super::plan_rows(&explained), Some(1360));
        assert_eq!(super::plan_rows(&serde_json::json!([])), None);
    }

    #[test]
    fn legacy_claims_are_always_set_so_nothing_left_on_a_connection_stands_in() {
        use super::legacy_claim_settings;
        let anon = legacy_claim_settings(&serde_json::json!({"role": "anon"}));
        assert_eq!(
            anon,
            vec![
                ("request.jwt.claim.sub".to_owned(), String::new()),
                ("request.jwt.claim.role".to_owned(), "anon".to_owned()),
                ("request.jwt.claim.email".to_owned(), String::new()),
            ]
        );
        let user = legacy_claim_settings(&serde_json::json!({
            "sub": "u1", "role": "authenticated", "aal": "aal1", "exp": 5,
            "app_metadata": {"provider": "email"}, "bad-name": "x", "a.b": "y", "1st": "z"
        }));
        let get = |k: &str| {
            user.iter()
                .find(|(name, _)| name == &format!("request.jwt.claim.{k}"))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("sub"), Some("u1"));
        assert_eq!(get("email"), Some(""));
        assert_eq!(get("exp"), Some("5"));
        assert_eq!(get("app_metadata"), Some(r#"{"provider":"email"}"#));
        assert_eq!(get("bad-name"), None);
        assert_eq!(get("a.b"), None);
        assert_eq!(get("1st"), None);
    }
}
