//! Who made a request, as established by a verified access token.

use serde_json::{Map, Value};
use uuid::Uuid;

/// Authenticator assurance level of the session (`aal` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthAssurance {
    /// Single factor (password, magic link, OAuth, anonymous).
    Aal1,
    /// A second factor (MFA) was verified in this session.
    Aal2,
}

impl AuthAssurance {
    pub(crate) fn from_claim(value: &str) -> Option<Self> {
        match value {
            "aal1" => Some(Self::Aal1),
            "aal2" => Some(Self::Aal2),
            _ => None,
        }
    }
}

/// The verified identity behind a request.
///
/// `user_metadata` is deliberately absent: users can edit it themselves, so nothing may be
/// decided from it. Roles and admin rights come from the database (`user_profiles`). The token's
/// `role` claim, the Postgres role it asks PostgREST for, is always `authenticated` here: the
/// verifier refuses any other ([`crate::AuthError::WrongRole`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// `sub`: the `auth.users.id`.
    pub user_id: Uuid,
    /// `email`, `None` when absent or empty (anonymous users carry `""`).
    pub email: Option<String>,
    /// `phone`, `None` when absent or empty.
    pub phone: Option<String>,
    /// `is_anonymous`: a guest session from `signInAnonymously`.
    pub is_anonymous: bool,
    /// `session_id`, when it is a UUID.
    pub session_id: Option<Uuid>,
    /// `aal`, when it is a known level.
    pub aal: Option<AuthAssurance>,
    /// `app_metadata`: set only by the server (provider, providers, custom server-side data).
    pub app_metadata: Map<String, Value>,
    /// `exp`: when the token stops being accepted (before leeway).
    pub expires_at: i64,
}
