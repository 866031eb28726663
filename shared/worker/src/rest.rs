//! PostgREST clients for one request: as the caller (their token; RLS is the second lock) or
//! as the service role (for what the caller's rights do not cover).
//!
//! One database answer means the same to every function: `PT403` with hint `account_blocked`
//! (raised by `private.assert_account_active`, migration 20261201110000) is the caller's account
//! being blocked or deleted, answered `403 account_blocked` whatever the function was doing.

use std::time::Duration;

use edge_http::ApiError;
use postgrest::{Builder, Postgrest};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::SupabaseConfig;
use crate::fetch::fetch_text;
use crate::respond::internal_error;

/// A PostgREST error answer: status and PostgREST's `{code, message, details, hint}`.
#[derive(Debug)]
pub struct RestError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Option<String>,
    pub hint: Option<String>,
}

/// How long one PostgREST request may take, answer read whole: just over the 8 s statement
/// timeout Supabase gives `authenticated` and `authenticator` (so a statement the database lets
/// run gets its own answer, PostgREST's `57014` included), and short enough that a frozen
/// database is a 504 well before a client gives up.
const REST_TIMEOUT: Duration = Duration::from_secs(9);

pub struct Rest {
    client: Postgrest,
}

impl Rest {
    /// Requests carry the caller's own access token, so Postgres applies its RLS policies.
    pub fn as_caller(config: &SupabaseConfig, access_token: &str) -> Self {
        Self::with_token(config, &config.anon_key, access_token)
    }

    /// Requests carry the service key, which bypasses RLS: use only where the flow needs it.
    pub fn as_service(config: &SupabaseConfig) -> Self {
        Self::with_token(config, &config.service_role_key, &config.service_role_key)
    }

    fn with_token(config: &SupabaseConfig, apikey: &str, token: &str) -> Self {
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

    /// Runs a request and parses a 2xx body as `T`. A PostgREST error answer is returned as
    /// `Ok(Err(RestError))` for the function to map; a transport failure or a 5xx is a 502, no
    /// whole answer within [`REST_TIMEOUT`] a 504.
    pub async fn run<T: DeserializeOwned>(
        builder: Builder,
    ) -> Result<Result<T, RestError>, ApiError> {
        let (status, body) = send(builder).await?;
        if status >= 500 {
            worker::console_error!("PostgREST answered {status}: {body}");
            return Err(ApiError::bad_gateway("The database failed to answer"));
        }
        if status >= 400 {
            let error: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let field = |name: &str| error.get(name).and_then(Value::as_str).map(str::to_owned);
            let error = RestError {
                status,
                code: field("code").unwrap_or_default(),
                message: field("message").unwrap_or_default(),
                details: field("details"),
                hint: field("hint"),
            };
            return match error.account_blocked() {
                Some(blocked) => Err(blocked),
                None => Ok(Err(error)),
            };
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

impl RestError {
    /// `403 account_blocked` when the database refused the account (see the module doc).
    fn account_blocked(&self) -> Option<ApiError> {
        (self.status == 403 && self.hint.as_deref() == Some("account_blocked")).then(|| {
            ApiError::forbidden(
                "account_blocked",
                "This account is blocked or deleted; contact the administrator",
            )
        })
    }

    /// A refusal the database raises on purpose (SQLSTATE `PTxyz` with a machine code in
    /// `hint`) as the API answer: `hints` gives each known code's status; the code is the hint
    /// and the message the database's own (written for clients). `None` for any other error.
    pub fn known_hint(&self, hints: &[(&str, u16)]) -> Option<ApiError> {
        let hint = self.hint.as_deref()?;
        let (code, status) = hints.iter().find(|(known, _)| *known == hint)?;
        Some(ApiError::new(
            *status,
            code.to_string(),
            self.message.clone(),
        ))
    }

    /// [`RestError::known_hint`], or, for an error the function did not expect, the logged 500.
    pub fn into_api_error(self, hints: &[(&str, u16)], context: &str) -> ApiError {
        self.known_hint(hints)
            .unwrap_or_else(|| self.unexpected(context))
    }

    /// An error the function did not expect: logged, answered as a generic 500.
    pub fn unexpected(self, context: &str) -> ApiError {
        internal_error(
            context,
            format!("PostgREST {} {}: {}", self.status, self.code, self.message),
        )
    }
}

/// `postgrest` builds the request (URL, query, headers, body); the runtime's `fetch` sends it
/// and the answer is read as text in one call. `Builder::execute` would go through reqwest's
/// wasm client, which arms an `AbortController` per request, parses the answer's URL and
/// copies each answer header through `JSON.stringify` (measured: ~9% of the CPU of a function
/// under load, see bench/HISTORY.md).
async fn send(builder: Builder) -> Result<(u16, String), ApiError> {
    let request = builder
        .build()
        .build()
        .map_err(|e| internal_error("building a PostgREST request", e))?;
    let headers = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
    let body = request
        .body()
        .and_then(|b| b.as_bytes())
        .filter(|b| !b.is_empty())
        .map(String::from_utf8_lossy);
    fetch_text(
        request.method().as_str(),
        request.url().as_str(),
        headers,
        body.as_deref(),
        REST_TIMEOUT,
    )
    .await
    .map_err(|e| {
        worker::console_error!("PostgREST {e}");
        e.into_api_error("The database")
    })
}

#[cfg(test)]
mod tests {
    use super::RestError;

    fn answer(status: u16, hint: Option<&str>) -> RestError {
        RestError {
            status,
            code: "PT403".into(),
            message: "this account is blocked or deleted".into(),
            details: None,
            hint: hint.map(str::to_owned),
        }
    }

    #[test]
    fn a_blocked_account_answer_is_403_account_blocked() {
        let blocked = answer(403, Some("account_blocked"))
            .account_blocked()
            .unwrap();
        assert_eq!((blocked.status(), blocked.code()), (403, "account_blocked"));
        assert!(answer(403, Some("not_admin")).account_blocked().is_none());
        assert!(answer(403, None).account_blocked().is_none());
        assert!(
            answer(400, Some("account_blocked"))
                .account_blocked()
                .is_none()
        );
    }
}
