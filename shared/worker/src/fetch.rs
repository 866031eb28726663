//! The runtime's `fetch` for subrequests whose answer is read whole as text: one JS `fetch`
//! call with a plain init object and one `Response.text()`, nothing else crossing into JS,
//! the whole answer within a deadline that the runtime keeps (`AbortSignal.timeout`: its timer
//! aborts the request, headers or body, with no timer or race of ours).

use std::time::Duration;

use edge_http::ApiError;
use worker::js_sys::Reflect;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{AbortSignal, Headers, RequestInit, Response, WorkerGlobalScope};

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
/// [`FetchError::TimedOut`] when headers and body have not both arrived within `timeout`.
pub async fn fetch_text<'a>(
    method: &str,
    url: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Option<&str>,
    timeout: Duration,
) -> Result<(u16, String), FetchError> {
    let signal = AbortSignal::timeout_with_u32(timer_millis(timeout));
    match send_and_read(method, url, headers, body, &signal).await {
        // Sending or reading failed because the deadline aborted it.
        Err(_) if signal.aborted() => Err(FetchError::TimedOut(timeout)),
        answer => answer,
    }
}

/// A deadline as a JS timer takes it: past 2^31 - 1 ms, a timer would fire at once.
pub fn timer_millis(timeout: Duration) -> u32 {
    u32::try_from(timeout.as_millis()).map_or(i32::MAX as u32, |ms| ms.min(i32::MAX as u32))
}

async fn send_and_read<'a>(
    method: &str,
    url: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Option<&str>,
    signal: &AbortSignal,
) -> Result<(u16, String), FetchError> {
    let send = |e: JsValue| FetchError::Send(describe(&e));
    let js_headers = Headers::new().map_err(send)?;
    for (name, value) in headers {
        js_headers.append(name, value).map_err(send)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(&js_headers);
    init.set_signal(Some(signal));
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let global: WorkerGlobalScope = worker::js_sys::global().unchecked_into();
    let response: Response = JsFuture::from(global.fetch_with_str_and_init(url, &init))
        .await
        .map_err(send)?
        .unchecked_into();
    let read = |e: JsValue| FetchError::Read(describe(&e));
    let text = JsFuture::from(response.text().map_err(read)?)
        .await
        .map_err(read)?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
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

    use super::{FetchError, timer_millis};

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
