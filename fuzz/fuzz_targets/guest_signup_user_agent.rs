//! guest-signup's hand-written `User-Agent` parser.
//!
//! Properties: any header value (any text without NUL, CR or LF) is parsed without panicking, and every field of the profile
//! is one the `visitor` table's checks accept: device type, class and engine from their fixed
//! sets, versions at most 50 characters, model and browser name at most 100, no U+0000.
#![no_main]

use edge_fuzz::pg_text_ok;
use guest_signup::parse_user_agent;
use libfuzzer_sys::fuzz_target;

fn fits(value: &Option<String>, max_chars: usize) -> bool {
    value
        .as_deref()
        .is_none_or(|v| v.chars().count() <= max_chars && pg_text_ok(v) && !v.is_empty())
}

fuzz_target!(|data: &[u8]| {
    let ua = String::from_utf8_lossy(data);
    // A header value never holds NUL, CR or LF (the Workers runtime refuses such requests).
    if ua.contains(['\0', '\r', '\n']) {
        return;
    }
    let profile = parse_user_agent(&ua);
    let in_set = |value: Option<&str>, set: &[&str]| value.is_none_or(|v| set.contains(&v));
    assert!(in_set(
        profile.device_type,
        &["desktop", "mobile", "tablet"]
    ));
    assert!(in_set(
        profile.device_class,
        &["phone", "tablet", "desktop", "tv", "bot"]
    ));
    assert!(in_set(
        profile.runtime_engine,
        &["chromium", "webkit", "gecko", "webview"]
    ));
    assert!(fits(&profile.os_version, 50) && fits(&profile.browser_version, 50));
    assert!(fits(&profile.device_model, 100) && fits(&profile.browser_name, 100));
});
