//! Reading requests: headers, the function-relative path, JSON bodies within a size limit.

use edge_http::{ApiError, BodyLimit, parse_json_object};
use serde::de::DeserializeOwned;
use worker::Request;

/// A header's value, if present and valid UTF-8.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
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

/// The body, a JSON object, parsed as `T`: 413 past `limit` bytes (declared or actual), 400 naming what is
/// wrong when it is not the JSON `T` expects.
pub async fn read_json_body<T: DeserializeOwned>(
    req: &mut Request,
    limit: BodyLimit,
) -> Result<T, ApiError> {
    limit.check_declared(header(req, "content-length").as_deref())?;
    let bytes = req.bytes().await.map_err(|_| {
        ApiError::bad_request("unreadable_body", "The request body could not be read")
    })?;
    parse_json_object(limit.check_actual(&bytes)?)
}

#[cfg(test)]
mod tests {
    use super::sub_path;

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
}
