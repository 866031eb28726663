//! Access tokens and the session object GoTrue returns from every sign-in.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::users::User;
use crate::jwt::JwtKeys;

/// One `amr` entry: how, and when, the session was authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AmrEntry {
    pub method: String,
    pub timestamp: i64,
}

/// What an access token is minted from, besides the user.
pub struct TokenContext<'a> {
    /// `<API URL>/auth/v1`, as GoTrue's `GOTRUE_JWT_ISSUER` is set by the Supabase CLI.
    pub issuer: &'a str,
    pub session_id: Uuid,
    /// `aal1`, or `aal2` once a second factor was verified in this session.
    pub aal: &'a str,
    pub amr: &'a [AmrEntry],
    pub issued_at: i64,
    pub lifetime_secs: i64,
}

/// The claims of a GoTrue access token, field for field.
pub fn access_token_claims(user: &User, ctx: &TokenContext<'_>) -> Value {
    json!({
        "iss": ctx.issuer,
        "sub": user.id.to_string(),
        "aud": user.aud,
        "exp": ctx.issued_at + ctx.lifetime_secs,
        "iat": ctx.issued_at,
        "email": user.email.as_deref().unwrap_or(""),
        "phone": user.phone.as_deref().unwrap_or(""),
        "app_metadata": user.app_metadata,
        "user_metadata": user.user_metadata,
        "role": user.role,
        "aal": ctx.aal,
        "amr": ctx.amr,
        "session_id": ctx.session_id.to_string(),
        "is_anonymous": user.is_anonymous,
    })
}

/// GoTrue's `AccessTokenResponse`: what auth-js stores as a `Session`.
#[derive(Debug, Serialize)]
pub struct SessionResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub expires_at: i64,
    pub refresh_token: String,
    pub user: User,
    /// Set on password sign-in when the password no longer meets the rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weak_password: Option<Value>,
}

/// Signs access tokens for one project.
pub struct AccessTokenMinter<'a> {
    pub signer: &'a JwtKeys,
    pub issuer: String,
    pub lifetime: Duration,
}

impl AccessTokenMinter<'_> {
    /// A fresh access token for `user` in `session_id`, wrapped in GoTrue's session response.
    pub fn session(
        &self,
        user: User,
        session_id: Uuid,
        aal: &str,
        amr: &[AmrEntry],
        refresh_token: String,
    ) -> AuthResult<SessionResponse> {
        let issued_at = chrono::Utc::now().timestamp();
        let lifetime_secs = i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = access_token_claims(
            &user,
            &TokenContext {
                issuer: &self.issuer,
                session_id,
                aal,
                amr,
                issued_at,
                lifetime_secs,
            },
        );
        let access_token = self
            .signer
            .sign(&claims)
            .map_err(|e| AuthError::internal("error generating jwt token", e))?;
        Ok(SessionResponse {
            access_token,
            token_type: "bearer",
            expires_in: lifetime_secs,
            expires_at: issued_at + lifetime_secs,
            refresh_token,
            user,
            weak_password: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    /// A confirmed e-mail user, for claim tests.
    fn user() -> User {
        User {
            id: Uuid::parse_str("11111111-2222-4333-8444-555555555555").unwrap(),
            aud: "authenticated".into(),
            role: "authenticated".into(),
            email: Some("ann@example.com".into()),
            email_confirmed_at: Some(Utc::now()),
            invited_at: None,
            phone: None,
            phone_confirmed_at: None,
            confirmation_sent_at: None,
            confirmed_at: Some(Utc::now()),
            recovery_sent_at: None,
            email_change: None,
            email_change_sent_at: None,
            last_sign_in_at: None,
            app_metadata: json!({"provider": "email", "providers": ["email"]}),
            user_metadata: json!({"name": "Ann"}),
            identities: vec![],
            created_at: Utc::now(),
            updated_at: Utc::now(),
            banned_until: None,
            deleted_at: None,
            is_anonymous: false,
            encrypted_password: None,
            factors: vec![],
        }
    }

    #[test]
    fn claims_match_gotrue() {
        let session_id = Uuid::new_v4();
        let amr = [AmrEntry {
            method: "password".into(),
            timestamp: 1_700_000_000,
        }];
        let claims = access_token_claims(
            &user(),
            &TokenContext {
                issuer: "http://127.0.0.1:54321/auth/v1",
                session_id,
                aal: "aal1",
                amr: &amr,
                issued_at: 1_700_000_000,
                lifetime_secs: 3600,
            },
        );
        assert_eq!(
            claims,
            json!({
                "iss": "http://127.0.0.1:54321/auth/v1",
                "sub": "11111111-2222-4333-8444-555555555555",
                "aud": "authenticated",
                "exp": 1_700_003_600,
                "iat": 1_700_000_000,
                "email": "ann@example.com",
                "phone": "",
                "app_metadata": {"provider": "email", "providers": ["email"]},
                "user_metadata": {"name": "Ann"},
                "role": "authenticated",
                "aal": "aal1",
                "amr": [{"method": "password", "timestamp": 1_700_000_000}],
                "session_id": session_id.to_string(),
                "is_anonymous": false,
            })
        );
        // What PostgREST and the functions will see after signing with the project secret.
        let signer = JwtKeys::legacy(b"a-secret-of-at-least-thirty-two-bytes!!");
        let now = Utc::now().timestamp();
        let fresh = access_token_claims(
            &user(),
            &TokenContext {
                issuer: "x",
                session_id,
                aal: "aal2",
                amr: &amr,
                issued_at: now,
                lifetime_secs: 60,
            },
        );
        let token = signer.sign(&fresh).unwrap();
        assert_eq!(
            signer.verify(&token).unwrap()["session_id"],
            session_id.to_string()
        );
    }
}
