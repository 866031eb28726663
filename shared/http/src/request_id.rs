//! An id that ties a request's log lines together.

const MAX_LEN: usize = 128;

/// The request's id for logs: Cloudflare's `cf-ray` when present (set by the edge, not the
/// client), else the caller's `x-request-id`, else 16 random hex characters. Header values are
/// only used when they are 1–128 characters of `[A-Za-z0-9._:-]`, so a client cannot inject
/// text into log lines.
pub fn request_id(cf_ray: Option<&str>, x_request_id: Option<&str>) -> String {
    [cf_ray, x_request_id]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|id| is_safe(id))
        .map_or_else(random_id, str::to_owned)
}

fn is_safe(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// 64 random bits as hex. If the platform RNG fails (it does not in Workers) the id is zeros:
/// a log id is not worth failing a request for.
fn random_id() -> String {
    let mut bytes = [0_u8; 8];
    let _ = getrandom::getrandom(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_cf_ray_then_request_id() {
        assert_eq!(
            request_id(Some("8a1b2c3d4e5f6a7b-AMS"), Some("abc")),
            "8a1b2c3d4e5f6a7b-AMS"
        );
        assert_eq!(request_id(None, Some(" req-42 ")), "req-42");
        assert_eq!(
            request_id(Some("bad value\nINJECTED"), Some("req-42")),
            "req-42"
        );
    }

    #[test]
    fn falls_back_to_random_hex() {
        let long = "a".repeat(129);
        let id = request_id(Some(""), Some(&long));
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(request_id(None, None), request_id(None, None));
    }
}
