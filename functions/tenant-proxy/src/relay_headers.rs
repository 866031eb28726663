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

/// The allowed headers that are present, each read with `get` (one read per allowed name, not
/// one per header sent: every read crosses from wasm into the runtime).
pub fn allowed<'a>(
    allow: &'a [&'a str],
    get: impl Fn(&str) -> Option<String> + 'a,
) -> impl Iterator<Item = (&'a str, String)> + 'a {
    allow
        .iter()
        .filter_map(move |name| get(name).map(|value| (*name, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header map read like the runtime's `Headers.get`: names without regard to case.
    fn headers<'a>(sent: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| {
            sent.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| (*v).to_owned())
        }
    }

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
        ];
        let names: Vec<&str> = allowed(REQUEST_HEADERS, headers(&incoming))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(names, ["content-type", "prefer", "range"]);
    }

    #[test]
    fn only_postgrest_answer_headers_come_back() {
        let upstream = [
            ("content-range", "0-4/5"),
            ("set-cookie", "tenant=1"),
            ("server", "postgrest"),
            ("Content-Type", "application/json"),
        ];
        let kept: Vec<(&str, String)> = allowed(RESPONSE_HEADERS, headers(&upstream)).collect();
        assert_eq!(
            kept,
            [
                ("content-type", "application/json".to_owned()),
                ("content-range", "0-4/5".to_owned())
            ]
        );
    }
}
