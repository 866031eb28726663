//! Reading requests: the incoming request, headers, the function-relative path, JSON bodies
//! within a size limit.

use edge_http::{ApiError, BodyLimit, LimitedBody, parse_json_object};
use serde::de::DeserializeOwned;
use worker::js_sys::{Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::ReadableStreamDefaultReader;
use worker::worker_sys::ext::RequestExt;
use worker::{Cf, Headers, Method, Url};

/// The request a function answers, read from the runtime's `Request` with as few crossings into
/// JS as it takes: method and URL once, a header when it is asked for, `request.cf` only by the
/// function that wants it. (The worker crate's `Request` reads `cf` for every request, which
/// workerd builds anew on each read: ~7% of the CPU of an empty answer, bench/HISTORY.md.)
#[derive(Debug)]
pub struct IncomingRequest {
    raw: worker::web_sys::Request,
    method: String,
    url: String,
    headers: Headers,
}

impl IncomingRequest {
    pub fn new(raw: worker::web_sys::Request) -> Self {
        Self {
            method: raw.method(),
            url: raw.url(),
            headers: Headers(raw.headers()),
            raw,
        }
    }

    /// The method as sent (`worker::Method` reads one it does not know, e.g. `QUERY`, as GET).
    pub fn method_str(&self) -> &str {
        &self.method
    }

    pub fn method(&self) -> Method {
        Method::from(self.method.clone())
    }

    /// The whole URL, parsed.
    pub fn url(&self) -> Result<Url, worker::url::ParseError> {
        Url::parse(&self.url)
    }

    /// The query parameter `name` (its first occurrence, percent-decoded), or
    /// `400 missing_<name>` saying "`<METHOD>` needs ?`<name>`=`<shape>`".
    pub fn required_query(&self, name: &str, shape: &str) -> Result<String, ApiError> {
        required_query_of(&self.url, &self.method, name, shape)
    }

    /// The URL's path, as sent (percent-encoding kept).
    pub fn path(&self) -> &str {
        path_of(&self.url)
    }

    /// A header's value, if present and valid UTF-8 (one crossing into JS).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }

    /// All headers, e.g. to pick the ones a proxy passes on.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// Cloudflare's properties of the request (country, city, …), read when asked for.
    pub fn cf(&self) -> Option<Cf> {
        self.raw.cf().map(Cf::from)
    }

    /// The body, at most `limit` bytes (once: the runtime refuses a second read); empty when
    /// there is none. 413 when `Content-Length` says more, or as soon as the bytes read from the
    /// stream pass the limit: the stream is then cancelled, so the rest of an oversized (e.g.
    /// chunked) upload is never read and the isolate holds at most `limit` bytes of it.
    pub async fn read_body(&mut self, limit: BodyLimit) -> Result<Vec<u8>, ApiError> {
        limit.check_declared(self.header("content-length").as_deref())?;
        let Some(stream) = self.raw.body() else {
            return Ok(Vec::new());
        };
        let reader: ReadableStreamDefaultReader = stream
            .get_reader()
            .dyn_into()
            .map_err(|_| unreadable_body())?;
        let mut body = LimitedBody::new(limit);
        while let Some(chunk) = next_chunk(&reader).await? {
            if let Err(too_large) = body.push_with(chunk.length() as usize, |to| chunk.copy_to(to))
            {
                // Whether the cancel succeeds changes nothing about the answer.
                let _ = JsFuture::from(reader.cancel()).await;
                return Err(too_large);
            }
        }
        Ok(body.into_bytes())
    }

    /// The runtime's request (for its body stream).
    pub fn inner(&self) -> &worker::web_sys::Request {
        &self.raw
    }
}

/// The next chunk of a body stream, `None` at its end.
async fn next_chunk(reader: &ReadableStreamDefaultReader) -> Result<Option<Uint8Array>, ApiError> {
    let result = JsFuture::from(reader.read())
        .await
        .map_err(|_| unreadable_body())?;
    let field = |name: &str| Reflect::get(&result, &JsValue::from_str(name));
    if field("done").map_err(|_| unreadable_body())?.is_truthy() {
        return Ok(None);
    }
    let value = field("value").map_err(|_| unreadable_body())?;
    value.dyn_into().map(Some).map_err(|_| unreadable_body())
}

fn unreadable_body() -> ApiError {
    ApiError::bad_request("unreadable_body", "The request body could not be read")
}

/// The path of a serialised URL (what the runtime's `request.url` gives), without re-parsing it:
/// a serialised http(s) URL has a path that starts at the first `/` after the host, and `?`/`#`
/// end it (inside the path they are percent-encoded).
fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let Some(start) = url[after_scheme..].find('/').map(|i| after_scheme + i) else {
        return "/";
    };
    let path = &url[start..];
    &path[..path.find(['?', '#']).unwrap_or(path.len())]
}

/// [`IncomingRequest::required_query`] on a serialised URL.
fn required_query_of(url: &str, method: &str, name: &str, shape: &str) -> Result<String, ApiError> {
    let url = Url::parse(url)
        .map_err(|_| ApiError::bad_request("invalid_url", "Unreadable request URL"))?;
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| {
            ApiError::bad_request(
                format!("missing_{name}"),
                format!("{method} needs ?{name}={shape}"),
            )
        })
}

/// The path after the function's own name: `/functions/v1/tenant-proxy/a/b` → `/a/b` for
/// `tenant-proxy`; also when the Worker is deployed on its own and called at `/tenant-proxy/…`
/// or `/…`.
pub fn sub_path<'a>(path: &'a str, function: &str) -> &'a str {
    let rest = path.strip_prefix("/functions/v1").unwrap_or(path);
    match rest
        .strip_prefix('/')
        .and_then(|r| r.strip_prefix(function))
    {
        Some(after) if after.is_empty() || after.starts_with('/') => after,
        _ => rest,
    }
}

/// The body, a JSON object, parsed as `T`: 413 past `limit` bytes (declared or as read, see
/// [`IncomingRequest::read_body`]), 400 naming what is wrong when it is not the JSON `T` expects.
pub async fn read_json_body<T: DeserializeOwned>(
    req: &mut IncomingRequest,
    limit: BodyLimit,
) -> Result<T, ApiError> {
    parse_json_object(&req.read_body(limit).await?)
}

#[cfg(test)]
mod tests {
    use super::{path_of, required_query_of, sub_path};

    #[test]
    fn a_required_query_parameter_is_read_decoded_or_named_missing() {
        let url = "https://example.com/functions/v1/save-connection?x=1&name=acme%20db&name=second";
        assert_eq!(
            required_query_of(url, "DELETE", "name", "<name>").unwrap(),
            "acme db",
            "the first occurrence, percent-decoded"
        );
        let missing = required_query_of(url, "DELETE", "token", "<token>").unwrap_err();
        assert_eq!(
            (missing.status(), missing.code(), missing.message()),
            (400, "missing_token", "DELETE needs ?token=<token>")
        );
        let empty = required_query_of("https://example.com/f?name=", "GET", "name", "<name>");
        assert_eq!(
            empty.unwrap(),
            "",
            "present but empty is the caller's to validate"
        );
        let unreadable = required_query_of("not a url", "GET", "name", "<name>").unwrap_err();
        assert_eq!(unreadable.code(), "invalid_url");
    }

    #[test]
    fn sub_path_strips_the_function_prefix() {
        assert_eq!(
            sub_path(
                "/functions/v1/tenant-proxy/acme/rest/v1/orders",
                "tenant-proxy"
            ),
            "/acme/rest/v1/orders"
        );
        assert_eq!(
            sub_path("/functions/v1/save-connection", "save-connection"),
            ""
        );
        assert_eq!(sub_path("/tenant-proxy/acme", "tenant-proxy"), "/acme");
        assert_eq!(sub_path("/acme/rest/v1", "tenant-proxy"), "/acme/rest/v1");
        // A longer name that starts with the function's is not the function.
        assert_eq!(
            sub_path("/functions/v1/tenant-proxyx/a", "tenant-proxy"),
            "/tenant-proxyx/a"
        );
    }

    #[test]
    fn the_path_of_a_serialised_url_is_what_the_url_parser_reads() {
        for url in [
            "https://example.com/functions/v1/tenant-proxy/acme/rest/v1/t?select=*&a=/b#c",
            "http://127.0.0.1:8787/functions/v1/save-connection",
            "https://example.com/",
            "https://example.com/a%3Fb/%23c?x=1",
            "https://user:pass@example.com:8443/p/q/?",
            "https://example.com/a#frag/ment",
            "https://example.com/%2e%2e/x",
        ] {
            let parsed = worker::Url::parse(url).unwrap();
            assert_eq!(path_of(parsed.as_str()), parsed.path(), "{url}");
        }
    }
}
