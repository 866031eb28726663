//! PKCE for the mailed flows, as Supabase Auth's pkce.go and `POST /token?grant_type=pkce`: a
//! sign-up (or its `/resend`), magic link, recovery or e-mail change (`PUT /user`, or its
//! `/resend`) asked for with a `code_challenge` stores a flow state and
//! mails a token prefixed `pkce_`; following the link redirects with `?code=<auth code>` instead
//! of a session, and only the holder of the `code_verifier` exchanges that code for the session
//! (within GoTrue's flow-state lifetime of 5 minutes, once).

use std::time::Duration;

use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::request::{AuthContext, parse_json, user_agent};
use super::sessions::{self, SignInMethod};

/// The prefix of a mailed token that belongs to a PKCE flow.
pub const PREFIX: &str = "pkce_";

/// A token hash as stored and linked for a PKCE flow (GoTrue's `addFlowPrefixToToken`).
pub fn in_flow(hash: &str) -> String {
    format!("{PREFIX}{hash}")
}
/// GoTrue's `FlowStateExpiryDuration` (its default and minimum).
const FLOW_STATE_LIFETIME: Duration = Duration::from_secs(300);

/// `code_challenge` and `code_challenge_method` of a request body (auth-js sends them as null
/// in the implicit flow).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChallengeParams {
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A validated challenge: the flow is PKCE.
pub struct Challenge {
    challenge: String,
    method: &'static str,
}

impl ChallengeParams {
    /// GoTrue's `validatePKCEParams`: both or neither, and a challenge of RFC 7636's form.
    /// `None` is the implicit flow.
    pub fn validate(&self) -> AuthResult<Option<Challenge>> {
        let challenge = self.code_challenge.as_deref().unwrap_or_default();
        let method = self.code_challenge_method.as_deref().unwrap_or_default();
        if challenge.is_empty() != method.is_empty() {
            return Err(AuthError::validation(
                "PKCE flow requires code_challenge_method and code_challenge",
            ));
        }
        if challenge.is_empty() {
            return Ok(None);
        }
        if !(43..=128).contains(&challenge.len()) {
            return Err(AuthError::validation(
                "code challenge has to be between 43 and 128 characters",
            ));
        }
        if !challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
        {
            return Err(AuthError::validation(
                "code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes",
            ));
        }
        // GoTrue fails an unknown method later, as a 500; a 400 names the problem instead.
        let method = match method.to_ascii_lowercase().as_str() {
            "s256" => "s256",
            "plain" => "plain",
            other => {
                return Err(AuthError::validation(format!(
                    "unsupported code_challenge method \"{other}\""
                )));
            }
        };
        Ok(Some(Challenge {
            challenge: challenge.to_owned(),
            method,
        }))
    }
}

/// What a flow signs in by: GoTrue's authentication method, also the session's `amr` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowMethod {
    EmailSignup,
    MagicLink,
    Recovery,
    EmailChange,
}

impl FlowMethod {
    fn as_str(self) -> &'static str {
        match self {
            Self::EmailSignup => "email/signup",
            Self::MagicLink => "magiclink",
            Self::Recovery => "recovery",
            Self::EmailChange => "email_change",
        }
    }

    fn parse(method: &str) -> Option<Self> {
        Some(match method {
            "email/signup" => Self::EmailSignup,
            "magiclink" => Self::MagicLink,
            "recovery" => Self::Recovery,
            "email_change" => Self::EmailChange,
            _ => return None,
        })
    }

    /// The method of a verified link of `type` (`signup`, `magiclink`, `recovery`,
    /// `email_change`).
    pub fn of_verification(kind: &str) -> Option<Self> {
        Self::parse(match kind {
            "signup" => "email/signup",
            other => other,
        })
    }

    fn sign_in_method(self) -> SignInMethod {
        match self {
            Self::EmailSignup => SignInMethod::EmailSignup,
            Self::MagicLink => SignInMethod::MagicLink,
            Self::Recovery => SignInMethod::Recovery,
            Self::EmailChange => SignInMethod::EmailChange,
        }
    }
}

/// GoTrue's `generateFlowState` for a user: a fresh auth code waiting for the link.
pub async fn store_flow_state(
    db: &impl GenericClient,
    user_id: Uuid,
    method: FlowMethod,
    challenge: &Challenge,
) -> AuthResult<()> {
    db.execute(
        "INSERT INTO auth.flow_state (id, user_id, auth_code, code_challenge_method, \
             code_challenge, provider_type, created_at, updated_at, authentication_method) \
         VALUES ($1, $2, $3, $4, $5, $6, now(), now(), $6)",
        &[
            &Uuid::new_v4(),
            &user_id,
            &Uuid::new_v4().to_string(),
            &challenge.method,
            &challenge.challenge,
            &method.as_str(),
        ],
    )
    .await?;
    Ok(())
}

/// GoTrue's `issueAuthCode`: the user's latest flow state of `method` hands out its code.
pub async fn issue_auth_code(
    db: &impl GenericClient,
    user_id: Uuid,
    method: FlowMethod,
) -> AuthResult<String> {
    db.query_opt(
        "UPDATE auth.flow_state SET auth_code_issued_at = now(), updated_at = now() \
         WHERE id = (SELECT id FROM auth.flow_state WHERE user_id = $1 \
                     AND authentication_method = $2 ORDER BY created_at DESC LIMIT 1) \
         RETURNING auth_code",
        &[&user_id, &method.as_str()],
    )
    .await?
    .map(|row| row.get(0))
    .ok_or_else(|| {
        AuthError::bad_request(
            "flow_state_not_found",
            "No associated flow state found. 422: No valid flow state found for user.",
        )
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PkceGrantParams {
    auth_code: String,
    code_verifier: String,
}

/// `POST /token?grant_type=pkce`: GoTrue's `PKCE` handler.
pub async fn grant(ctx: &AuthContext, headers: &HeaderMap, body: &[u8]) -> AuthResult<Response> {
    let params: PkceGrantParams = parse_json(body)?;
    if params.auth_code.is_empty() || params.code_verifier.is_empty() {
        return Err(AuthError::validation(
            "invalid request: both auth code and code verifier should be non-empty",
        ));
    }
    let mut db = ctx.project.pools.admin.get().await?;
    let tx = db.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT id, user_id, code_challenge, code_challenge_method, authentication_method, \
                 created_at, auth_code_issued_at \
             FROM auth.flow_state WHERE auth_code = $1 FOR UPDATE",
            &[&params.auth_code],
        )
        .await?;
    let Some((id, Some(user_id), challenge, challenge_method, method, created, issued)) =
        row.map(|r| {
            (
                r.get::<_, Uuid>(0),
                r.get::<_, Option<Uuid>>(1),
                r.get::<_, String>(2),
                r.get::<_, String>(3),
                r.get::<_, String>(4),
                r.get::<_, Option<DateTime<Utc>>>(5),
                r.get::<_, Option<DateTime<Utc>>>(6),
            )
        })
    else {
        return Err(AuthError::not_found(
            "flow_state_not_found",
            "invalid flow state, no valid flow state found",
        ));
    };
    let method = FlowMethod::parse(&method)
        .ok_or_else(|| AuthError::internal("Unknown authentication method", &method))?;
    // A magic link's state lives from the code's issue, the others from their creation.
    let start = match (method, issued) {
        (FlowMethod::MagicLink, Some(issued)) => Some(issued),
        _ => created,
    };
    if start.is_none_or(|start| Utc::now() > start + FLOW_STATE_LIFETIME) {
        return Err(AuthError::unprocessable(
            "flow_state_expired",
            "invalid flow state, flow state has expired",
        ));
    }
    verify_challenge(&challenge, &challenge_method, &params.code_verifier)?;
    let session = sessions::sign_in(
        &tx,
        &ctx.minter(),
        user_id,
        method.sign_in_method(),
        user_agent(headers),
    )
    .await?;
    tx.execute("DELETE FROM auth.flow_state WHERE id = $1", &[&id])
        .await?;
    tx.commit().await?;
    Ok(Json(session).into_response())
}

/// GoTrue's `VerifyPKCEChallenge`, compared in constant time.
fn verify_challenge(challenge: &str, method: &str, verifier: &str) -> AuthResult<()> {
    let expected = match method {
        "s256" => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        "plain" => verifier.to_owned(),
        _ => {
            return Err(AuthError::bad_request(
                "bad_code_verifier",
                "code challenge method not supported",
            ));
        }
    };
    if constant_time_eq(expected.as_bytes(), challenge.as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::bad_request(
            "bad_code_verifier",
            "code challenge does not match previously saved code verifier",
        ))
    }
}

/// Equal bytes, in a time that depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_challenge(challenge, "s256", verifier).is_ok());
        assert!(verify_challenge(challenge, "s256", "other").is_err());
        assert!(verify_challenge(verifier, "plain", verifier).is_ok());
    }

    #[test]
    fn challenges_are_validated_as_gotrue_does() {
        let params = |c: &str, m: &str| ChallengeParams {
            code_challenge: Some(c.into()),
            code_challenge_method: Some(m.into()),
        };
        assert!(params("", "").validate().unwrap().is_none());
        assert!(ChallengeParams::default().validate().unwrap().is_none());
        assert!(params("x".repeat(43).as_str(), "").validate().is_err());
        assert!(params("short", "s256").validate().is_err());
        assert!(params(&"a/".repeat(30), "s256").validate().is_err());
        assert!(
            params(&"a".repeat(43), "S256")
                .validate()
                .unwrap()
                .is_some()
        );
        assert!(params(&"a".repeat(43), "md5").validate().is_err());
    }
}
