//! guest-signup's request body (landing URL, referrer, UTM tags, screen, app and time-zone
//! fields), parsed and validated as the handler does before any account is made.
//!
//! Properties: any body is answered without panicking, with a 400 when refused; every accepted
//! value passes the `visitor` table's own check (`landing_url ~ '^https?://[^\s]+$'`,
//! `referrer_host ~ '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$'`, the length limits, the
//! fixed value sets), so the insert never fails on what validation let through.
#![no_main]

use edge_fuzz::{pg_landing_url_ok, pg_referrer_host_ok, pg_text_ok};
use guest_signup::SignupInput;
use libfuzzer_sys::fuzz_target;

fn fits(value: &Option<String>, max_chars: usize) -> bool {
    value
        .as_deref()
        .is_none_or(|v| v.chars().count() <= max_chars && pg_text_ok(v) && !v.is_empty())
}

fuzz_target!(|body: &[u8]| {
    let visit = match SignupInput::parse(body).and_then(SignupInput::validate) {
        Ok(visit) => visit,
        Err(e) => {
            assert_eq!(e.status(), 400, "{e:?}");
            return;
        }
    };
    if let Some(url) = &visit.landing_url {
        assert!(
            pg_landing_url_ok(url),
            "landing_url {url:?} fails the column check"
        );
    }
    if let Some(host) = &visit.referrer_host {
        assert!(
            pg_referrer_host_ok(host),
            "referrer_host {host:?} fails the column check"
        );
    }
    for utm in [
        &visit.utm_source,
        &visit.utm_medium,
        &visit.utm_campaign,
        &visit.utm_term,
        &visit.utm_content,
    ] {
        assert!(fits(utm, 200));
    }
    assert!(fits(&visit.app_name, 100) && fits(&visit.app_version, 50));
    assert!(fits(&visit.timezone_guess, 64));
    for px in [visit.screen_width, visit.screen_height]
        .into_iter()
        .flatten()
    {
        assert!((1..=100_000).contains(&px));
    }
    let in_set =
        |value: &Option<String>, set: &[&str]| value.as_deref().is_none_or(|v| set.contains(&v));
    assert!(in_set(
        &visit.app_platform,
        &["browser", "pwa", "native_app", "webview"]
    ));
    assert!(in_set(
        &visit.display_mode,
        &["browser", "standalone", "minimal-ui", "fullscreen"]
    ));
    assert!(in_set(
        &visit.install_source,
        &["store", "add_to_home", "direct"]
    ));
});
