//! The runtime's `fetch` for subrequests whose answer is read whole as text, with as few
//! crossings into JS as it takes: the method and headers as one `JSON.parse`d init object, the
//! deadline as `AbortSignal.timeout` (no timer or closure of our own), and `fetch` and
//! `Response.text()` chained in JavaScript (`fetch_text.js`) so that Rust awaits one promise.

use std::time::Duration;

use edge_http::ApiError;
use serde::Serialize;
use worker::js_sys::{Array, Promise, Reflect};
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{AbortSignal, RequestInit};

use crate::js_init::{HeaderRecord, parsed};

#[wasm_bindgen(wasm_bindgen = worker::wasm_bindgen, module = "/src/fetch_text.js")]
extern "C" {
    #[wasm_bindgen(js_name = fetchText)]
    fn fetch_text_js(url: &str, init: &RequestInit) -> Promise;
}

/// Why a subrequest gave no answer: it could not be sent, its body could not be read, or the
/// whole answer did not arrive within its deadline (the request was then aborted).
#[derive(Debug)]
pub enum FetchError {
    Send(String),
    Read(String),
    TimedOut(Duration),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Send(e) => write!(f, "sending failed: {e}"),
            Self::Read(e) => write!(f, "reading the answer failed: {e}"),
            Self::TimedOut(limit) => write!(f, "no whole answer within {} ms", limit.as_millis()),
        }
    }
}

impl FetchError {
    /// The answer for a request whose subrequest to `upstream` failed: 504 when it ran out of
    /// time, 502 when it could not be sent or read. After a timeout the subrequest may still
    /// have done its work (a database commits when its statement ends, whether or not anyone
    /// reads the answer), so the message says a change may or may not have been made.
    pub fn into_api_error(self, upstream: &str) -> ApiError {
        match self {
            Self::TimedOut(_) => ApiError::gateway_timeout(format!(
                "{upstream} did not answer in time; a change it was asked for may or may not \
                 have been made"
            )),
            Self::Send(_) => ApiError::bad_gateway(format!("{upstream} is not reachable")),
            Self::Read(_) => {
                ApiError::bad_gateway(format!("{upstream}'s answer could not be read"))
            }
        }
    }
}

/// Sends `method url` with `headers` and `body` and returns the answer's status and body, or
/// [`FetchError::TimedOut`] when headers and body have not both arrived within `timeout` (the
/// signal then aborts the subrequest, whichever of the two it was waiting for).
pub async fn fetch_text<'a>(
    method: &'a str,
    url: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Option<&str>,
    timeout: Duration,
) -> Result<(u16, String), FetchError> {
    let failed = |e: JsValue, or: fn(String) -> FetchError| {
        if is_timeout(&e) {
            FetchError::TimedOut(timeout)
        } else {
            or(describe(&e))
        }
    };
    let init = request_init(method, headers, body).map_err(|e| failed(e, FetchError::Send))?;
    init.set_signal(Some(&AbortSignal::timeout_with_u32(timer_millis(timeout))));
    let answer: Array = JsFuture::from(fetch_text_js(url, &init))
        .await
        .map_err(|e| failed(e, FetchError::Send))?
        .unchecked_into();
    match answer.get(0).as_f64() {
        Some(status) if status >= 1.0 => {
            Ok((status as u16, answer.get(1).as_string().unwrap_or_default()))
        }
        _ => Err(failed(answer.get(1), FetchError::Read)),
    }
}

/// A deadline as a JS timer takes it: past 2^31 - 1 ms, a timer would fire at once.
pub fn timer_millis(timeout: Duration) -> u32 {
    u32::try_from(timeout.as_millis()).map_or(i32::MAX as u32, |ms| ms.min(i32::MAX as u32))
}

/// The method and headers of a request (and whether it follows redirects), the `init` of
/// `fetch(url, init)`.
#[derive(Serialize)]
#[serde(bound = "N: AsRef<str>, V: AsRef<str>")]
struct FetchInit<'a, N, V> {
    method: &'a str,
    headers: HeaderRecord<'a, N, V>,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect: Option<&'a str>,
}

/// The `init` of `fetch(url, init)` with `method`, `headers` and, unless `None`, `redirect`
/// (`"manual"`: a redirect is answered, not followed), in one crossing (`JSON.parse`).
pub fn fetch_init<N: AsRef<str>, V: AsRef<str>>(
    method: &str,
    headers: &[(N, V)],
    redirect: Option<&str>,
) -> Result<RequestInit, JsValue> {
    parsed(&FetchInit {
        method,
        headers: HeaderRecord(headers),
        redirect,
    })
}

/// [`fetch_init`] following redirects, the body set on it in a second crossing.
fn request_init<'a>(
    method: &'a str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Option<&str>,
) -> Result<RequestInit, JsValue> {
    let headers: Vec<_> = headers.into_iter().collect();
    let init = fetch_init(method, &headers, None)?;
    if body.is_some() {
        init.set_body_opt_str(body);
    }
    Ok(init)
}

/// Whether a rejection is `AbortSignal.timeout`'s: a `DOMException` named `TimeoutError`.
fn is_timeout(e: &JsValue) -> bool {
    Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string())
        .is_some_and(|name| name == "TimeoutError")
}

/// A thrown JS value as text, for the log: an `Error`'s message, else its string form.
fn describe(e: &JsValue) -> String {
    Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{FetchError, FetchInit, HeaderRecord, timer_millis};

    #[test]
    fn a_deadline_past_what_a_js_timer_takes_waits_the_longest_it_can_not_zero() {
        assert_eq!(timer_millis(Duration::from_secs(9)), 9000);
        assert_eq!(
            timer_millis(Duration::from_millis(1 << 31)),
            i32::MAX as u32
        );
        assert_eq!(timer_millis(Duration::from_secs(u64::MAX)), i32::MAX as u32);
    }

    #[test]
    fn the_fetch_init_is_the_method_a_header_record_and_a_redirect_mode_when_given() {
        let headers = [("apikey", "k"), ("prefer", "return=representation")];
        let init = FetchInit {
            method: "POST",
            headers: HeaderRecord(&headers),
            redirect: None,
        };
        assert_eq!(
            serde_json::to_string(&init).unwrap(),
            r#"{"method":"POST","headers":{"apikey":"k","prefer":"return=representation"}}"#
        );
        let manual = FetchInit {
            method: "GET",
            headers: HeaderRecord(&headers[..1]),
            redirect: Some("manual"),
        };
        assert_eq!(
            serde_json::to_string(&manual).unwrap(),
            r#"{"method":"GET","headers":{"apikey":"k"},"redirect":"manual"}"#
        );
    }

    #[test]
    fn a_subrequest_past_its_deadline_is_504_gateway_timeout_saying_a_write_is_uncertain() {
        let answer = FetchError::TimedOut(Duration::from_secs(9)).into_api_error("The database");
        assert_eq!((answer.status(), answer.code()), (504, "gateway_timeout"));
        assert!(
            answer.message().contains("may or may not"),
            "{}",
            answer.message()
        );
    }

    #[test]
    fn a_subrequest_that_cannot_be_sent_or_read_is_502() {
        for failure in [
            FetchError::Send("refused".into()),
            FetchError::Read("reset".into()),
        ] {
            let answer = failure.into_api_error("Supabase Auth");
            assert_eq!((answer.status(), answer.code()), (502, "bad_gateway"));
        }
    }
}
