//! Runs one statement the way PostgREST does: a transaction on the `authenticator` pool,
//! the role and request settings set locally, then commit — or rollback on any error or when
//! the response turns out unacceptable (a singular request that matched several rows).

use std::time::Duration;

use super::error::ApiError;
use crate::db::Pools;

/// How long a request waits for a free connection before giving up (PostgREST's PGRST003).
const POOL_WAIT: Duration = Duration::from_secs(10);

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

/// Runs `sql` with text parameters. `accept` sees the result before commit; an error from
/// it rolls the transaction back.
pub async fn run(
    pools: &Pools,
    scope: &RequestScope,
    sql: &str,
    params: &[String],
    accept: impl FnOnce(&StatementResult) -> Result<(), ApiError>,
) -> Result<StatementResult, ApiError> {
    let mut client = match tokio::time::timeout(POOL_WAIT, pools.api.get()).await {
        Err(_) => {
            return Err(ApiError::new(
                axum::http::StatusCode::GATEWAY_TIMEOUT,
                "PGRST003",
                "Timed out acquiring connection from connection pool.",
                None,
                None,
            ));
        }
        Ok(Err(e)) => {
            tracing::error!("database pool: {e}");
            return Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "PGRST000",
                "Database connection error.",
                None,
                None,
            ));
        }
        Ok(Ok(client)) => client,
    };
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
