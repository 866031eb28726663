//! edge-crypto's AES-256-GCM envelopes (`enc:v1:<key-id>:<base64url>`) and key-ring parsing.
//!
//! Properties:
//! 1. Any input, taken as an envelope, is opened, has its key id read and its rotation state
//!    checked without panicking; taken as a key-ring secret, it is parsed without panicking.
//! 2. Sealing arbitrary plaintext bound to an arbitrary owner, row and field opens to the same
//!    bytes, also after a reseal; it does not open for any other owner, row or field.
//! 3. Any one-byte edit of an envelope never opens.
#![no_main]

use std::sync::LazyLock;

use edge_crypto::{Aad, EnvelopeError, KeyRing, envelope_key_id};
use edge_fuzz::mutate;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

/// Two keys, `k2` active, so envelopes sealed under the retired `k1` are exercised too.
static RING: LazyLock<KeyRing> = LazyLock::new(|| {
    KeyRing::parse(
        "v1;active=k2;k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8;\
         k2=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8",
    )
    .expect("valid key ring")
});

/// The binding the committed seed envelopes were sealed with.
const SEED_OWNER: Uuid = Uuid::from_u128(0x6f1c3c1e_3a53_4a0e_9a43_0e0a8f6a2b11);

/// Property 1.
fn arbitrary_envelope(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let aad = Aad {
        owner: SEED_OWNER,
        row: "connections/prod",
        field: "service_role_key",
    };
    let _ = RING.open(&text, aad);
    let _ = RING.open_str(&text, aad);
    if let Ok(key_id) = envelope_key_id(&text) {
        assert!(text.starts_with(&format!("enc:v1:{key_id}:")));
    }
    let _ = RING.needs_rotation(&text);
    let _ = KeyRing::parse(&text);
}

/// Properties 2 and 3.
fn round_trip(u: &mut Unstructured<'_>) -> Result<()> {
    let owner = Uuid::from_bytes(u.arbitrary()?);
    let row: &str = u.arbitrary()?;
    let field: &str = u.arbitrary()?;
    let plaintext: &[u8] = u.arbitrary()?;
    let aad = Aad { owner, row, field };

    let envelope = RING.seal(plaintext, aad).expect("sealing never fails");
    assert_eq!(envelope_key_id(&envelope), Ok("k2"));
    assert_eq!(RING.needs_rotation(&envelope), Ok(false));
    assert_eq!(
        RING.open(&envelope, aad).expect("opens").as_slice(),
        plaintext
    );
    let resealed = RING.reseal(&envelope, aad).expect("reseals");
    assert_ne!(resealed, envelope, "a reseal draws a new nonce");
    assert_eq!(
        RING.open(&resealed, aad).expect("opens").as_slice(),
        plaintext
    );

    let other_owner = Uuid::from_bytes(u.arbitrary()?);
    let other_row: &str = u.arbitrary()?;
    let other_field: &str = u.arbitrary()?;
    for other in [
        Aad {
            owner: other_owner,
            ..aad
        },
        Aad {
            row: other_row,
            ..aad
        },
        Aad {
            field: other_field,
            ..aad
        },
    ] {
        if other != aad {
            assert_eq!(
                RING.open(&envelope, other).unwrap_err(),
                EnvelopeError::Forged
            );
        }
    }

    if let Some(mutated) = mutate(&envelope, u)? {
        assert!(
            RING.open(&mutated, aad).is_err(),
            "an edited envelope opened: {mutated}"
        );
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    arbitrary_envelope(data);
    let _ = round_trip(&mut Unstructured::new(data));
});
