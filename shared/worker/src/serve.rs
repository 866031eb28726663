//! The one entry every function goes through.

use std::future::Future;

use edge_http::{ApiError, Cors, request_id};
use worker::{Context, Env, web_sys};

use crate::config::SupabaseConfig;
use crate::defer::Defer;
use crate::request::IncomingRequest;
use crate::respond::Answer;

/// A function's name, the methods it answers and what its CORS policy adds to Supabase's.
pub struct FunctionSpec {
    pub name: &'static str,
    pub methods: &'static [&'static str],
    /// Request headers allowed beyond the Supabase client's own.
    pub extra_request_headers: &'static [&'static str],
    /// Response headers a browser may read.
    pub exposed_headers: &'static [&'static str],
}

impl FunctionSpec {
    fn cors(&self) -> Cors {
        let cors = Cors::new(self.methods).allow_headers(self.extra_request_headers);
        if self.exposed_headers.is_empty() {
            cors
        } else {
            cors.expose_headers(self.exposed_headers)
        }
    }
}

/// What a handler gets: the request, the Worker's environment, the project config, an id
/// for log lines and the means to finish work after the answer.
pub struct RequestContext {
    pub req: IncomingRequest,
    pub env: Env,
    pub config: SupabaseConfig,
    pub request_id: String,
    pub defer: Defer,
}

/// Answers `OPTIONS` with Supabase-style CORS, refuses other methods with 405, runs `handler`
/// and turns its [`ApiError`] into the JSON error; every answer carries the CORS headers and
/// its request id. A server error is logged as `<request id> <function> <method> <path>: <code>
/// <message>`; other answers are not: Workers' own invocation logs give method, URL, status
/// and the `cf-ray` the id comes from (a `console.log` per request cost ~5% of the CPU).
pub async fn serve<F, Fut>(
    req: IncomingRequest,
    env: Env,
    ctx: Context,
    spec: &FunctionSpec,
    handler: F,
) -> worker::Result<web_sys::Response>
where
    F: FnOnce(RequestContext) -> Fut,
    Fut: Future<Output = Result<Answer, ApiError>>,
{
    let cors = spec.cors();
    let id = request_id(
        req.header("cf-ray").as_deref(),
        req.header("x-request-id").as_deref(),
    );
    let method = req.method_str().to_owned();
    let path = req.path().to_owned();
    let result = match check_method(&method, spec.methods) {
        MethodCheck::Preflight => Ok(preflight(&cors)),
        MethodCheck::NotAllowed => Err(ApiError::method_not_allowed(&method, spec.methods)),
        MethodCheck::Allowed => match SupabaseConfig::from_env(&env) {
            Ok(config) => {
                let context = RequestContext {
                    req,
                    env,
                    config,
                    request_id: id.clone(),
                    defer: Defer::new(ctx),
                };
                handler(context).await
            }
            Err(e) => Err(e),
        },
    };
    let mut answer = result.unwrap_or_else(|e| {
        if e.status() >= 500 {
            worker::console_error!(
                "{id} {} {method} {path}: {} {}",
                spec.name,
                e.code(),
                e.message()
            );
        }
        Answer::error(&e)
    });
    answer.set_headers(cors.headers());
    answer.set_headers([("x-request-id", id)]);
    answer.into_response()
}

/// What [`serve`] does with a request's method.
#[derive(Debug, PartialEq, Eq)]
enum MethodCheck {
    Preflight,
    Allowed,
    NotAllowed,
}

/// Methods are case-sensitive (RFC 9110), so `get` is not `GET` either.
fn check_method(sent: &str, allowed: &[&str]) -> MethodCheck {
    if sent == "OPTIONS" {
        MethodCheck::Preflight
    } else if allowed.contains(&sent) {
        MethodCheck::Allowed
    } else {
        MethodCheck::NotAllowed
    }
}

/// The preflight's status and body; its headers are the CORS headers [`serve`] adds to every
/// answer.
fn preflight(cors: &Cors) -> Answer {
    let answer = cors.preflight();
    Answer::text(
        answer.status,
        "text/plain; charset=utf-8",
        answer.body.to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_methods_reach_the_handler() {
        let allowed = ["GET", "POST"];
        assert_eq!(check_method("GET", &allowed), MethodCheck::Allowed);
        assert_eq!(check_method("POST", &allowed), MethodCheck::Allowed);
        assert_eq!(check_method("OPTIONS", &allowed), MethodCheck::Preflight);
        for refused in ["QUERY", "PROPFIND", "DELETE", "get", "HEAD", ""] {
            assert_eq!(
                check_method(refused, &allowed),
                MethodCheck::NotAllowed,
                "{refused:?}"
            );
        }
    }
}
