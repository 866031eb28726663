//! accept-invitation's runtime floor in Rust/wasm, the twin of `bench/peer-js/floor.mjs` for
//! that flow: per request it sends the one subrequest the function sends
//! (`rpc/preview_profile_invitation` with the service key and the token's SHA-256, prepared on
//! the first request) through edge-worker's `fetch_text`, and answers the rpc's body with the
//! function's CORS headers and a request id through `edge_worker::Answer`. It checks nothing.
//! Beside the JavaScript floor it shows what a request costs in wasm before any of a function's
//! own work: the entry, the awaited subrequest, the answer.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use edge_http::{ApiError, Cors};
use edge_worker::{Answer, IncomingRequest, fetch_text, once_per_isolate, required_secret};
use worker::{Env, web_sys};

/// The subrequest, built once.
struct Preview {
    url: String,
    headers: Vec<(&'static str, String)>,
    body: String,
    cors: Vec<(&'static str, String)>,
}

thread_local! {
    static PREVIEW: RefCell<Option<Rc<Preview>>> = const { RefCell::new(None) };
    static SERVED: Cell<u64> = const { Cell::new(0) };
}

fn preview(req: &IncomingRequest, env: &Env) -> Result<Rc<Preview>, ApiError> {
    once_per_isolate(&PREVIEW, || {
        let service_key = required_secret(env, "SUPABASE_SERVICE_ROLE_KEY")?;
        let project = required_secret(env, "SUPABASE_URL")?;
        let url = req
            .url()
            .map_err(|_| ApiError::bad_request("invalid_url", "Unreadable request URL"))?;
        let token = url
            .query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        Ok(Preview {
            url: format!(
                "{}/rest/v1/rpc/preview_profile_invitation",
                project.trim_end_matches('/')
            ),
            headers: vec![
                ("accept", "application/json".to_owned()),
                ("apikey", service_key.clone()),
                ("authorization", format!("Bearer {service_key}")),
                ("content-type", "application/json".to_owned()),
            ],
            body: serde_json::json!({ "p_token_hash": edge_crypto::hash_token(&token) })
                .to_string(),
            cors: Cors::new(&["GET", "POST"]).headers(),
        })
    })
}

/// `GET /functions/v1/accept-invitation?token=…`, the floor of the function's preview.
pub async fn accept_invitation(
    req: IncomingRequest,
    env: &Env,
) -> worker::Result<web_sys::Response> {
    let call = preview(&req, env).map_err(|e| worker::Error::RustError(e.message().to_owned()))?;
    let headers = call.headers.iter().map(|(n, v)| (*n, v.as_str()));
    let (status, body) = fetch_text(
        "POST",
        &call.url,
        headers,
        Some(&call.body),
        Duration::from_secs(9),
    )
    .await
    .map_err(|e| worker::Error::RustError(e.to_string()))?;
    let served = SERVED.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    let mut answer = Answer::json_text(status, body);
    answer.set_headers(call.cors.iter().cloned());
    answer.set_headers([("x-request-id", format!("{served:016x}"))]);
    answer.into_response()
}
