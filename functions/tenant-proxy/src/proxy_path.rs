//! Which connection and which PostgREST path a proxied request names.

use edge_http::ApiError;
use percent_encoding::percent_decode;

/// More rounds of percent-decoding than any legitimate path needs (PostgREST names are
/// encoded once at most); a segment still changing after them is refused.
const MAX_DECODE_ROUNDS: usize = 4;

/// `/<connection>/rest/v1/<path>` split into its parts. Only `/rest/v1/…` is reachable:
/// a tenant's Auth, Storage or admin endpoints never are.
#[derive(Debug, PartialEq, Eq)]
pub struct ProxyPath<'a> {
    pub connection: &'a str,
    /// Begins with `/rest/v1`.
    pub rest_path: &'a str,
}

impl<'a> ProxyPath<'a> {
    pub fn parse(sub_path: &'a str) -> Result<Self, ApiError> {
        let not_found =
            || ApiError::not_found("Use /tenant-proxy/<connection>/rest/v1/<table or rpc/fn>");
        let rest = sub_path.strip_prefix('/').ok_or_else(not_found)?;
        let (connection, tail) = rest.split_once('/').ok_or_else(not_found)?;
        let rest_path = &sub_path[1 + connection.len()..];
        let under_rest = tail == "rest/v1" || tail.starts_with("rest/v1/");
        if connection.is_empty() || !under_rest {
            return Err(not_found());
        }
        if let Some(segment) = tail.split('/').find(|s| !is_safe_segment(s)) {
            return Err(ApiError::bad_request(
                "unsafe_path",
                format!(
                    "The path segment '{segment}' decodes to something with '/', '\\', '.' or a \
                     control character, which could reach more than /rest/v1 on the tenant's side"
                ),
            ));
        }
        Ok(Self {
            connection,
            rest_path,
        })
    }
}

/// Whether a path segment, percent-decoded again and again until it stops changing (so
/// `%252e%252e` is `..` too), names one PostgREST resource and nothing else: no `/` or `\`
/// (a gateway that decodes before routing would split it), no `.` (so no `.`, `..` or `..;`
/// segment, which climb on some servers; PostgREST names a table or function by its bare
/// name), no control characters.
fn is_safe_segment(segment: &str) -> bool {
    let mut current = segment.as_bytes().to_vec();
    for _ in 0..=MAX_DECODE_ROUNDS {
        let text = String::from_utf8_lossy(&current);
        if text.contains(['/', '\\', '.']) || text.chars().any(char::is_control) {
            return false;
        }
        let decoded: Vec<u8> = percent_decode(&current).collect();
        if decoded == current {
            return true;
        }
        current = decoded;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsafe_path(path: &str) -> bool {
        ProxyPath::parse(path).is_err_and(|e| e.status() == 400 && e.code() == "unsafe_path")
    }

    #[test]
    fn splits_connection_and_rest_path() {
        assert_eq!(
            ProxyPath::parse("/acme/rest/v1/orders").unwrap(),
            ProxyPath {
                connection: "acme",
                rest_path: "/rest/v1/orders"
            }
        );
        assert_eq!(
            ProxyPath::parse("/acme/rest/v1/rpc/total")
                .unwrap()
                .rest_path,
            "/rest/v1/rpc/total"
        );
        assert_eq!(
            ProxyPath::parse("/acme/rest/v1").unwrap().rest_path,
            "/rest/v1"
        );
    }

    #[test]
    fn only_rest_v1_is_reachable() {
        for path in [
            "",
            "/",
            "/acme",
            "/acme/",
            "/acme/auth/v1/admin/users",
            "/acme/storage/v1/object",
            "/acme/rest/v10/orders",
            "/acme/rest%2Fv1/orders",
            "//rest/v1/orders",
        ] {
            let err = ProxyPath::parse(path).unwrap_err();
            assert_eq!(err.status(), 404, "{path}");
        }
    }

    #[test]
    fn literal_dot_segments_and_backslashes_are_refused() {
        for path in [
            "/acme/rest/v1/../../auth/v1/admin/users",
            "/acme/rest/v1/./orders",
            "/acme/rest/v1/..\\auth",
            "/acme/rest/v1/orders\\..",
        ] {
            assert!(unsafe_path(path), "{path}");
        }
    }

    #[test]
    fn encoded_slash_traversal_to_the_auth_admin_api_is_refused() {
        for path in [
            "/acme/rest/v1/..%2F..%2Fauth%2Fv1%2Fadmin%2Fusers",
            "/acme/rest/v1/..%2f..%2fauth%2fv1%2fadmin%2fusers",
            "/acme/rest/v1/orders%2F..%2F..%2Fauth",
            "/acme/rest/v1/%2e%2e/auth/v1/users",
            "/acme/rest/v1/%2E%2E/auth/v1/users",
            "/acme/rest/v1/.%2e/auth",
            "/acme/rest/v1/%2e",
        ] {
            assert!(unsafe_path(path), "{path}");
        }
    }

    #[test]
    fn encoded_backslash_traversal_is_refused() {
        for path in [
            "/acme/rest/v1/..%5C..%5Cauth%5Cv1%5Cadmin%5Cusers",
            "/acme/rest/v1/..%5c..%5cauth",
            "/acme/rest/v1/orders%5Cx",
        ] {
            assert!(unsafe_path(path), "{path}");
        }
    }

    #[test]
    fn double_and_triple_encoded_traversal_is_refused() {
        for path in [
            "/acme/rest/v1/%252e%252e/%252e%252e/auth/v1/admin/users",
            "/acme/rest/v1/%252e%252e%252f%252e%252e%252fauth",
            "/acme/rest/v1/..%252F..%252Fauth",
            "/acme/rest/v1/%25252e%25252e",
            "/acme/rest/v1/%255c",
            "/acme/rest/v1/%2525252525252e",
        ] {
            assert!(unsafe_path(path), "{path}");
        }
    }

    #[test]
    fn a_dot_anywhere_in_a_segment_is_refused() {
        for path in [
            "/acme/rest/v1/..;/auth",
            "/acme/rest/v1/%2e%2e%3b",
            "/acme/rest/v1/a..b",
            "/acme/rest/v1/public.orders",
            "/acme/rest/v1/rpc/%2ehidden",
        ] {
            assert!(unsafe_path(path), "{path}");
        }
    }

    #[test]
    fn encoded_control_characters_are_refused() {
        for path in [
            "/acme/rest/v1/orders%00",
            "/acme/rest/v1/orders%0d%0aHost:%20evil",
            "/acme/rest/v1/orders%09",
            "/acme/rest/v1/orders%7f",
            "/acme/rest/v1/orders%C2%85",
            "/acme/rest/v1/orders%2500",
        ] {
            assert!(unsafe_path(path), "{path}");
        }
    }

    #[test]
    fn ordinary_postgrest_paths_pass() {
        for path in [
            "/acme/rest/v1/orders",
            "/acme/rest/v1/",
            "/acme/rest/v1/rpc/total_sales",
            "/acme/rest/v1/order%20items",
            "/acme/rest/v1/caf%C3%A9",
            "/acme/rest/v1/100%25",
        ] {
            assert!(ProxyPath::parse(path).is_ok(), "{path}");
        }
    }
}
