//! A channel's access token, checked as Supabase Realtime checks it (`confirm_token`): devstack's
//! one JWT verification (the gateway's, as `/rest/v1` uses it), then the claims Realtime
//! requires, with Realtime's words for each refusal.

use base64::Engine;
use serde_json::Value;

use crate::gateway::{self, GatewayError};
use crate::jwt::JwtError;
use crate::project::Project;

/// Whom a channel acts as: the claims Realtime evaluates RLS with, and when they run out.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub token: String,
    pub claims: Value,
    pub role: String,
    /// `None` for the project's opaque keys, which the gateway turns into claims that never
    /// expire.
    pub exp: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    Expired { seconds_ago: i64 },
    MissingClaims,
    Malformed,
    Signature,
}

impl TokenRefusal {
    /// The `reason` of a refused `phx_join` (Realtime's log code, a colon, the message).
    pub fn join_reason(&self) -> String {
        match self {
            Self::Expired { .. } | Self::MissingClaims => {
                format!("InvalidJWTToken: {}", self.message())
            }
            Self::Malformed => format!("MalformedJWT: {}", self.message()),
            Self::Signature => format!("JwtSignatureError: {}", self.message()),
        }
    }

    /// The `system` message that ends a joined channel (a refreshed or lapsed token).
    /// Realtime words a bad signature there as the bare Elixir atom it got.
    pub fn shutdown_message(&self) -> String {
        match self {
            Self::Signature => ":signature_error".into(),
            other => other.message(),
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Expired { seconds_ago } => format!("Token has expired {seconds_ago} seconds ago"),
            Self::MissingClaims => "Fields `role` and `exp` are required in JWT".into(),
            Self::Malformed => "The token provided is not a valid JWT".into(),
            Self::Signature => "Failed to validate JWT signature".into(),
        }
    }
}

/// Verifies `token` and returns its credentials.
pub fn confirm(project: &Project, token: &str) -> Result<Credentials, TokenRefusal> {
    let token = token.trim();
    let auth = gateway::credentials_for_token(token, &project.config, &project.jwt)
        .map_err(|e| refusal(&e, token))?;
    let role = auth.role().to_owned();
    let exp = auth.claims.get("exp").and_then(Value::as_i64);
    if !gateway::is_project_key(token, &project.config) {
        if auth.claims.get("role").and_then(Value::as_str).is_none() || exp.is_none() {
            return Err(TokenRefusal::MissingClaims);
        }
        if let Some(exp) = exp
            && exp <= now()
        {
            return Err(TokenRefusal::Expired {
                seconds_ago: now() - exp,
            });
        }
    }
    Ok(Credentials {
        token: token.to_owned(),
        claims: auth.claims,
        role,
        exp,
    })
}

/// Seconds since the epoch, the clock `exp` is read against.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn refusal(err: &GatewayError, token: &str) -> TokenRefusal {
    match err {
        GatewayError::BadJwt(JwtError::Expired) => TokenRefusal::Expired {
            seconds_ago: unverified_exp(token).map_or(0, |exp| now() - exp),
        },
        GatewayError::BadJwt(JwtError::Malformed(_) | JwtError::Undecodable) => {
            TokenRefusal::Malformed
        }
        _ => TokenRefusal::Signature,
    }
}

/// `exp` of a token already found expired by the verifier, for Realtime's "N seconds ago".
fn unverified_exp(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_worded_as_realtime_words_them() {
        assert_eq!(
            TokenRefusal::Expired { seconds_ago: 3 }.join_reason(),
            "InvalidJWTToken: Token has expired 3 seconds ago"
        );
        assert_eq!(
            TokenRefusal::Signature.join_reason(),
            "JwtSignatureError: Failed to validate JWT signature"
        );
        assert_eq!(
            TokenRefusal::Malformed.join_reason(),
            "MalformedJWT: The token provided is not a valid JWT"
        );
        assert_eq!(
            TokenRefusal::MissingClaims.shutdown_message(),
            "Fields `role` and `exp` are required in JWT"
        );
    }

    #[test]
    fn the_expiry_of_an_expired_token_is_read_for_the_message() {
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"exp":100}"#);
        assert_eq!(unverified_exp(&format!("h.{body}.s")), Some(100));
        assert_eq!(unverified_exp("garbage"), None);
    }
}
