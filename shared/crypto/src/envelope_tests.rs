use uuid::Uuid;

use super::*;

const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";

fn ring(active: &str) -> KeyRing {
    KeyRing::parse(&format!("v1;active={active};k1={K1};k2={K2}")).unwrap()
}

fn owner(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn aad(n: u128) -> Aad<'static> {
    Aad {
        owner: owner(n),
        row: "connections/prod",
        field: "service_role_key",
    }
}

#[test]
fn round_trip_for_many_sizes() {
    let ring = ring("k1");
    for len in [0, 1, 15, 16, 17, 255, 4096] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let sealed = ring.seal(&plaintext, aad(1)).unwrap();
        assert!(sealed.starts_with("enc:v1:k1:"));
        assert_eq!(*ring.open(&sealed, aad(1)).unwrap(), plaintext);
    }
}

#[test]
fn nonces_are_fresh() {
    let ring = ring("k1");
    let a = ring.seal_str("same", aad(1)).unwrap();
    let b = ring.seal_str("same", aad(1)).unwrap();
    assert_ne!(a, b);
}

#[test]
fn every_flipped_bit_of_the_data_is_detected() {
    let ring = ring("k1");
    let sealed = ring.seal_str("sb_secret_0123456789", aad(1)).unwrap();
    let (header, data) = sealed.rsplit_once(':').unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(data).unwrap();
    for index in 0..bytes.len() {
        for bit in 0..8 {
            let mut tampered = bytes.clone();
            tampered[index] ^= 1 << bit;
            let text = format!("{header}:{}", URL_SAFE_NO_PAD.encode(&tampered));
            assert_eq!(
                ring.open(&text, aad(1)).unwrap_err(),
                EnvelopeError::Forged,
                "byte {index} bit {bit}"
            );
        }
    }
    let truncated = format!(
        "{header}:{}",
        URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - 1])
    );
    assert_eq!(
        ring.open(&truncated, aad(1)).unwrap_err(),
        EnvelopeError::Forged
    );
}

#[test]
fn wrong_owner_row_or_field_fails() {
    let ring = ring("k1");
    let sealed = ring.seal_str("secret", aad(1)).unwrap();
    let wrong = [
        Aad {
            owner: owner(2),
            ..aad(1)
        },
        Aad {
            row: "connections/staging",
            ..aad(1)
        },
        Aad {
            field: "anon_key",
            ..aad(1)
        },
        Aad {
            row: "connections/prodservice_role_key",
            field: "",
            ..aad(1)
        },
    ];
    for other in wrong {
        assert_eq!(
            ring.open(&sealed, other).unwrap_err(),
            EnvelopeError::Forged,
            "{other:?}"
        );
    }
}

#[test]
fn relabelled_key_id_fails() {
    let ring = ring("k1");
    let sealed = ring.seal_str("secret", aad(1)).unwrap();
    let relabelled = sealed.replacen("enc:v1:k1:", "enc:v1:k2:", 1);
    assert_eq!(
        ring.open(&relabelled, aad(1)).unwrap_err(),
        EnvelopeError::Forged
    );
    // Same id, different key bytes (a ring rebuilt wrongly) fails too.
    let impostor = KeyRing::parse(&format!("v1;active=k1;k1={K2}")).unwrap();
    assert_eq!(
        impostor.open(&sealed, aad(1)).unwrap_err(),
        EnvelopeError::Forged
    );
}

#[test]
fn rotation() {
    let old = ring("k1");
    let new = ring("k2");
    let sealed = old.seal_str("secret", aad(1)).unwrap();
    assert!(!old.needs_rotation(&sealed).unwrap());
    assert!(new.needs_rotation(&sealed).unwrap());
    // A retired but listed key still opens.
    assert_eq!(new.open_str(&sealed, aad(1)).unwrap().expose(), "secret");

    let resealed = new.reseal(&sealed, aad(1)).unwrap();
    assert_eq!(envelope_key_id(&resealed), Ok("k2"));
    assert!(!new.needs_rotation(&resealed).unwrap());
    assert_eq!(new.open_str(&resealed, aad(1)).unwrap().expose(), "secret");

    // Once k1 is dropped from the ring, its envelopes are reported, not misread.
    let only_k2 = KeyRing::parse(&format!("v1;active=k2;k2={K2}")).unwrap();
    assert_eq!(
        only_k2.open(&sealed, aad(1)).unwrap_err(),
        EnvelopeError::UnknownKeyId("k1".into())
    );
    assert_eq!(only_k2.open(&resealed, aad(1)).map(|p| p.len()), Ok(6));
}

#[test]
fn malformed_envelopes() {
    let ring = ring("k1");
    let short = URL_SAFE_NO_PAD.encode([0_u8; NONCE_LEN + TAG_LEN - 1]);
    let cases = [
        ("", EnvelopeError::Malformed),
        ("secret", EnvelopeError::Malformed),
        ("enc:v1:k1", EnvelopeError::Malformed),
        ("plain:v1:k1:AAAA", EnvelopeError::Malformed),
        ("enc:v2:k1:AAAA", EnvelopeError::UnsupportedVersion),
        (
            "enc:v1::AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            EnvelopeError::Malformed,
        ),
        ("enc:v1:k1:not*base64", EnvelopeError::Malformed),
        ("enc:v1:k1:AAAA=", EnvelopeError::Malformed),
        (
            &format!("enc:v1:k1:{short}") as &str,
            EnvelopeError::Malformed,
        ),
        (
            "enc:v1:k9:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            EnvelopeError::UnknownKeyId("k9".into()),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(ring.open(input, aad(1)).unwrap_err(), expected, "{input}");
    }
    assert_eq!(
        ring.needs_rotation("nonsense").unwrap_err(),
        EnvelopeError::Malformed
    );
}

#[test]
fn non_utf8_plaintext_is_reported_by_open_str() {
    let ring = ring("k1");
    let sealed = ring.seal(&[0xff, 0xfe], aad(1)).unwrap();
    assert_eq!(
        ring.open_str(&sealed, aad(1)).unwrap_err(),
        EnvelopeError::NotUtf8
    );
}

/// A cheap property test: pseudo-random plaintexts and AAD parts round-trip, and any change
/// of AAD part fails. (A fixed xorshift generator keeps it deterministic and dependency-free.)
#[test]
fn pseudo_random_round_trips() {
    let ring = ring("k2");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..200 {
        let len = (next() % 300) as usize;
        let plaintext: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let row = format!("row/{}", next() % 1000);
        let field = format!("f{}", next() % 7);
        let aad = Aad {
            owner: Uuid::from_u128(u128::from(next())),
            row: &row,
            field: &field,
        };
        let sealed = ring.seal(&plaintext, aad).unwrap();
        assert_eq!(*ring.open(&sealed, aad).unwrap(), plaintext);
        let other_field = format!("{field}x");
        assert!(
            ring.open(
                &sealed,
                Aad {
                    field: &other_field,
                    ..aad
                }
            )
            .is_err()
        );
    }
}
