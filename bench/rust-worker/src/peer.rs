//! `POST /peer`: verify the caller's HS256 token, open the envelope in the body (bound to the
//! caller, the connection name and the field) and seal it again under the active key.

use edge_auth::{AuthError, NoJwks, TokenVerifier, UnixTime, VerifierConfig, bearer_token};
use edge_crypto::{Aad, KeyRing, envelope_key_id};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The field every benchmark envelope is bound to.
pub const FIELD: &str = "service_role_key";

/// The verifier and key ring, built once per isolate.
pub struct PeerState {
    verifier: TokenVerifier,
    ring: KeyRing,
}

/// The request body: a connection name and the envelope stored for it.
#[derive(Debug, Deserialize)]
pub struct ResealRequest {
    pub name: String,
    pub envelope: String,
}

/// The answer: who asked, the connection, the key the new envelope is sealed with, the
/// envelope.
#[derive(Debug, Serialize)]
pub struct PeerAnswer {
    pub user_id: Uuid,
    pub name: String,
    pub key_id: String,
    pub envelope: String,
}

/// A refused request.
#[derive(Debug)]
pub enum PeerError {
    Auth(AuthError),
    BadBody,
    Envelope,
}

impl PeerError {
    pub fn status(&self) -> u16 {
        match self {
            Self::Auth(e) => e.status(),
            Self::BadBody | Self::Envelope => 400,
        }
    }

    pub fn body(&self) -> String {
        let code = match self {
            Self::Auth(e) => e.code(),
            Self::BadBody => "invalid_body",
            Self::Envelope => "envelope_unreadable",
        };
        serde_json::json!({ "error": code, "code": code }).to_string()
    }
}

impl PeerState {
    /// `jwt_secret` and `supabase_url` as the functions read them; `key_ring` in the
    /// `ENCRYPTION_KEY_RING` format.
    pub fn new(jwt_secret: &str, supabase_url: &str, key_ring: &str) -> Result<Self, String> {
        let config = VerifierConfig::new(jwt_secret)
            .with_issuer(format!("{}/auth/v1", supabase_url.trim_end_matches('/')));
        Ok(Self {
            verifier: TokenVerifier::new(config).map_err(|e| e.to_string())?,
            ring: KeyRing::parse(key_ring).map_err(|e| e.to_string())?,
        })
    }

    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// The whole per-request work, given the `Authorization` header and the raw body.
    pub async fn reseal(
        &self,
        authorization: Option<&str>,
        body: &[u8],
        now: UnixTime,
    ) -> Result<PeerAnswer, PeerError> {
        let token = bearer_token(authorization).map_err(PeerError::Auth)?;
        let caller = self
            .verifier
            .verify(token, now, &NoJwks)
            .await
            .map_err(PeerError::Auth)?;
        let request: ResealRequest =
            serde_json::from_slice(body).map_err(|_| PeerError::BadBody)?;
        let aad = Aad {
            owner: caller.user_id,
            row: &request.name,
            field: FIELD,
        };
        let envelope = self
            .ring
            .reseal(&request.envelope, aad)
            .map_err(|_| PeerError::Envelope)?;
        let key_id = envelope_key_id(&envelope)
            .map_err(|_| PeerError::Envelope)?
            .to_owned();
        Ok(PeerAnswer {
            user_id: caller.user_id,
            name: request.name,
            key_id,
            envelope,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
    const URL: &str = "http://127.0.0.1:54321";
    const RING: &str = "v1;active=k1;k1=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const NOW: i64 = 1_800_000_000;

    fn token(sub: Uuid, secret: &str) -> String {
        let b64 = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let body = format!(
            "{}.{}",
            b64(serde_json::json!({"alg": "HS256", "typ": "JWT"})),
            b64(serde_json::json!({
                "sub": sub, "aud": "authenticated", "role": "authenticated",
                "iss": format!("{URL}/auth/v1"), "exp": NOW + 3600, "iat": NOW,
            }))
        );
        let mac = edge_crypto::hmac_sha256(secret.as_bytes(), body.as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    fn run(state: &PeerState, auth: &str, body: &str) -> Result<PeerAnswer, PeerError> {
        let future = state.reseal(Some(auth), body.as_bytes(), UnixTime::from_secs(NOW));
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn reseals_the_callers_envelope_and_refuses_others() {
        let state = PeerState::new(SECRET, URL, RING).unwrap();
        let owner = Uuid::new_v4();
        let aad = Aad {
            owner,
            row: "shop",
            field: FIELD,
        };
        let sealed = state.ring().seal_str("sb_secret_xyz", aad).unwrap();
        let body = serde_json::json!({"name": "shop", "envelope": sealed}).to_string();

        let answer = run(&state, &format!("Bearer {}", token(owner, SECRET)), &body).unwrap();
        assert_eq!(answer.user_id, owner);
        assert_eq!(answer.key_id, "k1");
        assert_ne!(answer.envelope, sealed, "a fresh nonce");
        assert_eq!(
            state
                .ring()
                .open_str(&answer.envelope, aad)
                .unwrap()
                .expose(),
            "sb_secret_xyz"
        );

        let stranger = format!("Bearer {}", token(Uuid::new_v4(), SECRET));
        assert!(matches!(
            run(&state, &stranger, &body),
            Err(PeerError::Envelope)
        ));
        let forged = format!("Bearer {}", token(owner, &SECRET.replace('s', "z")));
        let refused = run(&state, &forged, &body).unwrap_err();
        assert_eq!(refused.status(), 401);
        assert!(matches!(
            run(&state, &format!("Bearer {}", token(owner, SECRET)), "[]"),
            Err(PeerError::BadBody)
        ));
    }
}
