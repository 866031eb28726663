//! A benchmark-only Worker (never deployed): the per-request work a function does on every call
//! — check the caller's Supabase token, open the AES-256-GCM envelope of a connection secret
//! and seal it again — as `POST /peer`, the same work `bench/peer-js` does with WebCrypto; and
//! `GET /ops?op=<name>&n=<count>`, which runs one shared-crate operation `n` times so the
//! harness can time it inside workerd (wall clock of `n` against `n=0`; a Worker's own clock
//! stands still while it computes). `GET /functions/v1/accept-invitation` is that flow's runtime
//! floor in Rust/wasm (src/floor.rs).
#![forbid(unsafe_code)]

mod floor;
mod ops;
mod peer;
mod primitives;

pub use ops::{Op, OpInputs};
pub use peer::{PeerAnswer, PeerError, PeerState, ResealRequest};

use std::cell::OnceCell;
use std::rc::Rc;

use edge_http::BodyLimit;
use edge_worker::{Answer, IncomingRequest};
use worker::{Context, Env, Method, event, web_sys};

/// The peer's reseal request (a sealed envelope and its fields) is well under this.
const PEER_BODY_LIMIT: BodyLimit = BodyLimit::new(64 * 1024);

thread_local! {
    /// Parsed once per isolate, as a function would keep its verifier and key ring.
    static STATE: OnceCell<Rc<(PeerState, OpInputs)>> = const { OnceCell::new() };
}

fn setting(env: &Env, name: &str) -> String {
    env.var(name).map(|v| v.to_string()).unwrap_or_default()
}

fn state(env: &Env) -> Result<Rc<(PeerState, OpInputs)>, String> {
    if let Some(state) = STATE.with(|cell| cell.get().cloned()) {
        return Ok(state);
    }
    let get = |name: &str| setting(env, name);
    let peer = PeerState::new(
        &get("SUPABASE_JWT_SECRET"),
        &get("SUPABASE_URL"),
        &get("ENCRYPTION_KEY_RING"),
    )?;
    let inputs = OpInputs::from_settings(get)?;
    let state = Rc::new((peer, inputs));
    STATE.with(|cell| {
        let _ = cell.set(state.clone());
    });
    Ok(state)
}

fn json(status: u16, body: String) -> worker::Result<web_sys::Response> {
    Answer::json_text(status, body).into_response()
}

/// The functions' own entry (`edge_worker::IncomingRequest` in, `edge_worker::Answer` out), so
/// that `/noop` measures what every function pays to be called and to answer.
#[event(fetch)]
async fn fetch(
    req: web_sys::Request,
    env: Env,
    _ctx: Context,
) -> worker::Result<web_sys::Response> {
    let mut req = IncomingRequest::new(req);
    if req.path() == "/functions/v1/accept-invitation" {
        return floor::accept_invitation(req, &env).await;
    }
    let state = match state(&env) {
        Ok(state) => state,
        Err(e) => return json(500, serde_json::json!({ "error": e }).to_string()),
    };
    let (peer, inputs) = &*state;
    match (req.method(), req.path()) {
        (Method::Post, "/peer") => {
            let authorization = req.header("authorization");
            let body = match req.read_body(PEER_BODY_LIMIT).await {
                Ok(body) => body,
                Err(e) => return json(e.status(), e.body()),
            };
            let now = edge_worker::now();
            match peer.reseal(authorization.as_deref(), &body, now).await {
                Ok(answer) => json(200, serde_json::to_string(&answer)?),
                Err(e) => json(e.status(), e.body()),
            }
        }
        (Method::Get, "/ops") => {
            let url = req
                .url()
                .map_err(|e| worker::Error::RustError(e.to_string()))?;
            let query = |name: &str| {
                url.query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            };
            let Some(op) = query("op").as_deref().and_then(Op::from_name) else {
                return json(400, r#"{"error":"unknown op"}"#.to_owned());
            };
            let n: u32 = query("n").and_then(|n| n.parse().ok()).unwrap_or(1);
            let now = edge_worker::now();
            match inputs.run(peer, op, n, now).await {
                Ok(checksum) => json(
                    200,
                    serde_json::json!({ "op": op.name(), "n": n, "checksum": checksum })
                        .to_string(),
                ),
                Err(e) => json(500, serde_json::json!({ "error": e }).to_string()),
            }
        }
        (Method::Get, "/noop") => json(200, r#"{"ok":true}"#.to_owned()),
        _ => json(404, r#"{"error":"not found"}"#.to_owned()),
    }
}
