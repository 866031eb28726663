//! accept-invitation's request body `{token, password}` and its `GET ?token=`, parsed and
//! checked as the handler does (token shape first, then the password policy against the
//! invited address).
//!
//! Properties: any body is answered without panicking, with a 400 when refused; an accepted
//! token is 43 characters of base64url (the shape `random_token` makes), and an accepted
//! password has 8+ characters, at most 72 bytes, is not blank and is not the address or its
//! local part in any case.
#![no_main]

use accept_invitation::{AcceptInput, check_password, check_token};
use edge_http::parse_json_object;
use libfuzzer_sys::fuzz_target;

const EMAIL: &str = "ada.lovelace@example.com";

fuzz_target!(|body: &[u8]| {
    let text = String::from_utf8_lossy(body);
    if check_token(&text).is_ok() {
        assert_eq!(text.len(), 43);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
    let input = match parse_json_object::<AcceptInput>(body) {
        Ok(input) => input,
        Err(e) => {
            assert_eq!(e.status(), 400, "{e:?}");
            return;
        }
    };
    if let Err(e) = check_token(&input.token) {
        assert_eq!((e.status(), e.code()), (400, "invalid_token"));
    }
    // The body's token doubles as a second address, so the e-mail rule sees odd addresses too.
    for email in [EMAIL, input.token.as_str()] {
        match check_password(&input.password, email) {
            Ok(()) => {
                let password = &input.password;
                assert!(password.chars().count() >= 8 && password.len() <= 72);
                assert!(!password.trim().is_empty());
                let lowered = password.to_lowercase();
                assert_ne!(lowered, email.to_lowercase());
                let local = email.split('@').next().unwrap_or(email);
                assert_ne!(lowered, local.to_lowercase());
            }
            Err(e) => assert_eq!((e.status(), e.code()), (400, "weak_password")),
        }
    }
});
