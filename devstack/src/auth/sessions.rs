//! `auth.sessions`, `auth.mfa_amr_claims` and `auth.refresh_tokens`: signing in, refresh-token
//! rotation with GoTrue's reuse rules, and signing out.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio_postgres::{GenericClient, Transaction};
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::tokens::{AccessTokenMinter, AmrEntry, SessionResponse};
use super::users;

/// GoTrue's refresh tokens are 12 random lower-case base32 characters.
const REFRESH_TOKEN_LENGTH: usize = 12;
const REFRESH_TOKEN_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

pub fn new_refresh_token() -> String {
    let mut rng = rand::thread_rng();
    (0..REFRESH_TOKEN_LENGTH)
        .map(|_| REFRESH_TOKEN_ALPHABET[rng.gen_range(0..REFRESH_TOKEN_ALPHABET.len())] as char)
        .collect()
}

/// How the session was authenticated; it becomes the `amr` claim.
#[derive(Debug, Clone, Copy)]
pub enum SignInMethod {
    Password,
    Anonymous,
    /// A mailed link or code (`/verify`), whatever it was for.
    Otp,
    /// A verified TOTP challenge (second factor).
    Totp,
    /// PKCE exchanges (`grant_type=pkce`), named by the flow the code came from.
    EmailSignup,
    MagicLink,
    Recovery,
    EmailChange,
}

impl SignInMethod {
    fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Anonymous => "anonymous",
            Self::Otp => "otp",
            Self::Totp => "totp",
            Self::EmailSignup => "email/signup",
            Self::MagicLink => "magiclink",
            Self::Recovery => "recovery",
            Self::EmailChange => "email_change",
        }
    }
}

/// Starts a session for `user_id`: session row, `amr` claim, first refresh token,
/// `last_sign_in_at`; then mints the session response.
pub async fn sign_in(
    tx: &Transaction<'_>,
    minter: &AccessTokenMinter<'_>,
    user_id: Uuid,
    method: SignInMethod,
    user_agent: Option<&str>,
) -> AuthResult<SessionResponse> {
    let session_id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal, user_agent) \
         VALUES ($1, $2, now(), now(), 'aal1', $3)",
        &[&session_id, &user_id, &user_agent],
    )
    .await?;
    tx.execute(
        "INSERT INTO auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method) \
         VALUES (gen_random_uuid(), $1, now(), now(), $2)",
        &[&session_id, &method.as_str()],
    )
    .await?;
    let refresh_token = insert_refresh_token(tx, user_id, session_id, None).await?;
    tx.execute(
        "UPDATE auth.users SET last_sign_in_at = now(), updated_at = now() WHERE id = $1",
        &[&user_id],
    )
    .await?;
    tx.execute(
        "UPDATE auth.identities SET last_sign_in_at = now() WHERE user_id = $1",
        &[&user_id],
    )
    .await?;
    let user = users::load(tx, user_id).await?;
    session_response(tx, minter, user, session_id, refresh_token).await
}

async fn insert_refresh_token(
    tx: &Transaction<'_>,
    user_id: Uuid,
    session_id: Uuid,
    parent: Option<&str>,
) -> AuthResult<String> {
    let token = new_refresh_token();
    tx.execute(
        "INSERT INTO auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, parent, session_id) \
         VALUES ($1, $2, false, now(), now(), $3, $4)",
        &[&token, &user_id.to_string(), &parent, &session_id],
    )
    .await?;
    Ok(token)
}

/// The session's `amr` claims, oldest first.
async fn amr_of(db: &impl GenericClient, session_id: Uuid) -> AuthResult<Vec<AmrEntry>> {
    let rows = db
        .query(
            "SELECT authentication_method, extract(epoch FROM updated_at)::bigint \
             FROM auth.mfa_amr_claims WHERE session_id = $1 ORDER BY updated_at",
            &[&session_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| AmrEntry {
            method: row.get(0),
            timestamp: row.get(1),
        })
        .collect())
}

async fn session_response(
    db: &impl GenericClient,
    minter: &AccessTokenMinter<'_>,
    user: users::User,
    session_id: Uuid,
    refresh_token: String,
) -> AuthResult<SessionResponse> {
    let amr = amr_of(db, session_id).await?;
    let aal: String = db
        .query_opt(
            "SELECT coalesce(aal::text, 'aal1') FROM auth.sessions WHERE id = $1",
            &[&session_id],
        )
        .await?
        .map_or_else(|| "aal1".to_owned(), |row| row.get(0));
    minter.session(user, session_id, &aal, &amr, refresh_token)
}

/// GoTrue's `updateMFASessionAndClaims`: the session becomes `aal2` through `factor_id`, its
/// `amr` gains `method`, and a fresh refresh token replaces the current one.
pub async fn raise_to_aal2(
    tx: &Transaction<'_>,
    minter: &AccessTokenMinter<'_>,
    user_id: Uuid,
    session_id: Uuid,
    factor_id: Uuid,
    method: SignInMethod,
    user_agent: Option<&str>,
) -> AuthResult<SessionResponse> {
    tx.execute(
        "UPDATE auth.sessions SET aal = 'aal2', factor_id = $2, updated_at = now(), \
             user_agent = coalesce($3, user_agent) WHERE id = $1",
        &[&session_id, &factor_id, &user_agent],
    )
    .await?;
    tx.execute(
        "INSERT INTO auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method) \
         VALUES (gen_random_uuid(), $1, now(), now(), $2) \
         ON CONFLICT (session_id, authentication_method) DO UPDATE SET updated_at = now()",
        &[&session_id, &method.as_str()],
    )
    .await?;
    // Sessions of this user that stay below aal2 end, as GoTrue's InvalidateSessionsWithAALLessThan.
    tx.execute(
        "DELETE FROM auth.sessions WHERE user_id = $1 AND id <> $2 AND coalesce(aal, 'aal1') = 'aal1'",
        &[&user_id, &session_id],
    )
    .await?;
    tx.execute(
        "UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() \
         WHERE session_id = $1 AND revoked = false",
        &[&session_id],
    )
    .await?;
    let refresh_token = insert_refresh_token(tx, user_id, session_id, None).await?;
    let user = users::load(tx, user_id).await?;
    session_response(tx, minter, user, session_id, refresh_token).await
}

/// What to do with a presented refresh token.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Revoke it and issue a child.
    Rotate,
    /// It was already rotated and its child is still the session's active token: hand that
    /// child out again (a concurrent refresh, or a client that lost the response).
    ReturnActiveChild(String),
    /// It was rotated longer ago than the reuse interval: treat it as stolen.
    RejectReuse,
}

/// A refresh token row, as far as rotation cares.
pub struct PresentedToken<'a> {
    pub token: &'a str,
    pub revoked: bool,
    /// When it was last written, i.e. when it was revoked if it is revoked.
    pub updated_at: DateTime<Utc>,
}

/// The session's newest unrevoked token and its parent.
pub struct ActiveToken {
    pub token: String,
    pub parent: Option<String>,
}

/// GoTrue's rule: a revoked token whose direct child is still active yields that child;
/// otherwise a revoked token is honoured (with a fresh child) only within the reuse interval.
pub fn decide_rotation(
    presented: &PresentedToken<'_>,
    active: Option<ActiveToken>,
    now: DateTime<Utc>,
    reuse_interval: Duration,
) -> Rotation {
    if !presented.revoked {
        return Rotation::Rotate;
    }
    if let Some(active) = active
        && active.parent.as_deref() == Some(presented.token)
    {
        return Rotation::ReturnActiveChild(active.token);
    }
    let reuse_until = presented.updated_at
        + chrono::Duration::from_std(reuse_interval).unwrap_or(chrono::Duration::MAX);
    if now > reuse_until {
        Rotation::RejectReuse
    } else {
        Rotation::Rotate
    }
}

/// The outcome of a refresh: a new session, or an error that must be returned *after* committing
/// (detected reuse revokes the whole token family, and that revocation has to stick).
pub enum RefreshOutcome {
    Refreshed(Box<SessionResponse>),
    Refused(AuthError),
}

/// `grant_type=refresh_token`. Race-safe: the session row is locked first, so concurrent
/// refreshes of one session run one after the other and see each other's rotations.
pub async fn refresh(
    tx: &Transaction<'_>,
    minter: &AccessTokenMinter<'_>,
    presented: &str,
    reuse_interval: Duration,
    user_agent: Option<&str>,
) -> AuthResult<RefreshOutcome> {
    let not_found = || {
        AuthError::bad_request(
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
        )
    };
    let no_session = || {
        AuthError::bad_request(
            "session_not_found",
            "Invalid Refresh Token: No Valid Session Found",
        )
    };
    let Some(row) = tx
        .query_opt(
            "SELECT session_id FROM auth.refresh_tokens WHERE token = $1",
            &[&presented],
        )
        .await?
    else {
        return Err(not_found());
    };
    let Some(session_id) = row.get::<_, Option<Uuid>>(0) else {
        tx.execute(
            "DELETE FROM auth.refresh_tokens WHERE token = $1",
            &[&presented],
        )
        .await?;
        return Ok(RefreshOutcome::Refused(no_session()));
    };
    let Some(session) = tx
        .query_opt(
            "SELECT user_id FROM auth.sessions WHERE id = $1 FOR UPDATE",
            &[&session_id],
        )
        .await?
    else {
        return Err(no_session());
    };
    let user_id: Uuid = session.get(0);
    // Re-read under the session lock: another refresh may have rotated it meanwhile.
    let Some(token_row) = tx
        .query_opt(
            "SELECT id, coalesce(revoked, false), coalesce(updated_at, now()) \
             FROM auth.refresh_tokens WHERE token = $1 FOR UPDATE",
            &[&presented],
        )
        .await?
    else {
        return Err(not_found());
    };
    let token_id: i64 = token_row.get(0);
    let user = users::find_by_id(tx, user_id)
        .await?
        .ok_or_else(not_found)?;
    if user.is_banned() {
        return Err(AuthError::bad_request(
            "user_banned",
            "Invalid Refresh Token: User Banned",
        ));
    }
    let active = tx
        .query_opt(
            "SELECT token, parent FROM auth.refresh_tokens \
             WHERE session_id = $1 AND revoked = false ORDER BY id DESC LIMIT 1",
            &[&session_id],
        )
        .await?
        .map(|row| ActiveToken {
            token: row.get(0),
            parent: row.get(1),
        });
    let decision = decide_rotation(
        &PresentedToken {
            token: presented,
            revoked: token_row.get(1),
            updated_at: token_row.get(2),
        },
        active,
        Utc::now(),
        reuse_interval,
    );
    let issued = match decision {
        Rotation::RejectReuse => {
            tx.execute(
                "UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() \
                 WHERE session_id = $1 AND revoked = false",
                &[&session_id],
            )
            .await?;
            return Ok(RefreshOutcome::Refused(AuthError::bad_request(
                "refresh_token_already_used",
                "Invalid Refresh Token: Already Used",
            )));
        }
        Rotation::ReturnActiveChild(child) => child,
        Rotation::Rotate => {
            tx.execute(
                "UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE id = $1",
                &[&token_id],
            )
            .await?;
            insert_refresh_token(tx, user_id, session_id, Some(presented)).await?
        }
    };
    tx.execute(
        "UPDATE auth.sessions SET refreshed_at = now(), updated_at = now(), user_agent = $2 \
         WHERE id = $1",
        &[&session_id, &user_agent],
    )
    .await?;
    let response = session_response(tx, minter, user, session_id, issued).await?;
    Ok(RefreshOutcome::Refreshed(Box::new(response)))
}

/// Whether the session still exists (signing out deletes it).
pub async fn exists(db: &impl GenericClient, session_id: Uuid) -> AuthResult<bool> {
    Ok(db
        .query_opt("SELECT 1 FROM auth.sessions WHERE id = $1", &[&session_id])
        .await?
        .is_some())
}

/// `/logout`'s scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutScope {
    /// Every session of the user.
    Global,
    /// Only the caller's session.
    Local,
    /// Every session but the caller's.
    Others,
}

impl LogoutScope {
    pub fn parse(raw: Option<&str>) -> AuthResult<Self> {
        match raw.unwrap_or("") {
            "" | "global" => Ok(Self::Global),
            "local" => Ok(Self::Local),
            "others" => Ok(Self::Others),
            other => Err(AuthError::validation(format!(
                "Unsupported logout scope \"{other}\""
            ))),
        }
    }
}

/// Deletes sessions (their refresh tokens go with them). A token without a session claim can
/// only sign out globally, as in GoTrue.
pub async fn logout(
    db: &impl GenericClient,
    user_id: Uuid,
    session_id: Option<Uuid>,
    scope: LogoutScope,
) -> AuthResult<()> {
    match (scope, session_id) {
        (LogoutScope::Local, Some(session)) => {
            db.execute("DELETE FROM auth.sessions WHERE id = $1", &[&session])
                .await?
        }
        (LogoutScope::Others, Some(session)) => {
            db.execute(
                "DELETE FROM auth.sessions WHERE user_id = $1 AND id <> $2",
                &[&user_id, &session],
            )
            .await?
        }
        _ => {
            db.execute("DELETE FROM auth.sessions WHERE user_id = $1", &[&user_id])
                .await?
        }
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REUSE: Duration = Duration::from_secs(10);

    fn presented(revoked: bool, revoked_secs_ago: i64) -> PresentedToken<'static> {
        PresentedToken {
            token: "aaaaaaaaaaaa",
            revoked,
            updated_at: Utc::now() - chrono::Duration::seconds(revoked_secs_ago),
        }
    }

    fn active(token: &str, parent: &str) -> Option<ActiveToken> {
        Some(ActiveToken {
            token: token.into(),
            parent: Some(parent.into()),
        })
    }

    #[test]
    fn live_token_rotates() {
        let d = decide_rotation(
            &presented(false, 0),
            active("aaaaaaaaaaaa", "x"),
            Utc::now(),
            REUSE,
        );
        assert_eq!(d, Rotation::Rotate);
    }

    #[test]
    fn replayed_token_gets_its_active_child() {
        let d = decide_rotation(
            &presented(true, 3600),
            active("child", "aaaaaaaaaaaa"),
            Utc::now(),
            REUSE,
        );
        assert_eq!(d, Rotation::ReturnActiveChild("child".into()));
    }

    #[test]
    fn older_token_within_interval_rotates_again() {
        let d = decide_rotation(
            &presented(true, 2),
            active("grandchild", "child"),
            Utc::now(),
            REUSE,
        );
        assert_eq!(d, Rotation::Rotate);
    }

    #[test]
    fn older_token_after_interval_is_reuse() {
        let d = decide_rotation(
            &presented(true, 11),
            active("grandchild", "child"),
            Utc::now(),
            REUSE,
        );
        assert_eq!(d, Rotation::RejectReuse);
        let none_active = decide_rotation(&presented(true, 11), None, Utc::now(), REUSE);
        assert_eq!(none_active, Rotation::RejectReuse);
    }

    #[test]
    fn refresh_tokens_look_like_gotrues() {
        let t = new_refresh_token();
        assert_eq!(t.len(), 12);
        assert!(t.bytes().all(|b| REFRESH_TOKEN_ALPHABET.contains(&b)));
        assert_ne!(t, new_refresh_token());
    }

    #[test]
    fn logout_scopes() {
        assert_eq!(LogoutScope::parse(None).unwrap(), LogoutScope::Global);
        assert_eq!(
            LogoutScope::parse(Some("local")).unwrap(),
            LogoutScope::Local
        );
        assert_eq!(
            LogoutScope::parse(Some("others")).unwrap(),
            LogoutScope::Others
        );
        let e = LogoutScope::parse(Some("everyone")).unwrap_err();
        assert_eq!(e.error_code, "validation_failed");
    }
}
