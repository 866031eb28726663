//! Standard Webhooks signatures (edge-crypto's `WebhookVerifier`) and process-webhook's sender
//! authentication (`X-API-Key` or signature) in front of it.
//!
//! Properties:
//! 1. Any input, split at newlines into `webhook-id`, `webhook-timestamp`,
//!    `webhook-signature`, `X-API-Key` and the body, is verified without panicking, and every
//!    refusal is a 401 (400 only for delivery-id problems); a secret list made of any text is
//!    parsed without panicking.
//! 2. A delivery signed with one of the configured secrets over an arbitrary id, timestamp and
//!    body verifies exactly when the timestamp is within the five-minute tolerance, and yields
//!    that id and timestamp, also among unrelated signatures in the same header.
//! 3. Any one-byte edit of the id, timestamp text, signature or body is refused (an edit that
//!    only puts whitespace beside the intact signature leaves that signature, and is allowed).
#![no_main]

use std::sync::LazyLock;

use edge_crypto::{WebhookError, WebhookHeaders, WebhookSecret, WebhookVerifier};
use edge_fuzz::{mutate, mutate_bytes};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use process_webhook::{AuthMethod, PresentedCredentials, SenderCredentials};

const SECRETS: &str =
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_c2Vjb25kLXNlY3JldC1mb3ItZnV6eg==";
const API_KEYS: &str = "fuzz-api-key-0123456789,second-api-key-abcdefgh";
const NOW: i64 = 1_700_000_000;
const TOLERANCE: i64 = 5 * 60;

static VERIFIER: LazyLock<WebhookVerifier> =
    LazyLock::new(|| WebhookVerifier::from_secret_list(SECRETS).expect("valid secrets"));
static SENDER: LazyLock<SenderCredentials> = LazyLock::new(|| {
    SenderCredentials::from_settings(Some(API_KEYS), Some(SECRETS)).expect("valid settings")
});
static SIGNING: LazyLock<Vec<WebhookSecret>> = LazyLock::new(|| {
    SECRETS
        .split(' ')
        .map(|s| WebhookSecret::parse(s).expect("valid secret"))
        .collect()
});

/// Property 1.
fn arbitrary_headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(5, '\n');
    let mut next = || lines.next().filter(|line| !line.is_empty());
    let (id, timestamp, signature, api_key) = (next(), next(), next(), next());
    let body = next().unwrap_or_default().as_bytes();
    let headers = WebhookHeaders {
        id,
        timestamp,
        signature,
    };
    if let Ok(verified) = VERIFIER.verify(headers, body, NOW) {
        assert_eq!(Some(verified.id), id);
        assert!((verified.timestamp - NOW).abs() <= TOLERANCE);
    }
    let presented = PresentedCredentials {
        api_key,
        idempotency_key: api_key.and(id),
        webhook: headers,
    };
    match SENDER.authenticate(presented, body, NOW) {
        Ok(delivery) => {
            if let Some(delivery_id) = &delivery.delivery_id {
                assert!(!delivery_id.is_empty() && delivery_id.chars().count() <= 255);
            }
            if delivery.method == AuthMethod::Signature {
                assert_eq!(delivery.delivery_id.as_deref(), id);
            }
        }
        Err(e) => assert!(matches!(e.status(), 400 | 401), "{e:?}"),
    }
    let _ = WebhookVerifier::from_secret_list(&text);
}

/// Properties 2 and 3.
fn signed_delivery(u: &mut Unstructured<'_>) -> Result<()> {
    let secret = u.choose(&SIGNING)?;
    let id: String = u.arbitrary()?;
    let timestamp = NOW + i64::from(u.int_in_range(-2 * TOLERANCE as i32..=2 * TOLERANCE as i32)?);
    let body: Vec<u8> = u.arbitrary()?;
    let signature = secret.sign(&id, timestamp, &body);
    let header = if u.arbitrary()? {
        format!("v1,bm90LWl0 v2,{} {signature} v1a,xyz", &signature[3..])
    } else {
        signature.clone()
    };
    let timestamp_text = timestamp.to_string();
    let headers = WebhookHeaders {
        id: Some(&id),
        timestamp: Some(&timestamp_text),
        signature: Some(&header),
    };
    let result = VERIFIER.verify(headers, &body, NOW);
    if timestamp < NOW - TOLERANCE {
        assert_eq!(result, Err(WebhookError::TimestampTooOld));
        return Ok(());
    }
    if timestamp > NOW + TOLERANCE {
        assert_eq!(result, Err(WebhookError::TimestampTooNew));
        return Ok(());
    }
    let verified = result.expect("a signed delivery verifies");
    assert_eq!((verified.id, verified.timestamp), (id.as_str(), timestamp));

    let refused = |headers: WebhookHeaders<'_>, body: &[u8]| {
        assert!(VERIFIER.verify(headers, body, NOW).is_err(), "{headers:?}");
    };
    match u.int_in_range(0..=3u8)? {
        0 => {
            if let Some(id) = mutate(&id, u)? {
                refused(
                    WebhookHeaders {
                        id: Some(&id),
                        ..headers
                    },
                    &body,
                );
            }
        }
        1 => {
            if let Some(timestamp) = mutate(&timestamp_text, u)? {
                refused(
                    WebhookHeaders {
                        timestamp: Some(&timestamp),
                        ..headers
                    },
                    &body,
                );
            }
        }
        2 => {
            // The header is a whitespace-separated list: an edit that only adds a separator
            // next to the intact signature leaves a valid entry (the same bytes), not a forgery.
            if let Some(edited) = mutate(&signature, u)? {
                if !edited.split_whitespace().any(|entry| entry == signature) {
                    refused(
                        WebhookHeaders {
                            signature: Some(&edited),
                            ..headers
                        },
                        &body,
                    );
                }
            }
        }
        _ => {
            if let Some(edited) = mutate_bytes(&body, u)? {
                refused(headers, &edited);
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    arbitrary_headers(data);
    let _ = signed_delivery(&mut Unstructured::new(data));
});
