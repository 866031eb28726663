//! How a function uses the shared crates end to end, framework-free: the pieces a
//! `save-connection` handler strings together between `worker::Request` and `worker::Response`.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use edge_auth::{NoJwks, TokenVerifier, UnixTime, VerifierConfig, bearer_token};
use edge_crypto::{Aad, KeyRing, hmac_sha256};
use edge_http::{ApiError, BodyLimit, Cors, LimitedBody, parse_json, request_id};
use serde::Deserialize;

const JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
const KEY_RING: &str = "v1;active=k1;k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const NOW: i64 = 1_700_000_000;
const USER: &str = "6f1c3c1e-3a53-4a0e-9a43-0e0a8f6a2b11";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveConnection {
    name: String,
    service_role_key: String,
}

/// A minimal request as the Worker adapter would hand it over.
struct Request<'a> {
    method: &'a str,
    authorization: Option<&'a str>,
    content_length: Option<&'a str>,
    body: &'a [u8],
}

/// status, headers, body
type Response = (u16, Vec<(&'static str, String)>, String);

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

fn handle(req: &Request<'_>, verifier: &TokenVerifier, ring: &KeyRing) -> Response {
    let cors = Cors::new(&["POST"]);
    if req.method == "OPTIONS" {
        let preflight = cors.preflight();
        return (
            preflight.status,
            preflight.headers,
            preflight.body.to_owned(),
        );
    }
    let mut headers = cors.headers();
    match save(req, verifier, ring) {
        Ok(body) => (200, headers, body),
        Err(err) => {
            headers.extend(err.headers().iter().cloned());
            (err.status(), headers, err.body())
        }
    }
}

fn save(req: &Request<'_>, verifier: &TokenVerifier, ring: &KeyRing) -> Result<String, ApiError> {
    if req.method != "POST" {
        return Err(ApiError::method_not_allowed(
            req.method,
            &["POST", "OPTIONS"],
        ));
    }
    let token = bearer_token(req.authorization)?;
    let caller = block_on(verifier.verify(token, UnixTime::from_secs(NOW), &NoJwks))?;
    if caller.is_anonymous {
        return Err(ApiError::forbidden(
            "guest_not_allowed",
            "guests cannot save connections",
        ));
    }
    let limit = BodyLimit::new(16 * 1024);
    limit.check_declared(req.content_length)?;
    let mut body = LimitedBody::new(limit);
    for chunk in req.body.chunks(4096) {
        body.push(chunk)?;
    }
    let input: SaveConnection = parse_json(&body.into_bytes())?;
    let row = format!("connections/{}", input.name);
    let aad = Aad {
        owner: caller.user_id,
        row: &row,
        field: "service_role_key",
    };
    let sealed = ring
        .seal_str(&input.service_role_key, aad)
        .map_err(|_| ApiError::internal())?;
    Ok(format!(
        r#"{{"name":"{}","sealed_prefix":"{}"}}"#,
        input.name,
        &sealed[..10]
    ))
}

fn hs256(claims: &str) -> String {
    let unsigned = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = hmac_sha256(JWT_SECRET.as_bytes(), unsigned.as_bytes());
    format!("{unsigned}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn claims(is_anonymous: bool, exp: i64) -> String {
    format!(
        r#"{{"sub":"{USER}","aud":"authenticated","role":"authenticated","exp":{exp},"is_anonymous":{is_anonymous}}}"#
    )
}

#[test]
fn save_connection_flow() {
    let verifier = TokenVerifier::new(VerifierConfig::new(JWT_SECRET)).unwrap();
    let ring = KeyRing::parse(KEY_RING).unwrap();
    let user = format!("Bearer {}", hs256(&claims(false, NOW + 60)));
    let guest = format!("Bearer {}", hs256(&claims(true, NOW + 60)));
    let expired = format!("Bearer {}", hs256(&claims(false, NOW - 60)));
    let body = br#"{"name":"prod","service_role_key":"sb_secret_x"}"#;
    let req = |method, authorization, body| Request {
        method,
        authorization,
        content_length: None,
        body,
    };

    let (status, headers, text) = handle(&req("OPTIONS", None, b""), &verifier, &ring);
    assert_eq!((status, text.as_str()), (200, "ok"));
    assert!(headers.contains(&("access-control-allow-methods", "POST, OPTIONS".to_owned())));

    let (status, _, text) = handle(&req("POST", Some(&user), body), &verifier, &ring);
    assert_eq!(
        (status, text.as_str()),
        (200, r#"{"name":"prod","sealed_prefix":"enc:v1:k1:"}"#)
    );

    let expectations: [(Request<'_>, u16, &str); 6] = [
        (req("POST", None, body), 401, "missing_authorization"),
        (req("POST", Some(&expired), body), 401, "token_expired"),
        (req("POST", Some(&guest), body), 403, "guest_not_allowed"),
        (
            req("POST", Some(&user), br#"{"name":"prod"}"#),
            400,
            "invalid_body",
        ),
        (req("PUT", Some(&user), body), 405, "method_not_allowed"),
        (
            Request {
                content_length: Some("1000000"),
                ..req("POST", Some(&user), body)
            },
            413,
            "payload_too_large",
        ),
    ];
    for (request, status, code) in expectations {
        let (got_status, headers, text) = handle(&request, &verifier, &ring);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (got_status, json["code"].as_str().unwrap()),
            (status, code),
            "{text}"
        );
        assert!(
            headers
                .iter()
                .any(|(name, _)| *name == "access-control-allow-origin")
        );
    }
    assert_eq!(request_id(Some("8a1b-AMS"), None), "8a1b-AMS");
}
