//! accept-invitation's runtime floor in Rust/wasm, the twin of `bench/peer-js/floor.mjs` for
//! that flow: per request it sends the one subrequest the function sends
//! (`rpc/preview_profile_invitation` with the service key and the token's SHA-256, prepared on
//! the first request) through edge-worker's `fetch_text`, and answers the rpc's body with the
//! function's CORS headers and a request id through `edge_worker::Answer`. It checks nothing.
//! Beside the JavaScript floor it shows what a request costs in wasm before any of a function's
//! own work: the entry, the awaited subrequest, the answer.

use std::cell::{Cell, OnceCell};
use std::rc::Rc;
use std::time::Duration;

use edge_http::Cors;
use edge_worker::{Answer, IncomingRequest, fetch_text};
use worker::{Env, web_sys};

/// The subrequest, built once.
struct Preview {
    url: String,
    headers: Vec<(&'static str, String)>,
    body: String,
    cors: Vec<(&'static str, String)>,
}

thread_local! {
    static PREVIEW: OnceCell<Rc<Preview>> = const { OnceCell::new() };
    static SERVED: Cell<u64> = const { Cell::new(0) };
}

fn preview(req: &IncomingRequest, env: &Env) -> worker::Result<Rc<Preview>> {
    if let Some(preview) = PREVIEW.with(|cell| cell.get().cloned()) {
        return Ok(preview);
    }
    let setting = |name: &str| env.var(name).map(|v| v.to_string());
    let service_key = setting("SUPABASE_SERVICE_ROLE_KEY")?;
    let url = req
        .url()
        .map_err(|e| worker::Error::RustError(e.to_string()))?;
    let token = url
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let preview = Rc::new(Preview {
        url: format!(
            "{}/rest/v1/rpc/preview_profile_invitation",
            setting("SUPABASE_URL")?.trim_end_matches('/')
        ),
        headers: vec![
            ("accept", "application/json".to_owned()),
            ("apikey", service_key.clone()),
            ("authorization", format!("Bearer {service_key}")),
            ("content-type", "application/json".to_owned()),
        ],
        body: serde_json::json!({ "p_token_hash": edge_crypto::hash_token(&token) }).to_string(),
        cors: Cors::new(&["GET", "POST"]).headers(),
    });
    PREVIEW.with(|cell| {
        let _ = cell.set(preview.clone());
    });
    Ok(preview)
}

/// `GET /functions/v1/accept-invitation?token=…`, the floor of the function's preview.
pub async fn accept_invitation(
    req: IncomingRequest,
    env: &Env,
) -> worker::Result<web_sys::Response> {
    let call = preview(&req, env)?;
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
