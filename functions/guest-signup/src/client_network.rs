//! Where a request comes from, as Cloudflare tells the Worker: `CF-Connecting-IP` (set by
//! Cloudflare's edge, which overwrites any client-sent value) and the country from
//! `CF-IPCountry` or `request.cf`.

use std::net::IpAddr;

/// The client's address, normalised (`::FFFF:1.2.3.4` and `1.2.3.4` stay distinct, but case and
/// zero-compression of IPv6 are canonical), or `None` when the header is absent or not an IP.
pub fn client_ip(cf_connecting_ip: Option<&str>) -> Option<IpAddr> {
    cf_connecting_ip?.trim().parse().ok()
}

/// An ISO 3166-1 alpha-2 code as Cloudflare sends it (also `XX` unknown and `T1` Tor), upper-cased;
/// anything else is dropped.
pub fn country_code(value: Option<&str>) -> Option<String> {
    let code = value?.trim().to_ascii_uppercase();
    let bytes = code.as_bytes();
    let shaped =
        bytes.len() == 2 && bytes[0].is_ascii_uppercase() && bytes[1].is_ascii_alphanumeric();
    shaped.then_some(code)
}

/// A city name from `request.cf`, bounded to the column's 100 characters; blank is dropped.
pub fn city_name(value: Option<String>) -> Option<String> {
    let city: String = value?
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    (!city.is_empty()).then_some(city)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_client_ip() {
        assert_eq!(
            client_ip(Some("203.0.113.7")).unwrap().to_string(),
            "203.0.113.7"
        );
        assert_eq!(
            client_ip(Some(" 2001:DB8:0:0::1 ")).unwrap().to_string(),
            "2001:db8::1"
        );
        assert_eq!(client_ip(Some("203.0.113.7, 10.0.0.1")), None);
        assert_eq!(client_ip(Some("unknown")), None);
        assert_eq!(client_ip(None), None);
    }

    #[test]
    fn reads_country_and_city() {
        assert_eq!(country_code(Some("de")).as_deref(), Some("DE"));
        assert_eq!(country_code(Some("T1")).as_deref(), Some("T1"));
        assert_eq!(country_code(Some("XX")).as_deref(), Some("XX"));
        assert_eq!(country_code(Some("DEU")), None);
        assert_eq!(country_code(Some("1A")), None);
        assert_eq!(country_code(Some("")), None);
        assert_eq!(
            city_name(Some(" Berlin ".into())).as_deref(),
            Some("Berlin")
        );
        assert_eq!(city_name(Some("  ".into())), None);
        assert_eq!(city_name(Some("x".repeat(300))).unwrap().len(), 100);
    }
}
