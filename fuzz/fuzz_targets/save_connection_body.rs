//! save-connection's request body: `{name, url, anon_key, service_role_key, allow_writes?}`,
//! parsed as the handler parses it (a JSON object, unknown fields refused) and validated.
//!
//! Properties: any body is answered without panicking, with a 400 when refused; an accepted
//! connection has a name the table's check allows (`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`), a URL
//! that is exactly an `https` origin (or `http` to a loopback host with the local-development
//! switch) and fits the `url` column, keys of the right kind for their field, and hints that
//! fit their columns.
#![no_main]

use edge_auth::{ApiKeyFormat, api_key_format};
use edge_fuzz::pg_text_ok;
use edge_http::parse_json_object;
use libfuzzer_sys::fuzz_target;
use edge_tenant::TenantUrl;
use save_connection::{ConnectionInput, key_hint};
use url::{Host, Url};

fn check(body: &[u8], allow_loopback: bool) {
    let validated =
        parse_json_object::<ConnectionInput>(body).and_then(|input| input.validate(allow_loopback));
    let connection = match validated {
        Ok(connection) => connection,
        Err(e) => {
            assert_eq!(e.status(), 400, "{e:?}");
            return;
        }
    };
    let name = connection.name.as_bytes();
    assert!((1..=63).contains(&name.len()) && name[0].is_ascii_alphanumeric());
    assert!(
        name.iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
    );

    let origin = connection.url.as_str();
    assert!(origin.len() <= 2048 && pg_text_ok(origin));
    let url = Url::parse(origin).expect("a stored URL parses");
    assert_eq!(url.origin().ascii_serialization(), origin, "not an origin");
    let loopback = match url.host().expect("has a host") {
        Host::Domain(name) => name == "localhost",
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    };
    match url.scheme() {
        "https" => assert!(allow_loopback || !loopback),
        "http" => assert!(allow_loopback && loopback),
        other => panic!("scheme {other}"),
    }
    assert_eq!(
        TenantUrl::parse(origin, allow_loopback)
            .as_ref()
            .map(TenantUrl::as_str),
        Ok(origin),
        "the stored origin validates again unchanged"
    );

    for (key, publishable) in [
        (&connection.anon_key, true),
        (&connection.service_role_key, false),
    ] {
        assert!(key.len() <= 2048 && pg_text_ok(key));
        let role = if publishable { "anon" } else { "service_role" };
        match api_key_format(key) {
            Some(ApiKeyFormat::Publishable) => assert!(publishable),
            Some(ApiKeyFormat::Secret) => assert!(!publishable),
            Some(ApiKeyFormat::LegacyJwt { role: claimed }) => {
                assert_eq!(claimed.as_deref(), Some(role));
            }
            None => panic!("accepted a key of no known format"),
        }
        let hint = key_hint(key);
        assert!(hint.chars().count() <= 6 && key.starts_with(&hint));
    }
}

fuzz_target!(|body: &[u8]| {
    check(body, false);
    check(body, true);
});
