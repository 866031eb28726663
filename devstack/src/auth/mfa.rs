//! `/factors`: TOTP second factors (`auth.mfa.enroll`, `challenge`, `verify`, `unenroll`), as
//! GoTrue's mfa.go. Verifying a challenge lifts the session to `aal2` and adds `totp` to its
//! `amr`, so RLS can require `auth.jwt()->>'aal' = 'aal2'`; an `aal1` session cannot remove a
//! verified factor nor add a second one.

use std::net::IpAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::request::{AuthContext, Caller, authenticate_user, parse_json, user_agent};
use super::sessions::{self, SignInMethod};
use super::totp;

/// GoTrue's `GOTRUE_MFA_CHALLENGE_EXPIRY_DURATION` default.
const CHALLENGE_LIFETIME: chrono::Duration = chrono::Duration::seconds(300);
/// GoTrue's `GOTRUE_MFA_MAX_ENROLLED_FACTORS` default.
const MAX_ENROLLED_FACTORS: usize = 10;

/// A factor as GoTrue lists it on the user (`user.factors`).
#[derive(Debug, Clone, Serialize)]
pub struct Factor {
    pub id: Uuid,
    pub friendly_name: String,
    pub factor_type: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_challenged_at: Option<DateTime<Utc>>,
}

pub async fn factors_of(db: &impl GenericClient, user_id: Uuid) -> AuthResult<Vec<Factor>> {
    let rows = db
        .query(
            "SELECT id, coalesce(friendly_name, ''), factor_type, status, created_at, updated_at, \
                    last_challenged_at \
             FROM auth.mfa_factors WHERE user_id = $1 ORDER BY created_at",
            &[&user_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Factor {
            id: row.get(0),
            friendly_name: row.get(1),
            factor_type: row.get(2),
            status: row.get(3),
            created_at: row.get(4),
            updated_at: row.get(5),
            last_challenged_at: row.get(6),
        })
        .collect())
}

/// The caller, who must have a session and not be anonymous, and that session's level.
async fn signed_in(ctx: &AuthContext, headers: &HeaderMap) -> AuthResult<(Caller, Uuid, bool)> {
    let caller = authenticate_user(ctx, headers).await?;
    if caller.user.is_anonymous {
        return Err(AuthError::forbidden(
            "no_authorization",
            "Anonymous user not allowed to perform these actions",
        ));
    }
    let session_id = caller.session_id.ok_or_else(|| {
        AuthError::internal(
            "A valid session and a registered user are required to enroll a factor",
            "no session_id claim",
        )
    })?;
    let db = ctx.project.pools.admin.get().await?;
    let aal2 = db
        .query_opt(
            "SELECT aal = 'aal2' FROM auth.sessions WHERE id = $1",
            &[&session_id],
        )
        .await?
        .is_some_and(|row| row.get(0));
    Ok((caller, session_id, aal2))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EnrollParams {
    factor_type: String,
    friendly_name: String,
    issuer: String,
}

pub async fn enroll(ctx: AuthContext, headers: HeaderMap, body: Bytes) -> AuthResult<Response> {
    let (caller, _, aal2) = signed_in(&ctx, &headers).await?;
    let params: EnrollParams = parse_json(&body)?;
    match params.factor_type.as_str() {
        "totp" => {}
        "phone" => {
            return Err(AuthError::unprocessable(
                "mfa_phone_enroll_not_enabled",
                "MFA enroll is disabled for Phone",
            ));
        }
        "webauthn" => {
            return Err(AuthError::unprocessable(
                "mfa_webauthn_enroll_not_enabled",
                "MFA enroll is disabled for WebAuthn",
            ));
        }
        _ => {
            return Err(AuthError::validation(
                "factor_type needs to be totp, phone, or webauthn",
            ));
        }
    }
    let user = &caller.user;
    let issuer = if params.issuer.is_empty() {
        url::Url::parse(&ctx.settings.site_url)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| {
                    u.port()
                        .map_or_else(|| h.to_owned(), |p| format!("{h}:{p}"))
                })
            })
            .unwrap_or_default()
    } else {
        params.issuer.clone()
    };
    let mut db = ctx.project.pools.admin.get().await?;
    let tx = db.transaction().await?;
    // GoTrue's validateFactors: stale unverified factors go first.
    tx.execute(
        "DELETE FROM auth.mfa_factors WHERE user_id = $1 AND status = 'unverified' \
             AND created_at < now() - interval '300 seconds'",
        &[&user.id],
    )
    .await?;
    let existing = factors_of(&*tx, user.id).await?;
    if !params.friendly_name.is_empty()
        && existing
            .iter()
            .any(|f| f.friendly_name == params.friendly_name)
    {
        return Err(AuthError::unprocessable(
            "mfa_factor_name_conflict",
            format!(
                "A factor with the friendly name \"{}\" for this user already exists",
                params.friendly_name
            ),
        ));
    }
    if existing.len() >= MAX_ENROLLED_FACTORS {
        return Err(AuthError::unprocessable(
            "too_many_enrolled_mfa_factors",
            "Maximum number of verified factors reached, unenroll to continue",
        ));
    }
    if existing.iter().any(|f| f.status == "verified") && !aal2 {
        return Err(AuthError::forbidden(
            "insufficient_aal",
            "AAL2 required to enroll a new factor",
        ));
    }
    let secret = totp::new_secret();
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, \
             updated_at, secret) VALUES ($1, $2, $3, 'totp', 'unverified', now(), now(), $4)",
        &[&id, &user.id, &params.friendly_name, &secret],
    )
    .await?;
    tx.commit().await?;
    let uri = totp::uri(&issuer, user.email.as_deref().unwrap_or(""), &secret);
    Ok(Json(json!({
        "id": id,
        "type": "totp",
        "friendly_name": params.friendly_name,
        "totp": {
            "qr_code": super::qr::svg(&uri),
            "secret": secret,
            "uri": uri,
        },
    }))
    .into_response())
}

fn factor_not_found() -> AuthError {
    AuthError::not_found("mfa_factor_not_found", "Factor not found")
}

/// GoTrue's `loadFactor`: the caller's own factor, else 404. It runs before the challenge and
/// verify rate limits, as GoTrue's router has it.
async fn own_factor(
    db: &impl GenericClient,
    user_id: Uuid,
    raw_id: &str,
) -> AuthResult<(Uuid, String, String)> {
    let id = Uuid::parse_str(raw_id)
        .map_err(|_| AuthError::not_found("validation_failed", "factor_id must be an UUID"))?;
    let row = db
        .query_opt(
            "SELECT status, coalesce(secret, '') FROM auth.mfa_factors WHERE id = $1 AND user_id = $2",
            &[&id, &user_id],
        )
        .await?
        .ok_or_else(factor_not_found)?;
    Ok((id, row.get(0), row.get(1)))
}

pub async fn challenge(
    ctx: AuthContext,
    headers: HeaderMap,
    Path(factor_id): Path<String>,
) -> AuthResult<Response> {
    let (caller, _, _) = signed_in(&ctx, &headers).await?;
    let db = ctx.project.pools.admin.get().await?;
    let (factor_id, _, _) = own_factor(&**db, caller.user.id, &factor_id).await?;
    ctx.rate_limit(|l| &l.factor_challenge)?;
    let id = Uuid::new_v4();
    let created: DateTime<Utc> = db
        .query_one(
            "INSERT INTO auth.mfa_challenges (id, factor_id, created_at, ip_address) \
             VALUES ($1, $2, now(), $3) RETURNING created_at",
            &[&id, &factor_id, &ctx.client_ip()],
        )
        .await?
        .get(0);
    db.execute(
        "UPDATE auth.mfa_factors SET last_challenged_at = now() WHERE id = $1",
        &[&factor_id],
    )
    .await?;
    Ok(Json(json!({
        "id": id,
        "type": "totp",
        "expires_at": (created + CHALLENGE_LIFETIME).timestamp(),
    }))
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VerifyFactorParams {
    challenge_id: String,
    code: String,
}

pub async fn verify(
    ctx: AuthContext,
    headers: HeaderMap,
    Path(factor_id): Path<String>,
    body: Bytes,
) -> AuthResult<Response> {
    let (caller, session_id, _) = signed_in(&ctx, &headers).await?;
    let user_id = caller.user.id;
    let mut db = ctx.project.pools.admin.get().await?;
    let tx = db.transaction().await?;
    let (factor_id, _, secret) = own_factor(&*tx, user_id, &factor_id).await?;
    ctx.rate_limit(|l| &l.factor_verify)?;
    let params: VerifyFactorParams = parse_json(&body)?;
    if params.code.is_empty() {
        return Err(AuthError::validation("Code needs to be non-empty"));
    }
    let not_found = || {
        AuthError::unprocessable(
            "mfa_factor_not_found",
            "MFA factor with the provided challenge ID not found",
        )
    };
    let challenge_id = Uuid::parse_str(&params.challenge_id).map_err(|_| not_found())?;
    let challenge = tx
        .query_opt(
            "SELECT created_at, ip_address FROM auth.mfa_challenges \
             WHERE id = $1 AND factor_id = $2 AND verified_at IS NULL FOR UPDATE",
            &[&challenge_id, &factor_id],
        )
        .await?
        .ok_or_else(not_found)?;
    let (created, challenged_from): (DateTime<Utc>, IpAddr) = (challenge.get(0), challenge.get(1));
    // GoTrue's validateChallenge: verified from where it was challenged.
    if challenged_from != ctx.client_ip() {
        return Err(AuthError::unprocessable(
            "mfa_ip_address_mismatch",
            "Challenge and verify IP addresses mismatch.",
        ));
    }
    if Utc::now() > created + CHALLENGE_LIFETIME {
        tx.execute(
            "DELETE FROM auth.mfa_challenges WHERE id = $1",
            &[&challenge_id],
        )
        .await?;
        tx.commit().await?;
        return Err(AuthError::unprocessable(
            "mfa_challenge_expired",
            format!(
                "MFA challenge {challenge_id} has expired, verify against another challenge or create a new challenge."
            ),
        ));
    }
    if !totp::is_valid(&secret, &params.code, Utc::now().timestamp()) {
        return Err(AuthError::unprocessable(
            "mfa_verification_failed",
            "Invalid TOTP code entered",
        ));
    }
    tx.execute(
        "UPDATE auth.mfa_challenges SET verified_at = now() WHERE id = $1",
        &[&challenge_id],
    )
    .await?;
    tx.execute(
        "UPDATE auth.mfa_factors SET status = 'verified', updated_at = now() WHERE id = $1",
        &[&factor_id],
    )
    .await?;
    // The other unverified TOTP factors go, and sessions below aal2 end (GoTrue's rules).
    tx.execute(
        "DELETE FROM auth.mfa_factors WHERE user_id = $1 AND factor_type = 'totp' \
             AND status = 'unverified'",
        &[&user_id],
    )
    .await?;
    let session = sessions::raise_to_aal2(
        &tx,
        &ctx.minter(),
        user_id,
        session_id,
        factor_id,
        SignInMethod::Totp,
        user_agent(&headers),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(session).into_response())
}

pub async fn unenroll(
    ctx: AuthContext,
    headers: HeaderMap,
    Path(factor_id): Path<String>,
) -> AuthResult<Response> {
    let (caller, _, aal2) = signed_in(&ctx, &headers).await?;
    let mut db = ctx.project.pools.admin.get().await?;
    let tx = db.transaction().await?;
    let (factor_id, status, _) = own_factor(&*tx, caller.user.id, &factor_id).await?;
    if status == "verified" && !aal2 {
        return Err(AuthError::unprocessable(
            "insufficient_aal",
            "AAL2 required to unenroll verified factor",
        ));
    }
    tx.execute("DELETE FROM auth.mfa_factors WHERE id = $1", &[&factor_id])
        .await?;
    // GoTrue's DowngradeSessionsToAAL1: sessions this factor raised drop back.
    tx.execute(
        "UPDATE auth.sessions SET aal = 'aal1', factor_id = NULL WHERE factor_id = $1",
        &[&factor_id],
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({"id": factor_id})).into_response())
}
