//! The wait for the tenant and the stream of its answer, run by the runtime's JavaScript
//! (`relay.js`): one call across per request for each, and no chunk of the body copied into
//! wasm and out again.

use std::time::Duration;

use edge_worker::{FetchFailure, timer_millis};
use worker::js_sys::Promise;
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{ReadableStream, RequestInit, Response};

#[wasm_bindgen(wasm_bindgen = worker::wasm_bindgen, module = "/src/relay.js")]
extern "C" {
    #[wasm_bindgen(js_name = fetchWithin)]
    fn fetch_within_js(url: &str, init: &RequestInit, ms: u32) -> Promise;

    #[wasm_bindgen(js_name = endedWhenIdle)]
    fn ended_when_idle_js(body: &ReadableStream, ms: u32) -> ReadableStream;
}

/// Sends `url` with `init` and waits at most `timeout` for the response headers (then the fetch
/// is aborted); the body is not covered.
pub async fn fetch_within(
    url: &str,
    init: &RequestInit,
    timeout: Duration,
) -> Result<Response, FetchFailure> {
    match JsFuture::from(fetch_within_js(url, init, timer_millis(timeout))).await {
        Ok(answer) if answer.is_null() => Err(FetchFailure::TimedOut),
        Ok(answer) => Ok(answer.unchecked_into()),
        Err(e) => Err(FetchFailure::Failed(e.into())),
    }
}

/// `body` passed on unchanged; when none of it arrives for `idle`, the stream fails (the
/// client's read fails, it does not look complete) and `body` is cancelled.
pub fn ended_when_idle(body: &ReadableStream, idle: Duration) -> ReadableStream {
    ended_when_idle_js(body, timer_millis(idle))
}
