//! Runs one statement the way PostgREST does: a transaction on the `authenticator` pool,
//! the role and request settings set locally, then commit — or rollback on any error or when
//! the response turns out unacceptable (a singular request that matched several rows).

use axum::http::StatusCode;
use deadpool_postgres::{PoolError, TimeoutType};

use super::error::ApiError;
use crate::db::Pools;

/// Who is asking, and about what: what `request.*` settings expose to SQL.
pub struct RequestScope {
    pub role: String,
    pub claims_json: String,
    pub method: String,
    pub path: String,
    pub headers_json: String,
    pub schema: String,
    pub read_only: bool,
}

impl RequestScope {
    pub fn is_anonymous(&self) -> bool {
        self.role == "anon"
    }
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

/// Runs `sql` with text parameters. `accept` sees the result before commit; an error from
/// it rolls the transaction back.
pub async fn run(
    pools: &Pools,
    scope: &RequestScope,
    sql: &str,
    params: &[String],
    accept: impl FnOnce(&StatementResult) -> Result<(), ApiError>,
) -> Result<StatementResult, ApiError> {
    let mut client = pools.api.get().await.map_err(pool_error)?;
    let db_error = |e: tokio_postgres::Error| ApiError::from_db(&e, scope.is_anonymous());
    let tx = client
        .build_transaction()
        .read_only(scope.read_only)
        .start()
        .await
        .map_err(db_error)?;
    // `set_config('role', …, true)` is `SET LOCAL ROLE` with the name as a parameter, so no
    // quoting is involved; it is what PostgREST itself runs.
    tx.execute(
        "SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true), \
         set_config('request.method', $3, true), set_config('request.path', $4, true), \
         set_config('request.headers', $5, true), set_config('search_path', $6, true)",
        &[
            &scope.role,
            &scope.claims_json,
            &scope.method,
            &scope.path,
            &scope.headers_json,
            &format!("{}, extensions", super::sql_text::ident(&scope.schema)),
        ],
    )
    .await
    .map_err(db_error)?;
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
        .iter()
        .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
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
    };
    accept(&result)?;
    tx.commit().await.map_err(db_error)?;
    Ok(result)
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
}
