//! How a tenant's key is attached, which depends on its format.

use edge_auth::{ApiKeyFormat, api_key_format};

/// Legacy JWT keys go as `apikey` and as the bearer token (PostgREST reads the role from the
/// bearer); an `sb_secret_…` key goes as `apikey` only (Supabase's gateway turns it into the
/// role itself, and it is not a JWT).
pub fn tenant_auth_headers(key: &str) -> Vec<(&'static str, String)> {
    match api_key_format(key) {
        Some(ApiKeyFormat::Secret | ApiKeyFormat::Publishable) => vec![("apikey", key.to_owned())],
        _ => vec![
            ("apikey", key.to_owned()),
            ("authorization", format!("Bearer {key}")),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_keys_go_as_apikey_only() {
        assert_eq!(
            tenant_auth_headers("sb_secret_abc"),
            vec![("apikey", "sb_secret_abc".to_owned())]
        );
    }

    #[test]
    fn jwt_keys_go_as_apikey_and_bearer() {
        let key = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2ln";
        let headers = tenant_auth_headers(key);
        assert_eq!(headers[0], ("apikey", key.to_owned()));
        assert_eq!(headers[1], ("authorization", format!("Bearer {key}")));
    }
}
