//! Which headers cross the proxy. Allow-lists, so the caller's `Authorization`, `apikey` and
//! cookies never reach the tenant and nothing of the tenant's but PostgREST's answer headers
//! reaches the caller.

/// Request headers PostgREST reads, passed to the tenant.
pub const REQUEST_HEADERS: &[&str] = &[
    "accept",
    "accept-profile",
    "content-profile",
    "content-type",
    "prefer",
    "range",
    "range-unit",
];

/// Response headers PostgREST sets, passed back (and readable by browsers).
pub const RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "content-range",
    "content-location",
    "location",
    "preference-applied",
    "range-unit",
];

/// Keeps the allowed headers of `headers`, in order.
pub fn allowed(
    headers: impl IntoIterator<Item = (String, String)>,
    allow: &[&str],
) -> Vec<(String, String)> {
    headers
        .into_iter()
        .filter(|(name, _)| allow.iter().any(|a| a.eq_ignore_ascii_case(name)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_cookies_never_cross() {
        let incoming = [
            ("authorization", "Bearer caller-token"),
            ("apikey", "caller-anon-key"),
            ("cookie", "sb-access-token=x"),
            ("x-forwarded-for", "1.2.3.4"),
            ("prefer", "count=exact"),
            ("range", "0-9"),
            ("content-type", "application/json"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let names: Vec<String> = allowed(incoming, REQUEST_HEADERS)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(names, ["prefer", "range", "content-type"]);
    }

    #[test]
    fn only_postgrest_answer_headers_come_back() {
        let upstream = [
            ("content-range", "0-4/5"),
            ("set-cookie", "tenant=1"),
            ("server", "postgrest"),
            ("Content-Type", "application/json"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let names: Vec<String> = allowed(upstream, RESPONSE_HEADERS)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(names, ["content-range", "Content-Type"]);
    }
}
