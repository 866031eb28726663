use super::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1_614_265_330;
const BODY: &[u8] = br#"{"test": 2432232314}"#;

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(vec![WebhookSecret::parse(SECRET).unwrap()])
}

fn headers<'a>(signature: &'a str, timestamp: &'a str) -> WebhookHeaders<'a> {
    WebhookHeaders {
        id: Some(ID),
        timestamp: Some(timestamp),
        signature: Some(signature),
    }
}

#[test]
fn matches_the_specification_example() {
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let signature = secret.sign(ID, TS, BODY);
    assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    let verified = verifier()
        .verify(headers(&signature, "1614265330"), BODY, TS)
        .unwrap();
    assert_eq!(
        verified,
        VerifiedWebhook {
            id: ID,
            timestamp: TS
        }
    );
}

#[test]
fn accepts_any_of_several_signatures_and_secrets() {
    let other = WebhookSecret::parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
    let good = WebhookSecret::parse(SECRET).unwrap().sign(ID, TS, BODY);
    let list = format!("v1a,ignoredAsymmetric v1,bm90IGEgc2lnbmF0dXJl {good} v1,***");
    assert!(
        verifier()
            .verify(headers(&list, "1614265330"), BODY, TS)
            .is_ok()
    );

    let rotated = WebhookVerifier::new(vec![other.clone(), WebhookSecret::parse(SECRET).unwrap()]);
    assert!(
        rotated
            .verify(headers(&good, "1614265330"), BODY, TS)
            .is_ok()
    );
    let only_other = WebhookVerifier::new(vec![other]);
    assert_eq!(
        only_other.verify(headers(&good, "1614265330"), BODY, TS),
        Err(WebhookError::NoMatchingSignature)
    );
}

#[test]
fn each_missing_header_has_its_error() {
    let sig = WebhookSecret::parse(SECRET).unwrap().sign(ID, TS, BODY);
    let full = headers(&sig, "1614265330");
    let cases = [
        (WebhookHeaders { id: None, ..full }, WebhookError::MissingId),
        (
            WebhookHeaders {
                timestamp: None,
                ..full
            },
            WebhookError::MissingTimestamp,
        ),
        (
            WebhookHeaders {
                signature: None,
                ..full
            },
            WebhookError::MissingSignature,
        ),
        (WebhookHeaders::default(), WebhookError::MissingId),
    ];
    for (headers, expected) in cases {
        assert_eq!(verifier().verify(headers, BODY, TS), Err(expected));
    }
}

#[test]
fn timestamp_tolerance_both_directions() {
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let check = |ts: i64, now: i64| {
        let sig = secret.sign(ID, ts, BODY);
        verifier()
            .verify(headers(&sig, &ts.to_string()), BODY, now)
            .map(|v| v.timestamp)
    };
    assert_eq!(check(TS, TS + 300), Ok(TS));
    assert_eq!(check(TS, TS + 301), Err(WebhookError::TimestampTooOld));
    assert_eq!(check(TS, TS - 300), Ok(TS));
    assert_eq!(check(TS, TS - 301), Err(WebhookError::TimestampTooNew));
    let strict = verifier().with_tolerance_secs(10);
    let sig = secret.sign(ID, TS, BODY);
    assert_eq!(
        strict.verify(headers(&sig, "1614265330"), BODY, TS + 11),
        Err(WebhookError::TimestampTooOld)
    );
}

#[test]
fn tampering_is_detected() {
    let sig = WebhookSecret::parse(SECRET).unwrap().sign(ID, TS, BODY);
    let v = verifier();
    let bad = |h: WebhookHeaders<'_>, body: &[u8]| v.verify(h, body, TS).unwrap_err();
    assert_eq!(
        bad(headers(&sig, "1614265330"), br#"{"test": 2432232315}"#),
        WebhookError::NoMatchingSignature
    );
    assert_eq!(
        bad(
            WebhookHeaders {
                id: Some("msg_other"),
                ..headers(&sig, "1614265330")
            },
            BODY
        ),
        WebhookError::NoMatchingSignature
    );
    // A re-formatted but equal timestamp changes the signed content.
    assert_eq!(
        bad(headers(&sig, "01614265330"), BODY),
        WebhookError::NoMatchingSignature
    );
    assert_eq!(
        bad(headers(&sig, "1614265330.0"), BODY),
        WebhookError::InvalidTimestamp
    );
    assert_eq!(
        bad(headers(&sig, "soon"), BODY),
        WebhookError::InvalidTimestamp
    );
    assert_eq!(
        bad(headers("v1,", "1614265330"), BODY),
        WebhookError::NoMatchingSignature
    );
    assert_eq!(
        bad(headers("", "1614265330"), BODY),
        WebhookError::NoMatchingSignature
    );
    let unprefixed = sig.trim_start_matches("v1,");
    assert_eq!(
        bad(headers(unprefixed, "1614265330"), BODY),
        WebhookError::NoMatchingSignature
    );
}

#[test]
fn secrets_parse_strictly_and_stay_hidden() {
    assert!(WebhookSecret::parse("whsec_???").is_err());
    assert!(WebhookSecret::parse("whsec_AAAA").is_err(), "too short");
    assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
    let verifier = WebhookVerifier::from_secret_list(&format!(
        " {SECRET}, whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "
    ))
    .unwrap();
    assert_eq!(verifier.secrets.len(), 2);
    assert!(WebhookVerifier::from_secret_list(" , ").is_err());
    assert!(!format!("{verifier:?}").contains("MfKQ"));
}

#[test]
fn codes_are_distinct() {
    let all = [
        WebhookError::MissingId,
        WebhookError::MissingTimestamp,
        WebhookError::MissingSignature,
        WebhookError::InvalidTimestamp,
        WebhookError::TimestampTooOld,
        WebhookError::TimestampTooNew,
        WebhookError::NoMatchingSignature,
    ];
    let codes: std::collections::HashSet<_> = all.iter().map(WebhookError::code).collect();
    assert_eq!(codes.len(), all.len());
}
