//! Who may deliver a webhook: a holder of a configured `X-API-Key`, or a sender whose
//! Standard Webhooks signature checks out. Also yields the delivery id used for idempotency.

use edge_crypto::{InvalidWebhookSecret, WebhookHeaders, WebhookVerifier};
use edge_http::ApiError;

use crate::api_keys::{ApiKeyList, InvalidApiKeyList};

/// Longest delivery id (the `webhook_deliveries.delivery_id` check allows the same).
pub const MAX_DELIVERY_ID_LEN: usize = 255;

/// The accepted credentials, from the `WEBHOOK_API_KEYS` and `WEBHOOK_SECRETS` secrets; at
/// least one of them must be set.
#[derive(Debug, Clone)]
pub struct SenderCredentials {
    api_keys: Option<ApiKeyList>,
    signatures: Option<WebhookVerifier>,
}

/// The secrets do not configure any usable credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsConfigError {
    NoneConfigured,
    ApiKeys(InvalidApiKeyList),
    Secrets(InvalidWebhookSecret),
}

impl std::fmt::Display for CredentialsConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoneConfigured => {
                f.write_str("neither WEBHOOK_API_KEYS nor WEBHOOK_SECRETS is set")
            }
            Self::ApiKeys(e) => write!(f, "{e}"),
            Self::Secrets(e) => write!(f, "WEBHOOK_SECRETS: {e}"),
        }
    }
}

/// What a request carried, as header values.
#[derive(Debug, Clone, Copy, Default)]
pub struct PresentedCredentials<'a> {
    /// `X-API-Key`
    pub api_key: Option<&'a str>,
    /// `Idempotency-Key`: a delivery id for API-key senders that do not send `webhook-id`.
    pub idempotency_key: Option<&'a str>,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`
    pub webhook: WebhookHeaders<'a>,
}

/// How the sender proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ApiKey,
    Signature,
}

/// An authenticated delivery and its id, if it has one (deliveries without an id are
/// deduplicated by the task's own state only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedDelivery {
    pub method: AuthMethod,
    pub delivery_id: Option<String>,
}

impl SenderCredentials {
    pub fn from_settings(
        api_keys: Option<&str>,
        secrets: Option<&str>,
    ) -> Result<Self, CredentialsConfigError> {
        if api_keys.is_none() && secrets.is_none() {
            return Err(CredentialsConfigError::NoneConfigured);
        }
        Ok(Self {
            api_keys: api_keys
                .map(ApiKeyList::parse)
                .transpose()
                .map_err(CredentialsConfigError::ApiKeys)?,
            signatures: secrets
                .map(WebhookVerifier::from_secret_list)
                .transpose()
                .map_err(CredentialsConfigError::Secrets)?,
        })
    }

    /// Checks the request's credentials against the raw `body` at `now` (seconds).
    ///
    /// A `webhook-signature` header selects signature verification (as do `webhook-id` or
    /// `webhook-timestamp` without an `X-API-Key`, so a half-signed request learns what is
    /// missing); otherwise `X-API-Key` is checked. A credential that is presented must be
    /// valid: a bad signature is not rescued by a key, nor the other way round. Every refusal
    /// is a 401 with its own code.
    pub fn authenticate(
        &self,
        presented: PresentedCredentials<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<AuthenticatedDelivery, ApiError> {
        let webhook = presented.webhook;
        let signed = webhook.signature.is_some()
            || (presented.api_key.is_none()
                && (webhook.id.is_some() || webhook.timestamp.is_some()));
        if signed {
            self.check_signature(webhook, body, now)
        } else if let Some(key) = presented.api_key {
            self.check_api_key(key, presented.idempotency_key, webhook.id)
        } else {
            Err(ApiError::unauthorized(
                "missing_credentials",
                "Send an X-API-Key header or a Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature)",
            ))
        }
    }

    fn check_signature(
        &self,
        headers: WebhookHeaders<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<AuthenticatedDelivery, ApiError> {
        let verifier = self.signatures.as_ref().ok_or_else(|| {
            ApiError::unauthorized(
                "signatures_not_accepted",
                "Signed webhooks are not configured here; send X-API-Key",
            )
        })?;
        let verified = verifier
            .verify(headers, body, now)
            .map_err(|e| ApiError::unauthorized(e.code(), e.to_string()))?;
        Ok(AuthenticatedDelivery {
            method: AuthMethod::Signature,
            delivery_id: Some(delivery_id("webhook-id", verified.id)?),
        })
    }

    fn check_api_key(
        &self,
        key: &str,
        idempotency_key: Option<&str>,
        webhook_id: Option<&str>,
    ) -> Result<AuthenticatedDelivery, ApiError> {
        if !self.api_keys.as_ref().is_some_and(|keys| keys.accepts(key)) {
            return Err(ApiError::unauthorized(
                "invalid_api_key",
                "X-API-Key is not a valid webhook key",
            ));
        }
        let delivery_id = match (idempotency_key, webhook_id) {
            (Some(a), Some(b)) if a != b => {
                return Err(ApiError::bad_request(
                    "conflicting_delivery_ids",
                    "Idempotency-Key and webhook-id differ; send one delivery id",
                ));
            }
            (Some(id), _) => Some(delivery_id("Idempotency-Key", id)?),
            (None, Some(id)) => Some(delivery_id("webhook-id", id)?),
            (None, None) => None,
        };
        Ok(AuthenticatedDelivery {
            method: AuthMethod::ApiKey,
            delivery_id,
        })
    }
}

/// A delivery id is 1–255 visible ASCII characters (no spaces or controls), so it can be
/// stored, logged and compared as it came.
fn delivery_id(header: &str, id: &str) -> Result<String, ApiError> {
    let valid = !id.is_empty()
        && id.len() <= MAX_DELIVERY_ID_LEN
        && id.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(id.to_owned())
    } else {
        Err(ApiError::bad_request(
            "invalid_delivery_id",
            format!("{header} must be 1-{MAX_DELIVERY_ID_LEN} visible ASCII characters"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use edge_crypto::WebhookSecret;

    use super::*;

    const KEY: &str = "whk_test_0123456789abcdef";
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const OTHER_SECRET: &str = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const NOW: i64 = 1_800_000_000;
    const BODY: &[u8] = br#"{"task_id":"6f1c1c43-2b0a-4d8e-9a51-7f1e0c7a9b10","status":"done"}"#;

    fn both() -> SenderCredentials {
        SenderCredentials::from_settings(Some(KEY), Some(&format!("{OTHER_SECRET} {SECRET}")))
            .unwrap()
    }

    fn signature(id: &str, timestamp: i64, body: &[u8]) -> String {
        WebhookSecret::parse(SECRET)
            .unwrap()
            .sign(id, timestamp, body)
    }

    fn signed<'a>(id: &'a str, timestamp: &'a str, sig: &'a str) -> PresentedCredentials<'a> {
        PresentedCredentials {
            webhook: WebhookHeaders {
                id: Some(id),
                timestamp: Some(timestamp),
                signature: Some(sig),
            },
            ..Default::default()
        }
    }

    fn keyed(key: &str) -> PresentedCredentials<'_> {
        PresentedCredentials {
            api_key: Some(key),
            ..Default::default()
        }
    }

    fn code(result: Result<AuthenticatedDelivery, ApiError>) -> (u16, String) {
        let err = result.unwrap_err();
        (err.status(), err.code().to_owned())
    }

    #[test]
    fn a_valid_signature_authenticates_with_its_id() {
        let sig = signature("msg_1", NOW, BODY);
        let ok = both()
            .authenticate(signed("msg_1", &NOW.to_string(), &sig), BODY, NOW)
            .unwrap();
        assert_eq!(
            ok,
            AuthenticatedDelivery {
                method: AuthMethod::Signature,
                delivery_id: Some("msg_1".into())
            }
        );
    }

    #[test]
    fn signature_failures_are_401_with_their_code() {
        let ts = NOW.to_string();
        let good = signature("msg_1", NOW, BODY);
        let creds = both();
        let check = |p: PresentedCredentials<'_>| code(creds.authenticate(p, BODY, NOW));
        assert_eq!(
            check(signed("msg_1", &ts, "v1,AAAA")),
            (401, "webhook_bad_signature".into())
        );
        let tampered = code(creds.authenticate(signed("msg_1", &ts, &good), b"{}", NOW));
        assert_eq!(tampered, (401, "webhook_bad_signature".into()));
        let old = signature("msg_1", NOW - 360, BODY);
        assert_eq!(
            check(signed("msg_1", &(NOW - 360).to_string(), &old)),
            (401, "webhook_timestamp_too_old".into())
        );
        let future = signature("msg_1", NOW + 360, BODY);
        assert_eq!(
            check(signed("msg_1", &(NOW + 360).to_string(), &future)),
            (401, "webhook_timestamp_too_new".into())
        );
        let half = PresentedCredentials {
            webhook: WebhookHeaders {
                id: Some("msg_1"),
                timestamp: Some(&ts),
                signature: None,
            },
            ..Default::default()
        };
        assert_eq!(check(half), (401, "webhook_missing_signature".into()));
        // A valid key does not rescue a bad signature.
        let mixed = PresentedCredentials {
            api_key: Some(KEY),
            ..signed("msg_1", &ts, "v1,AAAA")
        };
        assert_eq!(check(mixed), (401, "webhook_bad_signature".into()));
    }

    #[test]
    fn api_keys_and_their_delivery_ids() {
        let creds = both();
        let ok = creds.authenticate(keyed(KEY), BODY, NOW).unwrap();
        assert_eq!(
            ok,
            AuthenticatedDelivery {
                method: AuthMethod::ApiKey,
                delivery_id: None
            }
        );
        let with_idempotency = PresentedCredentials {
            idempotency_key: Some("retry-7"),
            ..keyed(KEY)
        };
        assert_eq!(
            creds
                .authenticate(with_idempotency, BODY, NOW)
                .unwrap()
                .delivery_id,
            Some("retry-7".into())
        );
        let with_webhook_id = PresentedCredentials {
            webhook: WebhookHeaders {
                id: Some("msg_9"),
                ..Default::default()
            },
            ..keyed(KEY)
        };
        assert_eq!(
            creds
                .authenticate(with_webhook_id, BODY, NOW)
                .unwrap()
                .delivery_id,
            Some("msg_9".into())
        );
        let conflicting = PresentedCredentials {
            idempotency_key: Some("a"),
            ..with_webhook_id
        };
        assert_eq!(
            code(creds.authenticate(conflicting, BODY, NOW)),
            (400, "conflicting_delivery_ids".into())
        );
        for bad in [
            "",
            "has space",
            &"x".repeat(MAX_DELIVERY_ID_LEN + 1),
            "tab\t",
        ] {
            let p = PresentedCredentials {
                idempotency_key: Some(bad),
                ..keyed(KEY)
            };
            assert_eq!(
                code(creds.authenticate(p, BODY, NOW)),
                (400, "invalid_delivery_id".into()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn missing_or_wrong_keys_are_401() {
        let creds = both();
        assert_eq!(
            code(creds.authenticate(PresentedCredentials::default(), BODY, NOW)),
            (401, "missing_credentials".into())
        );
        assert_eq!(
            code(creds.authenticate(keyed("whk_test_0123456789abcdeX"), BODY, NOW)),
            (401, "invalid_api_key".into())
        );
        assert_eq!(
            code(creds.authenticate(keyed(""), BODY, NOW)),
            (401, "invalid_api_key".into())
        );
    }

    #[test]
    fn only_configured_methods_are_accepted() {
        let keys_only = SenderCredentials::from_settings(Some(KEY), None).unwrap();
        let sig = signature("msg_1", NOW, BODY);
        assert_eq!(
            code(keys_only.authenticate(signed("msg_1", &NOW.to_string(), &sig), BODY, NOW)),
            (401, "signatures_not_accepted".into())
        );
        let signatures_only = SenderCredentials::from_settings(None, Some(SECRET)).unwrap();
        assert_eq!(
            code(signatures_only.authenticate(keyed(KEY), BODY, NOW)),
            (401, "invalid_api_key".into())
        );
        assert!(
            signatures_only
                .authenticate(signed("msg_1", &NOW.to_string(), &sig), BODY, NOW)
                .is_ok()
        );
    }

    #[test]
    fn configuration_errors() {
        assert_eq!(
            SenderCredentials::from_settings(None, None).unwrap_err(),
            CredentialsConfigError::NoneConfigured
        );
        assert!(matches!(
            SenderCredentials::from_settings(Some("short"), None),
            Err(CredentialsConfigError::ApiKeys(_))
        ));
        assert!(matches!(
            SenderCredentials::from_settings(None, Some("whsec_???")),
            Err(CredentialsConfigError::Secrets(_))
        ));
    }
}
