//! The runtime's `fetch` for subrequests whose answer is read whole as text: one JS `fetch`
//! call with a plain init object and one `Response.text()`, nothing else crossing into JS.

use worker::js_sys::Reflect;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{Headers, RequestInit, Response, WorkerGlobalScope};

/// Why a subrequest gave no answer: it could not be sent, or its body could not be read.
#[derive(Debug)]
pub enum FetchError {
    Send(String),
    Read(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Send(e) => write!(f, "sending failed: {e}"),
            Self::Read(e) => write!(f, "reading the answer failed: {e}"),
        }
    }
}

/// Sends `method url` with `headers` and `body` and returns the answer's status and body.
pub async fn fetch_text<'a>(
    method: &str,
    url: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Option<&str>,
) -> Result<(u16, String), FetchError> {
    let send = |e: JsValue| FetchError::Send(describe(&e));
    let js_headers = Headers::new().map_err(send)?;
    for (name, value) in headers {
        js_headers.append(name, value).map_err(send)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(&js_headers);
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
