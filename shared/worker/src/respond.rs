//! Building responses: JSON bodies and errors, with the function's CORS headers added later by
//! [`crate::serve`].

use edge_http::ApiError;
use serde::Serialize;
use worker::Response;

/// `status` with `value` as JSON.
pub fn json_response<T: Serialize>(status: u16, value: &T) -> Result<Response, ApiError> {
    let body =
        serde_json::to_string(value).map_err(|e| internal_error("serialising a response", e))?;
    let response = Response::ok(body).map_err(|e| internal_error("building a response", e))?;
    let mut response = response.with_status(status);
    set_header(&mut response, "content-type", "application/json")?;
    Ok(response)
}

/// A body-less answer, e.g. `204 No Content`.
pub fn empty_response(status: u16) -> Result<Response, ApiError> {
    Ok(Response::empty()
        .map_err(|e| internal_error("building a response", e))?
        .with_status(status))
}

/// Logs what went wrong with its context and answers the generic 500, so internals stay in
/// the logs.
pub fn internal_error(context: &str, detail: impl std::fmt::Display) -> ApiError {
    worker::console_error!("internal error while {context}: {detail}");
    ApiError::internal()
}

/// The JSON error response for an [`ApiError`] (its extra headers such as `Allow` or
/// `Retry-After` included).
pub(crate) fn error_response(error: &ApiError) -> Response {
    let mut response = Response::ok(error.body())
        .map(|r| r.with_status(error.status()))
        .unwrap_or_else(|_| {
            Response::empty()
                .expect("an empty response")
                .with_status(500)
        });
    let headers = response.headers_mut();
    let _ = headers.set("content-type", "application/json");
    for (name, value) in error.headers() {
        let _ = headers.set(name, value);
    }
    response
}

pub(crate) fn set_header(response: &mut Response, name: &str, value: &str) -> Result<(), ApiError> {
    response
        .headers_mut()
        .set(name, value)
        .map_err(|e| internal_error("setting a header", e))
}
