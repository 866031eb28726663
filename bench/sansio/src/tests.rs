//! The flow driven natively: each need answered by a script, no stack. The same answers as the
//! function's end-to-end tests assert (tests/connections.test.mjs), and every subrequest's
//! failure that a stack cannot easily stage.

use std::rc::Rc;

use edge_step::{Fetched, Got, Machine, Need, Progress, Subrequest};
use jwt_compact::alg::{Es256, Hs256, Hs256Key};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::{Value, json};

use crate::flow::{Incoming, Reply, serve};
use crate::settings::Settings;

const URL: &str = "http://db.test";
const SECRET: &str = "a-test-jwt-secret-of-at-least-32-characters";
const RING: &str = "v1;active=k1;k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const USER: &str = "7d3f3c1e-8a9b-4c2d-9e0f-1a2b3c4d5e6f";

fn settings(jwt_secret: bool) -> Rc<Settings> {
    let mut values = vec![
        ("SUPABASE_URL", URL),
        ("SUPABASE_ANON_KEY", "anon-key"),
        ("SUPABASE_SERVICE_ROLE_KEY", "service-key"),
        ("ENCRYPTION_KEY_RING", RING),
    ];
    if jwt_secret {
        values.push(("SUPABASE_JWT_SECRET", SECRET));
    }
    Rc::new(Settings::new(
        values
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned())),
    ))
}

fn claims(anonymous: bool) -> Claims<Value> {
    let now = crate::now().as_secs();
    Claims::new(json!({
        "sub": USER, "role": "authenticated", "aud": "authenticated",
        "iss": format!("{URL}/auth/v1"), "iat": now, "exp": now + 600,
        "session_id": "5c0e5f0a-0000-4000-8000-000000000001", "is_anonymous": anonymous,
    }))
}

fn hs256_token(anonymous: bool) -> String {
    Hs256
        .token(&Header::empty(), &claims(anonymous), &Hs256Key::new(SECRET))
        .unwrap()
}

fn es256_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[0x22; 32]).unwrap()
}

fn es256_token() -> String {
    Es256
        .token(
            &Header::empty().with_key_id("k1"),
            &claims(false),
            &es256_key(),
        )
        .unwrap()
}

fn jwks() -> String {
    let mut jwk = serde_json::to_value(JsonWebKey::from(es256_key().verifying_key())).unwrap();
    jwk["kid"] = "k1".into();
    jwk["alg"] = "ES256".into();
    json!({ "keys": [jwk] }).to_string()
}

fn request(method: &str, query: &str, token: Option<&str>) -> Incoming {
    Incoming {
        method: method.to_owned(),
        url: format!("https://fn.test/functions/v1/save-connection{query}"),
        authorization: token.map(|t| format!("Bearer {t}")),
        cf_ray: Some("ray-1".to_owned()),
        ..Incoming::default()
    }
}

fn legacy_jwt(role: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&format!(r#"{{"role":"{role}"}}"#))
    )
}

fn connection_body() -> Vec<u8> {
    json!({
        "name": "prod", "url": "https://abc.supabase.co",
        "anon_key": legacy_jwt("anon"), "service_role_key": legacy_jwt("service_role"),
    })
    .to_string()
    .into_bytes()
}

fn saved_row(created: &str, updated: &str) -> String {
    json!([{
        "id": "c1", "name": "prod", "url": "https://abc.supabase.co", "allow_writes": false,
        "anon_key_hint": "eyJhbGciOi", "service_role_key_hint": "eyJhbGciOi", "key_id": "k1",
        "created_at": created, "updated_at": updated,
    }])
    .to_string()
}

fn answer(status: u16, body: &str) -> Got {
    Got::Fetched(Fetched::Answer {
        status,
        body: body.to_owned(),
    })
}

/// Runs one request to its answer, each need answered by `script`; returns the answer and the
/// needs in order.
fn drive(
    req: Incoming,
    settings: Rc<Settings>,
    mut script: impl FnMut(&Need) -> Got,
) -> (Reply, Vec<Need>) {
    let mut machine = Machine::new(serve(req, settings));
    let mut needs = Vec::new();
    loop {
        match machine.resume() {
            Progress::Needs(need) => {
                machine.give(script(&need));
                needs.push(need);
            }
            Progress::Waiting => panic!("a lone flow never waits"),
            Progress::Done((reply, _after)) => return (reply, needs),
        }
    }
}

fn body_json(reply: &Reply) -> Value {
    serde_json::from_str(reply.body.as_deref().unwrap()).unwrap()
}

fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A POST whose RPC answers `rpc`.
fn post(rpc: Got) -> (Reply, Vec<Need>) {
    let token = hs256_token(false);
    let mut rpc = Some(rpc);
    drive(
        request("POST", "", Some(&token)),
        settings(true),
        |need| match need {
            Need::Body { .. } => Got::Body(connection_body()),
            Need::Fetch(_) => rpc.take().expect("one RPC"),
            other => panic!("unexpected {other:?}"),
        },
    )
}

#[test]
fn post_seals_both_keys_and_answers_201_with_the_saved_row() {
    let (reply, needs) = post(answer(200, &saved_row("t1", "t1")));
    assert_eq!(reply.status, 201);
    assert_eq!(body_json(&reply)["name"], "prod");
    assert_eq!(header(&reply, "x-request-id"), Some("ray-1"));
    assert!(header(&reply, "access-control-allow-origin").is_some());
    let [Need::Body { limit: 16384 }, Need::Fetch(rpc)] = needs.as_slice() else {
        panic!("{needs:?}");
    };
    assert_eq!(rpc.method, "POST");
    assert_eq!(rpc.url, format!("{URL}/rest/v1/rpc/save_connection"));
    assert!(
        rpc.headers
            .iter()
            .any(|(n, v)| n == "authorization" && v == "Bearer service-key")
    );
    let args: Value = serde_json::from_str(rpc.body.as_deref().unwrap()).unwrap();
    assert_eq!(args["p_user_id"], USER);
    let sealed = args["p_service_role_key_encrypted"].as_str().unwrap();
    assert!(sealed.starts_with("enc:v1:k1:"), "{sealed}");
    assert!(!rpc.body.as_deref().unwrap().contains(&legacy_jwt("anon")));
}

#[test]
fn saving_again_is_200() {
    assert_eq!(post(answer(200, &saved_row("t1", "t2"))).0.status, 200);
}

#[test]
fn each_way_the_rpc_can_fail_has_its_own_answer() {
    let cases = [
        (Got::Fetched(Fetched::TimedOut), 504, "gateway_timeout"),
        (answer(503, "upstream down"), 502, "bad_gateway"),
        (
            Got::Fetched(Fetched::SendFailed("refused".into())),
            502,
            "bad_gateway",
        ),
        (
            Got::Fetched(Fetched::ReadFailed("reset".into())),
            502,
            "bad_gateway",
        ),
        (answer(200, "not json"), 500, "internal_error"),
        (answer(200, "[]"), 500, "internal_error"),
        (
            answer(
                403,
                r#"{"code":"P0001","message":"blocked","hint":"account_blocked"}"#,
            ),
            403,
            "account_blocked",
        ),
        (
            answer(400, r#"{"code":"23514","message":"violates"}"#),
            500,
            "internal_error",
        ),
    ];
    for (got, status, code) in cases {
        let label = format!("{got:?}");
        let (reply, _) = post(got);
        assert_eq!(reply.status, status, "{label}");
        assert_eq!(body_json(&reply)["code"], code, "{label}");
    }
}

#[test]
fn tokens_are_checked_before_anything_is_read_or_sent() {
    let guest = hs256_token(true);
    let forged = {
        let mut token = hs256_token(false);
        token.push('x');
        token
    };
    let cases = [
        (None, 401),
        (Some("not-a-jwt"), 401),
        (Some(forged.as_str()), 401),
        (Some(guest.as_str()), 403),
    ];
    for (token, status) in cases {
        let (reply, needs) = drive(request("POST", "", token), settings(true), |need| {
            panic!("nothing is needed, got {need:?}")
        });
        assert_eq!(reply.status, status, "{token:?}");
        assert!(needs.is_empty());
    }
}

#[test]
fn bodies_too_large_unreadable_or_invalid_are_4xx_and_nothing_is_sent() {
    let token = hs256_token(false);
    let declared = Incoming {
        content_length: Some("999999".into()),
        ..request("POST", "", Some(&token))
    };
    let (reply, needs) = drive(declared, settings(true), |need| panic!("{need:?}"));
    assert_eq!((reply.status, needs.len()), (413, 0));
    let bodies = [
        (Got::BodyTooLarge, 413),
        // A driver that read past the limit: the flow still refuses it.
        (Got::Body(vec![b' '; 16 * 1024 + 1]), 413),
        (Got::BodyUnreadable, 400),
        (Got::Body(b"[1]".to_vec()), 400),
        (Got::Body(br#"{"name":"prod"}"#.to_vec()), 400),
        (
            Got::Body(
                json!({"name": "prod", "url": "http://10.0.0.1", "anon_key": legacy_jwt("anon"),
                       "service_role_key": legacy_jwt("service_role")})
                .to_string()
                .into_bytes(),
            ),
            400,
        ),
    ];
    for (body, status) in bodies {
        let label = format!("{body:?}");
        let mut body = Some(body);
        let (reply, needs) =
            drive(
                request("POST", "", Some(&token)),
                settings(true),
                |need| match need {
                    Need::Body { .. } => body.take().unwrap(),
                    other => panic!("{label}: nothing is sent, got {other:?}"),
                },
            );
        assert_eq!(reply.status, status, "{label}");
        assert_eq!(needs.len(), 1);
    }
}

#[test]
fn get_lists_as_the_caller_and_delete_needs_a_valid_name() {
    let token = hs256_token(false);
    let (reply, needs) = drive(request("GET", "", Some(&token)), settings(true), |_| {
        answer(200, "[]")
    });
    assert_eq!((reply.status, body_json(&reply)), (200, json!([])));
    let [Need::Fetch(Subrequest { url, headers, .. })] = needs.as_slice() else {
        panic!("{needs:?}");
    };
    assert!(url.ends_with("/rest/v1/rpc/list_connections"));
    assert!(headers.contains(&("authorization".to_owned(), format!("Bearer {token}"))));

    let (reply, needs) = drive(request("DELETE", "", Some(&token)), settings(true), |_| {
        panic!("nothing is sent")
    });
    assert_eq!((reply.status, needs.len()), (400, 0));
    assert_eq!(body_json(&reply)["code"], "missing_name");
    let bad = request("DELETE", "?name=a%20b", Some(&token));
    assert_eq!(drive(bad, settings(true), |_| panic!()).0.status, 400);

    let gone = |rows: &'static str| {
        let req = request("DELETE", "?name=prod", Some(&token));
        drive(req, settings(true), move |_| answer(200, rows)).0
    };
    let deleted = gone(r#"[{"id":"c1"}]"#);
    assert_eq!((deleted.status, deleted.body), (204, None));
    assert_eq!(gone("[]").status, 404);
}

#[test]
fn preflight_and_other_methods_need_no_token() {
    let (reply, _) = drive(request("OPTIONS", "", None), settings(true), |_| panic!());
    assert_eq!(reply.status, 200);
    assert!(header(&reply, "access-control-allow-methods").is_some());
    let (reply, _) = drive(request("PUT", "", None), settings(true), |_| panic!());
    assert_eq!(reply.status, 405);
    assert_eq!(header(&reply, "allow"), Some("GET, POST, DELETE"));
}

#[test]
fn es256_keys_are_fetched_once_imported_by_the_driver_and_each_signature_checked_by_it() {
    let settings = settings(false);
    let token = es256_token();
    let verifying = *es256_key().verifying_key();
    let mut imported = Vec::new();
    let mut script = |need: &Need| match need {
        Need::Fetch(sub) if sub.url.ends_with("/jwks.json") => answer(200, &jwks()),
        Need::ImportEs256 { key, point } => {
            assert_eq!(
                point.as_slice(),
                verifying.to_encoded_point(false).as_bytes()
            );
            imported.push(*key);
            Got::Done(true)
        }
        Need::VerifyEs256 {
            key,
            signature,
            data,
        } => {
            use p256::ecdsa::signature::Verifier;
            assert!(imported.contains(key));
            let signature = p256::ecdsa::Signature::from_slice(signature).unwrap();
            Got::Done(verifying.verify(data, &signature).is_ok())
        }
        Need::Fetch(_) => answer(200, "[]"),
        other => panic!("{other:?}"),
    };
    let (reply, needs) = drive(
        request("GET", "", Some(&token)),
        settings.clone(),
        &mut script,
    );
    assert_eq!(reply.status, 200);
    let kinds: Vec<_> = needs
        .iter()
        .map(|n| match n {
            Need::Fetch(s) if s.url.ends_with("/jwks.json") => "jwks",
            Need::Fetch(_) => "rpc",
            Need::ImportEs256 { .. } => "import",
            Need::VerifyEs256 { .. } => "verify",
            Need::Body { .. } => "body",
        })
        .collect();
    assert_eq!(kinds, ["jwks", "import", "verify", "rpc"]);
    // The next request of the isolate: the key is held, only the check is asked for.
    let (reply, needs) = drive(
        request("GET", "", Some(&token)),
        settings.clone(),
        &mut script,
    );
    assert_eq!(reply.status, 200);
    assert!(matches!(
        needs.as_slice(),
        [Need::VerifyEs256 { .. }, Need::Fetch(_)]
    ));
    // A signature the driver refuses is a 401 and nothing is sent.
    let (reply, needs) = drive(
        request("GET", "", Some(&token)),
        settings,
        |need| match need {
            Need::VerifyEs256 { .. } => Got::Done(false),
            other => panic!("{other:?}"),
        },
    );
    assert_eq!((reply.status, needs.len()), (401, 1));
}
