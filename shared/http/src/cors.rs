//! CORS the way Supabase's `_shared/cors.ts` (and supabase-js's `corsHeaders`) does it.

/// Request headers Supabase client libraries send to functions: supabase-js's own list
/// (`authorization, x-client-info, apikey, content-type`) plus `x-region`, which
/// `functions.invoke()` adds when a region is chosen.
pub const SUPABASE_CLIENT_HEADERS: &[&str] = &[
    "authorization",
    "x-client-info",
    "apikey",
    "content-type",
    "x-region",
];

/// CORS policy of one function: any origin (`*`; auth is by bearer token, never cookies), the
/// Supabase client headers, and the function's methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    allow_methods: String,
    allow_headers: String,
    expose_headers: Option<String>,
}

/// The answer to an `OPTIONS` preflight: status 200, body `ok`, as in Supabase's examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// Always 200.
    pub status: u16,
    /// `ok`
    pub body: &'static str,
    /// The CORS headers.
    pub headers: Vec<(&'static str, String)>,
}

impl Cors {
    /// A policy for a function answering `methods` (`OPTIONS` is added).
    pub fn new(methods: &[&str]) -> Self {
        let mut all: Vec<&str> = methods.to_vec();
        if !all.iter().any(|m| m.eq_ignore_ascii_case("OPTIONS")) {
            all.push("OPTIONS");
        }
        Self {
            allow_methods: all.join(", "),
            allow_headers: SUPABASE_CLIENT_HEADERS.join(", "),
            expose_headers: None,
        }
    }

    /// Allows further request headers (e.g. PostgREST's `prefer`, `range`, `accept-profile`
    /// for tenant-proxy).
    pub fn allow_headers(mut self, extra: &[&str]) -> Self {
        for header in extra {
            self.allow_headers.push_str(", ");
            self.allow_headers.push_str(header);
        }
        self
    }

    /// Lets browsers read these response headers (e.g. `content-range`).
    pub fn expose_headers(mut self, headers: &[&str]) -> Self {
        self.expose_headers = Some(headers.join(", "));
        self
    }

    /// Headers for every response of the function, errors included.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("access-control-allow-origin", "*".to_owned()),
            ("access-control-allow-headers", self.allow_headers.clone()),
            ("access-control-allow-methods", self.allow_methods.clone()),
        ];
        if let Some(expose) = &self.expose_headers {
            headers.push(("access-control-expose-headers", expose.clone()));
        }
        headers
    }

    /// The answer to `OPTIONS`.
    pub fn preflight(&self) -> Preflight {
        Preflight {
            status: 200,
            body: "ok",
            headers: self.headers(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn supabase_style_headers() {
        let cors = Cors::new(&["POST", "GET"]);
        let headers = cors.headers();
        assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
        assert_eq!(
            header(&headers, "access-control-allow-headers"),
            Some("authorization, x-client-info, apikey, content-type, x-region")
        );
        assert_eq!(
            header(&headers, "access-control-allow-methods"),
            Some("POST, GET, OPTIONS")
        );
        assert_eq!(header(&headers, "access-control-expose-headers"), None);
    }

    #[test]
    fn preflight_and_extensions() {
        let cors = Cors::new(&["GET", "OPTIONS"])
            .allow_headers(&["prefer", "range"])
            .expose_headers(&["content-range"]);
        let preflight = cors.preflight();
        assert_eq!((preflight.status, preflight.body), (200, "ok"));
        assert_eq!(
            header(&preflight.headers, "access-control-allow-methods"),
            Some("GET, OPTIONS")
        );
        assert!(
            header(&preflight.headers, "access-control-allow-headers")
                .unwrap()
                .ends_with("x-region, prefer, range")
        );
        assert_eq!(
            header(&preflight.headers, "access-control-expose-headers"),
            Some("content-range")
        );
    }
}
