//! Which connection and which PostgREST path a proxied request names.

use edge_http::ApiError;

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
        // Encoded or literal dot segments could climb out of /rest/v1 on the tenant's side.
        let climbs = tail.split('/').any(|s| s == ".." || s == ".")
            || tail.contains('%') && tail.to_ascii_lowercase().contains("%2e");
        if connection.is_empty() || !under_rest || climbs || tail.contains('\\') {
            return Err(not_found());
        }
        Ok(Self {
            connection,
            rest_path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "/acme/rest/v1/../../auth/v1/admin/users",
            "/acme/rest/v1/%2e%2e/auth/v1/users",
            "/acme/rest/v1/%2E%2E/auth/v1/users",
            "/acme/rest/v1/..\\auth",
            "//rest/v1/orders",
        ] {
            let err = ProxyPath::parse(path).unwrap_err();
            assert_eq!(err.status(), 404, "{path}");
        }
    }
}
