//! Time per access-token verification: HS256 with the project secret, and ES256 through the
//! JWKS, both with the key already cached (the steady state of a warm isolate) and with a fresh
//! verifier that first parses the JWKS (an isolate's first request).
//!
//! `cargo bench -p edge-auth`

use std::future::Future;
use std::hint::black_box;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use edge_auth::{FetchError, NoJwks, TokenVerifier, UnixTime, VerifierConfig, bearer_token};
use jwt_compact::alg::{Es256, Hs256, Hs256Key};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::{Value, json};

const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
const ISSUER: &str = "http://127.0.0.1:54321/auth/v1";
const KID: &str = "bench-es256";
const NOW: i64 = 1_700_000_000;

/// The verifier never waits here (fixed fetchers answer at once), so polling once suffices.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// A Supabase Auth access token's claims, as GoTrue issues them.
fn claims() -> Claims<Value> {
    Claims::new(json!({
        "iss": ISSUER,
        "sub": "6f1c3c1e-3a53-4a0e-9a43-0e0a8f6a2b11",
        "aud": "authenticated",
        "exp": NOW + 3600,
        "iat": NOW - 10,
        "role": "authenticated",
        "email": "ada@example.com",
        "phone": "",
        "aal": "aal1",
        "session_id": "0b7c7f36-7ad4-4b8e-8d31-1e8f5f1e3a22",
        "is_anonymous": false,
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {"first_name": "Ada"}
    }))
}

fn es256_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[0x11; 32]).expect("valid P-256 scalar")
}

fn jwks(key: &p256::ecdsa::SigningKey) -> String {
    let mut jwk = serde_json::to_value(JsonWebKey::from(key.verifying_key())).unwrap();
    jwk["kid"] = KID.into();
    jwk["alg"] = "ES256".into();
    jwk["use"] = "sig".into();
    json!({ "keys": [jwk] }).to_string()
}

fn config() -> VerifierConfig {
    VerifierConfig::new(SECRET).with_issuer(ISSUER)
}

fn bench_verify(c: &mut Criterion) {
    let now = UnixTime::from_secs(NOW);
    let hs256 = Hs256
        .token(&Header::empty(), &claims(), &Hs256Key::new(SECRET))
        .unwrap();
    let key = es256_key();
    let es256 = Es256
        .token(&Header::empty().with_key_id(KID), &claims(), &key)
        .unwrap();
    let document = jwks(&key);
    let fetcher = || {
        let body = document.clone();
        async move { Ok::<_, FetchError>(body) }
    };
    let header = format!("Bearer {hs256}");

    let verifier = TokenVerifier::new(config()).unwrap();
    c.bench_function("verify HS256 (bearer header to caller)", |b| {
        b.iter(|| {
            let token = bearer_token(Some(black_box(&header))).unwrap();
            block_on(verifier.verify(token, now, &NoJwks)).unwrap()
        })
    });

    let warm = TokenVerifier::new(config()).unwrap();
    block_on(warm.verify(&es256, now, &fetcher)).unwrap();
    c.bench_function("verify ES256 (JWKS key cached)", |b| {
        b.iter(|| block_on(warm.verify(black_box(&es256), now, &fetcher)).unwrap())
    });

    c.bench_function(
        "verify ES256 (fresh verifier: parse JWKS, then verify)",
        |b| {
            b.iter(|| {
                let cold = TokenVerifier::new(config()).unwrap();
                block_on(cold.verify(black_box(&es256), now, &fetcher)).unwrap()
            })
        },
    );

    let forged = format!("{}x", &hs256[..hs256.len() - 1]);
    c.bench_function("refuse HS256 with a bad signature", |b| {
        b.iter(|| block_on(verifier.verify(black_box(&forged), now, &NoJwks)).unwrap_err())
    });
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
