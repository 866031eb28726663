//! The `p_visitor` argument of `record_guest_visitor`: what the app reported, what the
//! `User-Agent` says and where the request came from, under the `visitor` column names.

use std::net::IpAddr;

use edge_crypto::hash_token;
use serde_json::{Map, Value};

use crate::signup_input::ReportedVisit;
use crate::user_agent::parse_user_agent;

/// What the Worker learns about a request besides its body.
#[derive(Debug, Default, Clone)]
pub struct RequestOrigin {
    pub user_agent: Option<String>,
    pub ip: Option<IpAddr>,
    pub country: Option<String>,
    pub city: Option<String>,
}

/// The visitor attributes as one JSON object; absent values are left out (the columns default
/// to null). The User-Agent itself is not stored, only its SHA-256 and what was parsed from it.
pub fn visitor_attributes(reported: &ReportedVisit, origin: &RequestOrigin) -> Value {
    let mut attributes = match serde_json::to_value(reported) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let mut put = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            attributes.insert(name.to_owned(), Value::String(value));
        }
    };
    let user_agent = origin
        .user_agent
        .as_deref()
        .map(str::trim)
        .filter(|ua| !ua.is_empty());
    if let Some(ua) = user_agent {
        let device = parse_user_agent(ua);
        // hash_token is plain lower-case hex SHA-256, which is what user_agent_hash holds.
        put("user_agent_hash", Some(hash_token(ua)));
        put("device_type", device.device_type.map(str::to_owned));
        put("device_class", device.device_class.map(str::to_owned));
        put("device_brand", device.device_brand.map(str::to_owned));
        put("device_model", device.device_model);
        put("os_name", device.os_name.map(str::to_owned));
        put("os_version", device.os_version);
        put("browser_name", device.browser_name);
        put("browser_version", device.browser_version);
        put("runtime_engine", device.runtime_engine.map(str::to_owned));
    }
    put("ip_address", origin.ip.map(|ip| ip.to_string()));
    put("geo_country", origin.country.clone());
    put("geo_city", origin.city.clone());
    Value::Object(attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combines_report_device_and_origin() {
        let reported = ReportedVisit {
            utm_source: Some("news".into()),
            referrer_host: Some("news.example.com".into()),
            screen_width: Some(390),
            ..ReportedVisit::default()
        };
        let origin = RequestOrigin {
            user_agent: Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1".into()),
            ip: Some("2001:db8::7".parse().unwrap()),
            country: Some("DE".into()),
            city: Some("Berlin".into()),
        };
        let value = visitor_attributes(&reported, &origin);
        assert_eq!(value["utm_source"], "news");
        assert_eq!(value["referrer_host"], "news.example.com");
        assert_eq!(value["screen_width"], 390);
        assert_eq!(value["device_class"], "phone");
        assert_eq!(value["os_name"], "iOS");
        assert_eq!(value["browser_name"], "Safari");
        assert_eq!(value["runtime_engine"], "webkit");
        assert_eq!(value["ip_address"], "2001:db8::7");
        assert_eq!(value["geo_country"], "DE");
        assert_eq!(value["geo_city"], "Berlin");
        assert_eq!(
            value["user_agent_hash"],
            hash_token(origin.user_agent.as_deref().unwrap())
        );
        assert!(
            value.get("user_agent").is_none(),
            "the User-Agent itself is not stored"
        );
    }

    #[test]
    fn nothing_known_is_an_empty_object() {
        let value = visitor_attributes(&ReportedVisit::default(), &RequestOrigin::default());
        assert_eq!(value, Value::Object(Map::new()));
        let blank = RequestOrigin {
            user_agent: Some("  ".into()),
            ..RequestOrigin::default()
        };
        assert_eq!(
            visitor_attributes(&ReportedVisit::default(), &blank),
            Value::Object(Map::new())
        );
    }
}
