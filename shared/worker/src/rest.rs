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

/// The refusals one RPC raises on purpose, as a closed enum (declare it with [`refusals!`]):
/// each variant a machine code the database puts in `hint` beside SQLSTATE `PTxyz`.
pub trait Refusal: Copy + 'static {
    /// Every variant.
    const ALL: &'static [Self];
    /// The machine code, as the database writes it in `hint` and the API answers it in `code`.
    fn code(self) -> &'static str;
}

/// Declares an RPC's refusals: `refusals! { pub enum Name { Variant = "code", … } }` gives the
/// enum and its [`Refusal`] impl.
#[macro_export]
macro_rules! refusals {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name { $($variant),+ }

        impl $crate::Refusal for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }
        }
    };
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

    /// The refusal of `R` this error is: one the database raised on purpose, with SQLSTATE
    /// `PTxyz` and the refusal's code in `hint`. `None` for any other error.
    pub fn refusal<R: Refusal>(&self) -> Option<R> {
        if !self.code.starts_with("PT") {
            return None;
        }
        let hint = self.hint.as_deref()?;
        R::ALL
            .iter()
            .copied()
            .find(|refusal| refusal.code() == hint)
    }

    /// A refusal of `R` as the API answer: the refusal's code, the status PostgREST gave the
    /// `PTxyz` code (the database's choice, not repeated here) and the database's own message
    /// (written for clients). `None` for any other error.
    pub fn refusal_answer<R: Refusal>(&self) -> Option<ApiError> {
        let refusal = self.refusal::<R>()?;
        Some(ApiError::new(
            self.status,
            refusal.code(),
            self.message.clone(),
        ))
    }

    /// [`RestError::refusal_answer`], or, for an error the function did not expect, the
    /// logged 500.
    pub fn into_api_error<R: Refusal>(self, context: &str) -> ApiError {
        self.refusal_answer::<R>()
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
    use super::{Refusal, RestError};

    crate::refusals! {
        enum TestRefusal { NotFound = "thing_not_found", Taken = "thing_taken" }
    }

    fn raised(status: u16, code: &str, hint: Option<&str>) -> RestError {
        RestError {
            status,
            code: code.into(),
            message: "from the database".into(),
            details: None,
            hint: hint.map(str::to_owned),
        }
    }

    #[test]
    fn a_refusal_is_a_pt_code_with_a_known_hint_and_keeps_the_database_status() {
        assert_eq!(
            TestRefusal::ALL,
            &[TestRefusal::NotFound, TestRefusal::Taken]
        );
        let taken = raised(409, "PT409", Some("thing_taken"));
        assert_eq!(taken.refusal::<TestRefusal>(), Some(TestRefusal::Taken));
        let answer = taken.refusal_answer::<TestRefusal>().unwrap();
        assert_eq!(
            (answer.status(), answer.code(), answer.message()),
            (409, "thing_taken", "from the database")
        );
        assert_eq!(TestRefusal::NotFound.code(), "thing_not_found");
        // Not raised on purpose: a hint alone, under another SQLSTATE, is not a refusal.
        assert_eq!(
            raised(400, "22023", Some("thing_taken")).refusal::<TestRefusal>(),
            None
        );
        assert_eq!(
            raised(404, "PT404", Some("other")).refusal::<TestRefusal>(),
            None
        );
        assert_eq!(raised(404, "PT404", None).refusal::<TestRefusal>(), None);
        assert!(
            raised(404, "PT404", Some("other"))
                .refusal_answer::<TestRefusal>()
                .is_none()
        );
    }

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
