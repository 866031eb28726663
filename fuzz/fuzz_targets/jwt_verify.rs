//! edge-auth's access-token verification (HS256 with the project secret, ES256 through a JWKS).
//!
//! Properties:
//! 1. Any input, taken as an `Authorization` header value and as a token, is parsed and
//!    verified without panicking; every refusal is a 401 (or 503 when keys are unavailable).
//! 2. A token signed here, independently of the verifier's JWT library (HMAC-SHA256 from
//!    edge-crypto, ECDSA P-256 from p256), over claims drawn from the input, verifies and
//!    yields exactly the subject, e-mail and expiry it was signed with when its role is
//!    `authenticated`, and is refused as `WrongRole` with any other role.
//! 3. Any one-byte edit of that token either fails or still yields the very same caller: a
//!    mutated token never verifies as anyone else.
#![no_main]

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use edge_auth::{
    AuthError, Caller, FetchError, TokenVerifier, UnixTime, VerifierConfig, api_key_format,
    bearer_token,
};
use edge_fuzz::{block_on, mutate};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "fuzz-secret-jwt-token-with-at-least-32-characters";
const ISSUER: &str = "http://127.0.0.1:54321/auth/v1";
const KID: &str = "fuzz-es256";
const NOW: i64 = 1_700_000_000;

static ES256_KEY: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::from_slice(&[0x11; 32]).expect("valid P-256 scalar"));

/// The JWKS the verifier fetches: the public half of [`ES256_KEY`] under [`KID`].
static JWKS: LazyLock<String> = LazyLock::new(|| {
    let point = ES256_KEY.verifying_key().to_encoded_point(false);
    let coordinate =
        |c: Option<&p256::FieldBytes>| URL_SAFE_NO_PAD.encode(c.expect("uncompressed"));
    json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": KID, "alg": "ES256", "use": "sig",
        "x": coordinate(point.x()), "y": coordinate(point.y()),
    }]})
    .to_string()
});

fn verify(token: &str) -> std::result::Result<Caller, AuthError> {
    // A fresh verifier per call keeps every run independent of the JWKS cache's history.
    let config = VerifierConfig::new(SECRET).with_issuer(ISSUER);
    let verifier = TokenVerifier::new(config).expect("valid configuration");
    let fetcher = || async { Ok::<_, FetchError>(JWKS.clone()) };
    block_on(verifier.verify(token, UnixTime::from_secs(NOW), &fetcher))
}

fn sign(header: &Value, claims: &Value, es256: bool) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = if es256 {
        let signature: Signature = ES256_KEY.sign(signing_input.as_bytes());
        signature.to_bytes().to_vec()
    } else {
        edge_crypto::hmac_sha256(SECRET.as_bytes(), signing_input.as_bytes()).to_vec()
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Property 1.
fn arbitrary_token(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = api_key_format(&text);
    let token = bearer_token(Some(&text)).unwrap_or(&text);
    if let Err(e) = verify(token) {
        assert!(e.status() == 401 || e.status() == 503, "{e:?}");
    }
}

/// Properties 2 and 3.
fn signed_token(u: &mut Unstructured<'_>) -> Result<()> {
    // ECDSA signing and verification cost ~20 times an HMAC: one run in four takes ES256.
    let es256 = u.ratio(1u8, 4)?;
    let subject = Uuid::from_bytes(u.arbitrary()?);
    let role: String = match u.int_in_range(0..=3u8)? {
        0 => "authenticated".into(),
        1 => "anon".into(),
        2 => "service_role".into(),
        _ => u.arbitrary()?,
    };
    let email: String = u.arbitrary()?;
    let expires_at = NOW + i64::from(u.int_in_range(1..=10_000_000u32)?);
    let issued_at = NOW - i64::from(u.int_in_range(0..=10_000_000u32)?);
    let audience = if u.arbitrary()? {
        json!("authenticated")
    } else {
        json!(["other", "authenticated"])
    };
    let claims = json!({
        "iss": ISSUER, "sub": subject.to_string(), "aud": audience, "exp": expires_at,
        "iat": issued_at, "role": role, "email": email, "is_anonymous": email.is_empty(),
    });
    let header = if es256 {
        json!({"alg": "ES256", "typ": "JWT", "kid": KID})
    } else {
        json!({"alg": "HS256", "typ": "JWT"})
    };
    let token = sign(&header, &claims, es256);

    if role != "authenticated" {
        // Only user sessions are callers: a service_role/anon/other-role token never is.
        assert_eq!(verify(&token), Err(AuthError::WrongRole));
        return Ok(());
    }
    let caller = verify(&token).unwrap_or_else(|e| panic!("signed token refused: {e:?}"));
    assert_eq!(caller.user_id, subject);
    assert_eq!(caller.email, Some(email).filter(|e| !e.is_empty()));
    assert_eq!(caller.expires_at, expires_at);

    if let Some(mutated) = mutate(&token, u)? {
        if let Ok(other) = verify(&mutated) {
            assert_eq!(other, caller, "an edited token verified as another caller");
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    arbitrary_token(data);
    let _ = signed_token(&mut Unstructured::new(data));
});
