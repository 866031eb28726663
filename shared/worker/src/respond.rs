//! Building responses: JSON bodies, errors and relayed bodies, kept in Rust as an [`Answer`]
//! until [`crate::serve`] has added the CORS headers and the request id, then made into the
//! runtime's `Response` in one go.

use edge_http::ApiError;
use serde::Serialize;
use worker::web_sys;

use crate::js_init::{HeaderRecord, parsed};

/// A function's answer, its status and headers kept in Rust until [`crate::serve`] has added
/// the CORS headers and the request id, then made into the runtime's `Response` in two crossings
/// into JS — `JSON.parse` of its status and headers, then `new Response(body, init)` — where
/// building it through the worker crate took one per header, plus a `Headers`, a `ResponseInit`
/// and a `Uint8Array` copy of the body (measured in bench/HISTORY.md). A stream the runtime holds
/// (a relayed body) is passed on as it is, never copied into wasm.
#[derive(Debug)]
pub struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Empty,
    Text(String),
    /// A stream the runtime holds, e.g. a tenant's answer relayed.
    Stream(web_sys::ReadableStream),
}

/// The `init` of `new Response(body, init)`.
#[derive(Serialize)]
struct ResponseInit<'a> {
    status: u16,
    headers: HeaderRecord<'a, &'static str, String>,
}

impl Answer {
    /// `status` with `body` of type `content_type`.
    pub(crate) fn text(status: u16, content_type: &str, body: String) -> Self {
        Self {
            status,
            headers: vec![("content-type", content_type.to_owned())],
            body: Body::Text(body),
        }
    }

    /// `status` with `body`, JSON already serialised.
    pub fn json_text(status: u16, body: String) -> Self {
        Self::text(status, "application/json", body)
    }

    /// `status` with `headers` and a body stream the runtime holds (none for `None`).
    pub fn relayed(
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Option<web_sys::ReadableStream>,
    ) -> Self {
        Self {
            status,
            headers,
            body: body.map_or(Body::Empty, Body::Stream),
        }
    }

    /// The JSON error answer for an [`ApiError`] (its extra headers such as `Allow` or
    /// `Retry-After` included).
    pub fn error(error: &ApiError) -> Self {
        let mut answer = Self::json_text(error.status(), error.body());
        answer.set_headers(error.headers().iter().cloned());
        answer
    }

    /// Sets these headers, replacing any of the same name.
    pub fn set_headers(&mut self, set: impl IntoIterator<Item = (&'static str, String)>) {
        for (name, value) in set {
            self.headers
                .retain(|(known, _)| !known.eq_ignore_ascii_case(name));
            self.headers.push((name, value));
        }
    }

    /// The runtime's `Response`.
    pub fn into_response(self) -> worker::Result<web_sys::Response> {
        let init: web_sys::ResponseInit = parsed(&ResponseInit {
            status: self.status,
            headers: HeaderRecord(&self.headers),
        })?;
        Ok(match &self.body {
            Body::Empty => web_sys::Response::new_with_opt_str_and_init(None, &init)?,
            Body::Text(text) => web_sys::Response::new_with_opt_str_and_init(Some(text), &init)?,
            Body::Stream(stream) => {
                web_sys::Response::new_with_opt_readable_stream_and_init(Some(stream), &init)?
            }
        })
    }
}

/// `status` with `value` as JSON.
pub fn json_response<T: Serialize>(status: u16, value: &T) -> Result<Answer, ApiError> {
    let body =
        serde_json::to_string(value).map_err(|e| internal_error("serialising a response", e))?;
    Ok(Answer::json_text(status, body))
}

/// A body-less answer, e.g. `204 No Content`.
pub fn empty_response(status: u16) -> Result<Answer, ApiError> {
    Ok(Answer {
        status,
        headers: Vec::new(),
        body: Body::Empty,
    })
}

/// Logs what went wrong with its context and answers the generic 500, so internals stay in
/// the logs.
pub fn internal_error(context: &str, detail: impl std::fmt::Display) -> ApiError {
    worker::console_error!("internal error while {context}: {detail}");
    ApiError::internal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(answer: &Answer) -> (u16, &[(&'static str, String)], Option<&str>) {
        let body = match &answer.body {
            Body::Empty => None,
            Body::Text(text) => Some(text.as_str()),
            Body::Stream(_) => panic!("not built here"),
        };
        (answer.status, &answer.headers, body)
    }

    #[test]
    fn an_error_answer_is_its_json_with_its_own_headers() {
        let error = ApiError::method_not_allowed("PUT", &["GET", "POST"]);
        let answer = Answer::error(&error);
        let (status, headers, body) = built(&answer);
        assert_eq!(status, 405);
        assert_eq!(headers[0], ("content-type", "application/json".to_owned()));
        assert!(headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("allow")));
        assert_eq!(body, Some(error.body().as_str()));
    }

    #[test]
    fn set_headers_replaces_a_header_of_the_same_name() {
        let mut answer = json_response(201, &serde_json::json!({"a": 1})).unwrap();
        answer.set_headers([
            ("Content-Type", "text/plain".to_owned()),
            ("x-request-id", "abc".to_owned()),
        ]);
        let (status, headers, body) = built(&answer);
        assert_eq!((status, body), (201, Some(r#"{"a":1}"#)));
        assert_eq!(
            headers,
            [
                ("Content-Type", "text/plain".to_owned()),
                ("x-request-id", "abc".to_owned())
            ]
        );
    }

    #[test]
    fn the_response_init_is_the_status_and_a_header_record() {
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("allow", "GET, POST".to_owned()),
        ];
        let init = serde_json::to_string(&ResponseInit {
            status: 405,
            headers: HeaderRecord(&headers),
        })
        .unwrap();
        assert_eq!(
            init,
            r#"{"status":405,"headers":{"content-type":"application/json","allow":"GET, POST"}}"#
        );
    }
}
