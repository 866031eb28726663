//! PostgREST calls as needs: the request built by `postgrest` as edge-worker builds it, sent by
//! the driver, its answer read as edge-worker's `Rest::run` reads it.

use edge_http::ApiError;
use edge_step::{Fetched, Got, Need, Subrequest, need};
use postgrest::{Builder, Postgrest};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::log::{internal_error, log_error};
use crate::settings::Config;

/// edge-worker's `REST_TIMEOUT`: just over the 8 s statement timeout.
const REST_TIMEOUT_MS: u32 = 9_000;

/// A PostgREST error answer.
#[derive(Debug)]
pub struct RestError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
}

impl RestError {
    /// An error the function did not expect: logged, answered as a generic 500.
    pub fn unexpected(self, context: &str) -> ApiError {
        internal_error(
            context,
            format!("PostgREST {} {}: {}", self.status, self.code, self.message),
        )
    }
}

pub struct Rest {
    client: Postgrest,
}

impl Rest {
    pub fn as_caller(config: &Config, access_token: &str) -> Self {
        Self::with_token(config, &config.anon_key, access_token)
    }

    pub fn as_service(config: &Config) -> Self {
        Self::with_token(config, &config.service_role_key, &config.service_role_key)
    }

    fn with_token(config: &Config, apikey: &str, token: &str) -> Self {
        let client = Postgrest::new(format!("{}/rest/v1", config.url))
            .insert_header("apikey", apikey)
            .insert_header("authorization", format!("Bearer {token}"));
        Self { client }
    }

    pub fn from(&self, table: &str) -> Builder {
        self.client.from(table)
    }

    pub fn rpc(&self, function: &str, args: &Value) -> Builder {
        self.client.rpc(function, args.to_string())
    }

    /// edge-worker's `Rest::run`: a 2xx body parsed as `T`, a PostgREST error as
    /// `Ok(Err(_))`, a 5xx or transport failure a 502, a timeout a 504, a blocked account 403.
    pub async fn run<T: DeserializeOwned>(
        builder: Builder,
    ) -> Result<Result<T, RestError>, ApiError> {
        let (status, body) = send(builder).await?;
        if status >= 500 {
            log_error(format!("PostgREST answered {status}: {body}"));
            return Err(ApiError::bad_gateway("The database failed to answer"));
        }
        if status >= 400 {
            let error: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let field = |name: &str| error.get(name).and_then(Value::as_str).map(str::to_owned);
            let error = RestError {
                status,
                code: field("code").unwrap_or_default(),
                message: field("message").unwrap_or_default(),
                hint: field("hint"),
            };
            if error.status == 403 && error.hint.as_deref() == Some("account_blocked") {
                return Err(ApiError::forbidden(
                    "account_blocked",
                    "This account is blocked or deleted; contact the administrator",
                ));
            }
            return Ok(Err(error));
        }
        let value = if body.is_empty() {
            "null"
        } else {
            body.as_str()
        };
        serde_json::from_str(value)
            .map(Ok)
            .map_err(|e| internal_error("parsing PostgREST's answer", e))
    }
}

async fn send(builder: Builder) -> Result<(u16, String), ApiError> {
    let request = builder
        .build()
        .build()
        .map_err(|e| internal_error("building a PostgREST request", e))?;
    let headers = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let body = request
        .body()
        .and_then(|b| b.as_bytes())
        .filter(|b| !b.is_empty())
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let fetched = need(Need::Fetch(Subrequest {
        method: request.method().as_str().to_owned(),
        url: request.url().to_string(),
        headers,
        body,
        timeout_ms: REST_TIMEOUT_MS,
    }))
    .await;
    match fetched {
        Got::Fetched(Fetched::Answer { status, body }) => Ok((status, body)),
        Got::Fetched(Fetched::TimedOut) => {
            log_error(format!(
                "PostgREST no whole answer within {REST_TIMEOUT_MS} ms"
            ));
            Err(ApiError::gateway_timeout(
                "The database did not answer in time; a change it was asked for may or may not \
                 have been made",
            ))
        }
        Got::Fetched(Fetched::ReadFailed(e)) => {
            log_error(format!("PostgREST reading the answer failed: {e}"));
            Err(ApiError::bad_gateway(
                "The database's answer could not be read",
            ))
        }
        other => {
            log_error(format!("PostgREST sending failed: {other:?}"));
            Err(ApiError::bad_gateway("The database is not reachable"))
        }
    }
}
