//! create-invitation's request body: `{profile_id, email?, expires_in_days?, replace?}`, and
//! the ids its `GET`/`DELETE` query strings carry, parsed and validated as the handler does.
//!
//! Properties: any body or id is answered without panicking, with a 400 when refused; an
//! accepted invitation has a UUID profile, an expiry of 1–30 days, and an address Supabase Auth
//! and the `profile_invitations.email` check take (at most 255 bytes, lower case, one `@`,
//! no whitespace, `^[^@\s]+@[^@\s]+$`).
#![no_main]

use create_invitation::{InvitationInput, parse_uuid};
use edge_fuzz::pg_text_ok;
use edge_http::parse_json_object;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(id) = parse_uuid("id", &String::from_utf8_lossy(body)) {
        assert!(!id.to_string().is_empty());
    }
    let invitation =
        match parse_json_object::<InvitationInput>(body).and_then(InvitationInput::validate) {
            Ok(invitation) => invitation,
            Err(e) => {
                assert_eq!(e.status(), 400, "{e:?}");
                return;
            }
        };
    if let Some(days) = invitation.expires_in_days {
        assert!((1..=30).contains(&days));
    }
    if let Some(email) = &invitation.email {
        assert!(email.len() <= 255 && pg_text_ok(email));
        assert_eq!(email, &email.to_lowercase(), "not lower case");
        assert_eq!(email.trim(), email);
        let (local, domain) = email.split_once('@').expect("has an @");
        assert!(!local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        assert!(!email.chars().any(char::is_whitespace));
    }
});
