use std::cell::Cell;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;
use crate::NoJwks;
use crate::jwks_cache::FetchError;
use crate::test_support::*;

const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
const NOW: i64 = 1_700_000_000;
const USER: &str = "6f1c3c1e-3a53-4a0e-9a43-0e0a8f6a2b11";
const SESSION: &str = "0b7c7f36-7ad4-4b8e-8d31-1e8f5f1e3a22";

fn claims() -> Value {
    json!({
        "iss": "http://127.0.0.1:54321/auth/v1",
        "sub": USER,
        "aud": "authenticated",
        "exp": NOW + 3600,
        "iat": NOW - 10,
        "role": "authenticated",
        "email": "ada@example.com",
        "phone": "",
        "aal": "aal1",
        "session_id": SESSION,
        "is_anonymous": false,
        "app_metadata": {"provider": "email"},
        "user_metadata": {"role": "admin"}
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn hs_verifier() -> TokenVerifier {
    TokenVerifier::new(VerifierConfig::new(SECRET)).unwrap()
}

fn verify(verifier: &TokenVerifier, token: &str) -> Result<Caller, AuthError> {
    block_on(verifier.verify(token, UnixTime::from_secs(NOW), &NoJwks))
}

/// A fetcher serving `doc`, counting its calls.
fn serving(doc: Value, calls: &Cell<u32>) -> impl JwksFetcher + '_ {
    move || {
        calls.set(calls.get() + 1);
        let body = doc.to_string();
        async move { Ok(body) }
    }
}

#[test]
fn valid_hs256_token_yields_caller() {
    let caller = verify(&hs_verifier(), &hs256_token(SECRET, &claims())).unwrap();
    assert_eq!(caller.user_id.to_string(), USER);
    assert_eq!(caller.email.as_deref(), Some("ada@example.com"));
    assert_eq!(caller.phone, None);
    assert!(!caller.is_anonymous);
    assert_eq!(caller.session_id.unwrap().to_string(), SESSION);
    assert_eq!(caller.aal, Some(AuthAssurance::Aal1));
    assert_eq!(caller.app_metadata["provider"], "email");
    assert_eq!(caller.expires_at, NOW + 3600);
}

#[test]
fn anonymous_token_is_recognised() {
    let anon = with(
        with(claims(), "is_anonymous", true.into()),
        "email",
        "".into(),
    );
    let caller = verify(&hs_verifier(), &hs256_token(SECRET, &anon)).unwrap();
    assert!(caller.is_anonymous);
    assert_eq!(caller.email, None);
}

/// The attack: a token signed with the project's key, `aud: authenticated`, but `role:
/// service_role` (or `anon`, or a made-up role), sent as a user's session. Forwarded to
/// PostgREST it would run as that role; it must not be a caller at all.
#[test]
fn service_role_token_posing_as_a_user_is_refused() {
    let verifier = hs_verifier();
    for role in [
        "service_role",
        "anon",
        "postgres",
        "supabase_admin",
        "Authenticated",
        "",
    ] {
        let token = hs256_token(SECRET, &with(claims(), "role", role.into()));
        assert_eq!(
            verify(&verifier, &token),
            Err(AuthError::WrongRole),
            "{role}"
        );
    }
    let no_role = hs256_token(SECRET, &without(claims(), "role"));
    assert_eq!(verify(&verifier, &no_role), Err(AuthError::WrongRole));
    // The same through the JWKS path (ES256).
    let key = es256_signing_key(3);
    let calls = Cell::new(0);
    let jwks = serving(json!({"keys": [es256_jwk(&key, "k3")]}), &calls);
    let token = es256_token(
        &key,
        Some("k3"),
        &with(claims(), "role", "service_role".into()),
    );
    assert_eq!(
        block_on(verifier.verify(&token, UnixTime::from_secs(NOW), &jwks)),
        Err(AuthError::WrongRole)
    );
    assert_eq!(AuthError::WrongRole.code(), "wrong_role");
    assert_eq!(AuthError::WrongRole.status(), 401);
}

#[test]
fn audience_array_and_issuer_accepted() {
    let verifier = TokenVerifier::new(
        VerifierConfig::new(SECRET).with_issuer("http://127.0.0.1:54321/auth/v1"),
    )
    .unwrap();
    let token = hs256_token(
        SECRET,
        &with(claims(), "aud", json!(["other", "authenticated"])),
    );
    assert!(verify(&verifier, &token).is_ok());
}

#[test]
fn leeway_applies_on_both_sides() {
    let verifier = hs_verifier();
    let ok = |c: Value| verify(&verifier, &hs256_token(SECRET, &c));
    assert!(ok(with(claims(), "exp", (NOW - 29).into())).is_ok());
    assert_eq!(
        ok(with(claims(), "exp", (NOW - 30).into())),
        Err(AuthError::Expired)
    );
    assert!(ok(with(claims(), "nbf", (NOW + 30).into())).is_ok());
    assert_eq!(
        ok(with(claims(), "nbf", (NOW + 31).into())),
        Err(AuthError::NotYetValid)
    );
    assert_eq!(
        ok(with(claims(), "iat", (NOW + 31).into())),
        Err(AuthError::NotYetValid)
    );
    let strict = TokenVerifier::new(VerifierConfig::new(SECRET).with_leeway_secs(0)).unwrap();
    let token = hs256_token(SECRET, &with(claims(), "exp", NOW.into()));
    assert_eq!(verify(&strict, &token), Err(AuthError::Expired));
}

#[test]
fn hs256_rejection_table() {
    let verifier = TokenVerifier::new(
        VerifierConfig::new(SECRET).with_issuer("https://x.supabase.co/auth/v1"),
    )
    .unwrap();
    let good_iss = with(claims(), "iss", "https://x.supabase.co/auth/v1".into());
    let valid = hs256_token(SECRET, &good_iss);
    assert!(verify(&verifier, &valid).is_ok());

    let (head, rest) = valid.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let mut forged_payload = good_iss.clone();
    forged_payload["sub"] = "00000000-0000-0000-0000-000000000001".into();
    let tampered = format!(
        "{head}.{}.{signature}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            forged_payload.to_string()
        )
    );

    let cases: Vec<(&str, String, AuthError)> = vec![
        (
            "other secret",
            hs256_token("another-secret-that-is-also-32-bytes-long!!", &good_iss),
            AuthError::BadSignature,
        ),
        ("tampered payload", tampered, AuthError::BadSignature),
        (
            "short signature",
            format!("{head}.{}.AAAA", rest.split_once('.').unwrap().0),
            AuthError::BadSignature,
        ),
        (
            "expired",
            hs256_token(SECRET, &with(good_iss.clone(), "exp", (NOW - 3600).into())),
            AuthError::Expired,
        ),
        (
            "no exp",
            hs256_token(SECRET, &without(good_iss.clone(), "exp")),
            AuthError::MissingExpiry,
        ),
        (
            "not yet valid",
            hs256_token(SECRET, &with(good_iss.clone(), "nbf", (NOW + 600).into())),
            AuthError::NotYetValid,
        ),
        (
            "wrong audience",
            hs256_token(SECRET, &with(good_iss.clone(), "aud", "anon".into())),
            AuthError::WrongAudience,
        ),
        (
            "audience list without it",
            hs256_token(SECRET, &with(good_iss.clone(), "aud", json!(["a", "b"]))),
            AuthError::WrongAudience,
        ),
        (
            "no audience",
            hs256_token(SECRET, &without(good_iss.clone(), "aud")),
            AuthError::WrongAudience,
        ),
        (
            "wrong issuer",
            hs256_token(SECRET, &claims()),
            AuthError::WrongIssuer,
        ),
        (
            "no issuer",
            hs256_token(SECRET, &without(good_iss.clone(), "iss")),
            AuthError::WrongIssuer,
        ),
        (
            "no subject",
            hs256_token(SECRET, &without(good_iss.clone(), "sub")),
            AuthError::BadSubject,
        ),
        (
            "subject not uuid",
            hs256_token(SECRET, &with(good_iss.clone(), "sub", "admin".into())),
            AuthError::BadSubject,
        ),
        (
            "role wrong type",
            hs256_token(SECRET, &with(good_iss.clone(), "role", 5.into())),
            AuthError::MalformedClaims,
        ),
        (
            "exp wrong type",
            hs256_token(SECRET, &with(good_iss.clone(), "exp", "tomorrow".into())),
            AuthError::MalformedClaims,
        ),
        (
            "alg none",
            raw_token(&json!({"alg": "none", "typ": "JWT"}), &good_iss, b""),
            AuthError::UnsupportedAlgorithm,
        ),
        (
            "alg None",
            raw_token(&json!({"alg": "None"}), &good_iss, b""),
            AuthError::UnsupportedAlgorithm,
        ),
        (
            "alg HS512",
            raw_token(&json!({"alg": "HS512"}), &good_iss, &[0; 64]),
            AuthError::UnsupportedAlgorithm,
        ),
        (
            "alg lower-case",
            raw_token(&json!({"alg": "hs256"}), &good_iss, &[0; 32]),
            AuthError::UnsupportedAlgorithm,
        ),
        ("empty", String::new(), AuthError::Malformed),
        ("one part", "abc".to_owned(), AuthError::Malformed),
        ("two parts", "abc.def".to_owned(), AuthError::Malformed),
        ("not base64", "a*b.c*d.e*f".to_owned(), AuthError::Malformed),
        (
            "header not json",
            "bm90anNvbg.e30.c2ln".to_owned(),
            AuthError::Malformed,
        ),
        (
            "header without alg",
            raw_token(&json!({"typ": "JWT"}), &good_iss, b"sig"),
            AuthError::Malformed,
        ),
    ];
    for (name, token, expected) in cases {
        assert_eq!(verify(&verifier, &token), Err(expected), "{name}");
    }
}

#[test]
fn valid_es256_token_via_jwks() {
    let key = es256_signing_key(1);
    let calls = Cell::new(0);
    let fetcher = serving(json!({"keys": [es256_jwk(&key, "k1")]}), &calls);
    let verifier = hs_verifier();
    let token = es256_token(&key, Some("k1"), &claims());
    for _ in 0..3 {
        let caller = block_on(verifier.verify(&token, UnixTime::from_secs(NOW), &fetcher)).unwrap();
        assert_eq!(caller.user_id.to_string(), USER);
    }
    assert_eq!(calls.get(), 1, "the JWKS is fetched once and then cached");
}

#[test]
fn es256_rejection_table() {
    let key = es256_signing_key(1);
    let other = es256_signing_key(2);
    let jwk = es256_jwk(&key, "k1");
    let calls = Cell::new(0);
    let fetcher = serving(json!({"keys": [jwk.clone()]}), &calls);
    let verifier = hs_verifier();

    // HS256 "signed" with the public key's published bytes, naming the EC kid: the classic
    // algorithm-confusion forgery. HS256 only ever uses the project secret.
    let public_bytes = key.verifying_key().to_encoded_point(false);
    let confused = hs256_sign_raw(
        public_bytes.as_bytes(),
        &json!({"alg": "HS256", "kid": "k1"}),
        &claims(),
    );
    let confused_jwk = hs256_sign_raw(
        jwk.to_string().as_bytes(),
        &json!({"alg": "HS256", "kid": "k1"}),
        &claims(),
    );

    let cases: Vec<(&str, String, AuthError)> = vec![
        (
            "signed by another key",
            es256_token(&other, Some("k1"), &claims()),
            AuthError::BadSignature,
        ),
        (
            "no kid",
            es256_token(&key, None, &claims()),
            AuthError::MissingKeyId,
        ),
        (
            "unknown kid",
            es256_token(&key, Some("k9"), &claims()),
            AuthError::UnknownKeyId,
        ),
        (
            "expired",
            es256_token(&key, Some("k1"), &with(claims(), "exp", (NOW - 60).into())),
            AuthError::Expired,
        ),
        (
            "hs256 with public key bytes",
            confused,
            AuthError::BadSignature,
        ),
        (
            "hs256 with public jwk text",
            confused_jwk,
            AuthError::BadSignature,
        ),
        (
            "short signature",
            raw_token(&json!({"alg": "ES256", "kid": "k1"}), &claims(), &[1; 32]),
            AuthError::BadSignature,
        ),
        (
            "zero signature",
            raw_token(&json!({"alg": "ES256", "kid": "k1"}), &claims(), &[0; 64]),
            AuthError::BadSignature,
        ),
    ];
    for (name, token, expected) in cases {
        let got = block_on(verifier.verify(&token, UnixTime::from_secs(NOW), &fetcher));
        assert_eq!(got, Err(expected), "{name}");
    }

    // Without an HS256 secret the confused token is refused before any key is touched.
    let jwks_only = TokenVerifier::new(VerifierConfig::jwks_only()).unwrap();
    let confused = hs256_sign_raw(
        SECRET.as_bytes(),
        &json!({"alg": "HS256", "kid": "k1"}),
        &claims(),
    );
    assert_eq!(
        block_on(jwks_only.verify(&confused, UnixTime::from_secs(NOW), &fetcher)),
        Err(AuthError::UnsupportedAlgorithm)
    );
}

#[test]
fn allow_list_is_enforced() {
    let only_es =
        TokenVerifier::new(VerifierConfig::new(SECRET).with_algorithms(&[JwtAlgorithm::Es256]))
            .unwrap();
    assert_eq!(
        verify(&only_es, &hs256_token(SECRET, &claims())),
        Err(AuthError::UnsupportedAlgorithm)
    );
}

#[test]
fn configuration_is_checked() {
    assert_eq!(
        TokenVerifier::new(VerifierConfig::new("short")).unwrap_err(),
        ConfigError::WeakSecret
    );
    assert_eq!(
        TokenVerifier::new(VerifierConfig::jwks_only().with_algorithms(&[JwtAlgorithm::Hs256]))
            .unwrap_err(),
        ConfigError::NoAlgorithm
    );
    let debug = format!("{:?}", VerifierConfig::new(SECRET));
    assert!(!debug.contains(SECRET), "{debug}");
}

#[test]
fn unknown_kid_refetches_at_most_once_per_interval() {
    let old = es256_signing_key(1);
    let new = es256_signing_key(2);
    let calls = Cell::new(0);
    let verifier = hs_verifier();
    let at = |secs| UnixTime::from_secs(NOW + secs);

    let first = serving(json!({"keys": [es256_jwk(&old, "old")]}), &calls);
    assert!(
        block_on(verifier.verify(&es256_token(&old, Some("old"), &claims()), at(0), &first))
            .is_ok()
    );

    // The project rotates keys; the first token with the new kid triggers one refetch.
    let rotated = serving(
        json!({"keys": [es256_jwk(&old, "old"), es256_jwk(&new, "new")]}),
        &calls,
    );
    let new_token = es256_token(&new, Some("new"), &claims());
    assert!(block_on(verifier.verify(&new_token, at(31), &rotated)).is_ok());
    assert_eq!(calls.get(), 2);

    // A flood of made-up kids costs one fetch per interval, not one per request.
    let bogus = es256_token(&new, Some("bogus"), &claims());
    for secs in [40, 41, 50, 69] {
        assert_eq!(
            block_on(verifier.verify(&bogus, at(secs), &rotated)),
            Err(AuthError::UnknownKeyId)
        );
    }
    assert_eq!(calls.get(), 3);
    assert!(block_on(verifier.verify(&new_token, at(69), &rotated)).is_ok());
    assert_eq!(calls.get(), 3, "known keys never wait for the interval");
}

/// A fetcher serving `doc` that first lets every other pending request run (one `Pending`), the
/// way a real JWKS fetch leaves the isolate to other requests while it waits.
fn serving_slowly(doc: Value, calls: &Cell<u32>) -> impl JwksFetcher + '_ {
    move || {
        calls.set(calls.get() + 1);
        let body = doc.to_string();
        async move {
            let mut yielded = false;
            std::future::poll_fn(|cx| {
                if yielded {
                    std::task::Poll::Ready(())
                } else {
                    yielded = true;
                    cx.waker().wake_by_ref();
                    std::task::Poll::Pending
                }
            })
            .await;
            Ok(body)
        }
    }
}

#[test]
fn a_cold_isolates_first_burst_waits_for_the_one_jwks_fetch() {
    let key = es256_signing_key(1);
    let calls = Cell::new(0);
    let verifier = hs_verifier();
    let fetcher = serving_slowly(json!({"keys": [es256_jwk(&key, "k1")]}), &calls);
    let good = es256_token(&key, Some("k1"), &claims());
    let bogus = es256_token(&key, Some("bogus"), &claims());
    let now = UnixTime::from_secs(NOW);

    let burst = (0..8).map(|i| {
        let token = if i == 5 { &bogus } else { &good };
        verifier.verify(token, now, &fetcher)
    });
    let answers = block_on(futures_util::future::join_all(burst));

    for (i, answer) in answers.iter().enumerate() {
        if i == 5 {
            assert_eq!(answer, &Err(AuthError::UnknownKeyId), "request {i}");
        } else {
            assert!(answer.is_ok(), "request {i}: {answer:?}");
        }
    }
    assert_eq!(calls.get(), 1, "one fetch for the whole burst");
}

#[test]
fn jwks_outage_and_expiry() {
    let key = es256_signing_key(1);
    let token = es256_token(
        &key,
        Some("k1"),
        &with(claims(), "exp", (NOW + 7200).into()),
    );
    let calls = Cell::new(0);
    let failing = || {
        calls.set(calls.get() + 1);
        async { Err::<String, _>(FetchError("connection refused".into())) }
    };
    let garbage = serving(json!({"not": "keys"}), &calls);
    let verifier = hs_verifier();
    let at = |secs| UnixTime::from_secs(NOW + secs);

    // Never fetched: 503-style error, and the endpoint is not hammered.
    assert_eq!(
        block_on(verifier.verify(&token, at(0), &failing)),
        Err(AuthError::KeysUnavailable)
    );
    assert_eq!(
        block_on(verifier.verify(&token, at(5), &failing)),
        Err(AuthError::KeysUnavailable)
    );
    assert_eq!(
        block_on(verifier.verify(&token, at(31), &garbage)),
        Err(AuthError::KeysUnavailable)
    );
    assert_eq!(calls.get(), 2);

    let good = serving(json!({"keys": [es256_jwk(&key, "k1")]}), &calls);
    assert!(block_on(verifier.verify(&token, at(62), &good)).is_ok());
    assert_eq!(calls.get(), 3);

    // After max age the set is refreshed; a failing refresh keeps the stale key working.
    assert!(block_on(verifier.verify(&token, at(62 + 600), &failing)).is_ok());
    assert_eq!(calls.get(), 4);

    // A successful refresh without the key revokes it.
    let revoked = serving(json!({"keys": []}), &calls);
    assert_eq!(
        block_on(verifier.verify(&token, at(62 + 700), &revoked)),
        Err(AuthError::UnknownKeyId)
    );
}

#[cfg(feature = "rsa")]
#[test]
fn rs256_tokens_and_key_type_confusion() {
    let rsa_key = rsa_signing_key(2048);
    let ec_key = es256_signing_key(1);
    let calls = Cell::new(0);
    let fetcher = serving(
        json!({"keys": [rsa_jwk(&rsa_key, "r1"), es256_jwk(&ec_key, "e1")]}),
        &calls,
    );
    let verifier = hs_verifier();
    let now = UnixTime::from_secs(NOW);

    let token = rs256_token(&rsa_key, "r1", &claims());
    assert_eq!(
        block_on(verifier.verify(&token, now, &fetcher))
            .unwrap()
            .user_id
            .to_string(),
        USER
    );

    let ec_as_rsa = es256_token(&ec_key, Some("r1"), &claims());
    assert_eq!(
        block_on(verifier.verify(&ec_as_rsa, now, &fetcher)),
        Err(AuthError::KeyAlgorithmMismatch)
    );
    let rsa_as_ec = rs256_token(&rsa_key, "e1", &claims());
    assert_eq!(
        block_on(verifier.verify(&rsa_as_ec, now, &fetcher)),
        Err(AuthError::KeyAlgorithmMismatch)
    );
    let forged = rs256_token(&rsa_signing_key(2049), "r1", &claims());
    assert_eq!(
        block_on(verifier.verify(&forged, now, &fetcher)),
        Err(AuthError::BadSignature)
    );
}

#[cfg(not(feature = "rsa"))]
#[test]
fn rs256_is_unsupported_without_the_feature() {
    let token = raw_token(&json!({"alg": "RS256", "kid": "r1"}), &claims(), &[0; 256]);
    assert_eq!(
        verify(&hs_verifier(), &token),
        Err(AuthError::UnsupportedAlgorithm)
    );
}

/// `a - b` for 32-byte big-endian numbers with `a >= b`.
fn sub_be(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        out[i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    out
}

/// ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`, the encoding X.509 and OpenSSL use by
/// default, which JWS does not (RFC 7518 §3.4: raw `r ‖ s`).
fn der(signature: &[u8]) -> Vec<u8> {
    let integer = |scalar: &[u8]| {
        let trimmed: Vec<u8> = scalar.iter().copied().skip_while(|&b| b == 0).collect();
        let mut int = if trimmed[0] & 0x80 != 0 {
            vec![0]
        } else {
            vec![]
        };
        int.extend(trimmed);
        [vec![0x02, int.len() as u8], int].concat()
    };
    let body = [integer(&signature[..32]), integer(&signature[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

/// The ES256 vectors both signature backends must answer alike (the Workers' WebCrypto
/// backend is driven with the same cases in tests/es256-vectors.test.mjs): each token is a
/// valid one with one thing changed.
#[test]
fn es256_vectors_valid_tampered_wrong_key_high_s_and_malformed_signatures() {
    let key = es256_signing_key(1);
    let calls = Cell::new(0);
    let fetcher = serving(json!({"keys": [es256_jwk(&key, "k1")]}), &calls);
    let verifier = hs_verifier();
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": "k1"});
    let valid = es256_token(&key, Some("k1"), &claims());
    let (signing_input, encoded_signature) = valid.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(encoded_signature).unwrap();
    let with_signature = |sig: &[u8]| format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig));
    let (r, s) = signature.split_at(32);

    let mut flipped = signature.clone();
    flipped[40] ^= 0x01;
    let high_s = [r, &sub_be(&es256::ORDER, s)[..]].concat();
    let order = es256::ORDER.to_vec();
    let order_minus_one = sub_be(&es256::ORDER, &[&[0u8; 31][..], &[1]].concat());
    let forged_claims = with(
        claims(),
        "sub",
        "00000000-0000-0000-0000-000000000001".into(),
    );
    let bad_claims = with(claims(), "role", 5.into());
    let other_key = es256_signing_key(2);

    let cases: Vec<(&str, String, Result<(), AuthError>)> = vec![
        ("valid", valid.clone(), Ok(())),
        (
            "the twin signature (r, n - s) of a valid one: ECDSA accepts both and JWS does not \
             ask for low s",
            with_signature(&high_s),
            Ok(()),
        ),
        (
            "payload swapped, signature kept",
            raw_token(&header, &forged_claims, &signature),
            Err(AuthError::BadSignature),
        ),
        (
            "one bit of s flipped",
            with_signature(&flipped),
            Err(AuthError::BadSignature),
        ),
        (
            "signed by a key the JWKS does not have, under its kid",
            es256_token(&other_key, Some("k1"), &claims()),
            Err(AuthError::BadSignature),
        ),
        (
            "DER-encoded signature",
            with_signature(&der(&signature)),
            Err(AuthError::BadSignature),
        ),
        (
            "empty signature",
            with_signature(&[]),
            Err(AuthError::BadSignature),
        ),
        (
            "63 bytes",
            with_signature(&signature[..63]),
            Err(AuthError::BadSignature),
        ),
        (
            "65 bytes",
            with_signature(&[&signature[..], &[0]].concat()),
            Err(AuthError::BadSignature),
        ),
        (
            "r = 0",
            with_signature(&[&[0u8; 32][..], s].concat()),
            Err(AuthError::BadSignature),
        ),
        (
            "s = n",
            with_signature(&[r, &order[..]].concat()),
            Err(AuthError::BadSignature),
        ),
        (
            "r = n - 1 (in range, wrong)",
            with_signature(&[&order_minus_one, s].concat()),
            Err(AuthError::BadSignature),
        ),
        (
            "malformed claims, well-formed wrong signature: the claims are read first",
            raw_token(&header, &bad_claims, &signature),
            Err(AuthError::MalformedClaims),
        ),
        (
            "malformed claims, signature out of range: the signature's form is checked first",
            raw_token(&header, &bad_claims, &[&[0u8; 32][..], s].concat()),
            Err(AuthError::BadSignature),
        ),
    ];
    for (name, token, expected) in cases {
        let got = block_on(verifier.verify(&token, UnixTime::from_secs(NOW), &fetcher));
        assert_eq!(
            got.map(|caller| caller.user_id.to_string()),
            expected.map(|()| USER.to_owned()),
            "{name}"
        );
    }
}

#[test]
fn a_held_key_is_used_at_once_and_its_set_refreshed_after_the_answer() {
    let key = es256_signing_key(1);
    let token = es256_token(
        &key,
        Some("k1"),
        &with(claims(), "exp", (NOW + 7200).into()),
    );
    let calls = Cell::new(0);
    let good = serving(json!({"keys": [es256_jwk(&key, "k1")]}), &calls);
    let verifier = hs_verifier();
    let at = |secs| UnixTime::from_secs(NOW + secs);
    let holding = |secs| block_on(verifier.verify_holding_keys(&token, at(secs), &good));
    // A cold cache has no key to hold: the first request fetches, and nothing is due after.
    let first = block_on(verifier.verify_holding_keys(&token, at(0), &good)).unwrap();
    assert!(!first.refresh_due);
    assert_eq!(calls.get(), 1);

    // Past the refresh age the held key answers without a fetch; one refresh is asked for,
    // not one per request.
    let stale = holding(601).unwrap();
    assert!(stale.refresh_due);
    assert!(!holding(602).unwrap().refresh_due);
    assert_eq!(calls.get(), 1, "no request waited for a fetch");

    // The refresh, run after the answer, replaces the set; a set without the key revokes it.
    let revoked_calls = Cell::new(0);
    let revoked = serving(json!({"keys": []}), &revoked_calls);
    block_on(verifier.refresh_jwks(at(603), &revoked));
    assert_eq!(revoked_calls.get(), 1);
    // The unknown kid may fetch again only once the interval since the refresh has passed.
    assert_eq!(holding(604).unwrap_err(), AuthError::UnknownKeyId);
    assert_eq!(
        calls.get(),
        1,
        "throttled: no fetch within 30 s of the refresh"
    );

    // A failed refresh keeps the held key working.
    let verifier = hs_verifier();
    block_on(verifier.verify_holding_keys(&token, at(0), &good)).unwrap();
    let failing = || async { Err::<String, _>(FetchError("connection refused".into())) };
    assert!(
        block_on(verifier.verify_holding_keys(&token, at(700), &failing))
            .unwrap()
            .refresh_due
    );
    block_on(verifier.refresh_jwks(at(700), &failing));
    assert!(block_on(verifier.verify_holding_keys(&token, at(701), &failing)).is_ok());
}

#[test]
fn an_unknown_kid_fetches_at_most_once_per_interval_when_keys_are_held() {
    let key = es256_signing_key(1);
    let other = es256_signing_key(2);
    let known = es256_token(&key, Some("k1"), &claims());
    let unknown = es256_token(&other, Some("k-made-up"), &claims());
    let calls = Cell::new(0);
    let doc = serving(json!({"keys": [es256_jwk(&key, "k1")]}), &calls);
    let verifier = hs_verifier();
    let at = |secs| UnixTime::from_secs(NOW + secs);
    block_on(verifier.verify_holding_keys(&known, at(0), &doc)).unwrap();
    for secs in [30, 31, 40, 59] {
        let refused = block_on(verifier.verify_holding_keys(&unknown, at(secs), &doc));
        assert_eq!(refused.unwrap_err(), AuthError::UnknownKeyId, "at {secs}");
    }
    assert_eq!(
        calls.get(),
        2,
        "the first fetch and one more at 30 s, none at 31-59 s"
    );
}
