//! `POST /token?grant_type=password|refresh_token|pkce` (pkce in [`super::pkce`]).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::{AuthError, AuthResult};
use super::password;
use super::pkce;
use super::request::{AuthContext, parse_json, user_agent};
use super::sessions::{self, RefreshOutcome, SignInMethod};
use super::users;

const INVALID_LOGIN: &str = "Invalid login credentials";
const INVALID_LOGIN_CODE: &str = "invalid_credentials";

pub async fn token(
    ctx: AuthContext,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> AuthResult<Response> {
    match query.get("grant_type").map(String::as_str) {
        Some("password") => password_grant(&ctx, &headers, &body).await,
        Some("refresh_token") => refresh_token_grant(&ctx, &headers, &body).await,
        Some("pkce") => pkce::grant(&ctx, &headers, &body).await,
        _ => Err(AuthError::bad_request(
            INVALID_LOGIN_CODE,
            "unsupported_grant_type",
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordGrantParams {
    email: Option<String>,
    phone: Option<String>,
    password: Option<String>,
}

async fn password_grant(
    ctx: &AuthContext,
    headers: &HeaderMap,
    body: &[u8],
) -> AuthResult<Response> {
    let params: PasswordGrantParams = parse_json(body)?;
    let email = params.email.unwrap_or_default();
    let phone = params.phone.unwrap_or_default();
    let password = params.password.unwrap_or_default();
    if !email.is_empty() && !phone.is_empty() {
        return Err(AuthError::validation(
            "Only an email address or phone number should be provided on login.",
        ));
    }
    if email.is_empty() {
        return Err(if phone.is_empty() {
            AuthError::validation("missing email or phone")
        } else {
            AuthError::bad_request(INVALID_LOGIN_CODE, INVALID_LOGIN)
        });
    }
    let invalid = || AuthError::bad_request(INVALID_LOGIN_CODE, INVALID_LOGIN);
    let mut db = ctx.project.pools.admin.get().await?;
    let user = users::find_by_email(&**db, &email)
        .await?
        .ok_or_else(invalid)?;
    let Some(stored_hash) = user.encrypted_password.as_deref().filter(|h| !h.is_empty()) else {
        return Err(invalid());
    };
    if user.is_banned() {
        return Err(AuthError::bad_request("user_banned", "User is banned"));
    }
    if !password::verify(&password, stored_hash).await {
        return Err(invalid());
    }
    if !user.is_email_confirmed() {
        return Err(AuthError::bad_request(
            "email_not_confirmed",
            "Email not confirmed",
        ));
    }
    // GoTrue signs in with a password that no longer meets the rules, but says so.
    let weak_password = password::check_strength(&password, ctx.settings.password_min_length)
        .err()
        .filter(|e| !e.weak_password_reasons.is_empty())
        .map(|e| serde_json::json!({"message": e.message, "reasons": e.weak_password_reasons}));
    let tx = db.transaction().await?;
    let mut session = sessions::sign_in(
        &tx,
        &ctx.minter(),
        user.id,
        SignInMethod::Password,
        user_agent(headers),
    )
    .await?;
    tx.commit().await?;
    session.weak_password = weak_password;
    Ok(Json(session).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RefreshTokenGrantParams {
    refresh_token: Option<String>,
}

async fn refresh_token_grant(
    ctx: &AuthContext,
    headers: &HeaderMap,
    body: &[u8],
) -> AuthResult<Response> {
    let params: RefreshTokenGrantParams = parse_json(body)?;
    let refresh_token = params.refresh_token.unwrap_or_default();
    if refresh_token.is_empty() {
        return Ok(oauth_error("invalid_request", "refresh_token required"));
    }
    let mut db = ctx.project.pools.admin.get().await?;
    let tx = db.transaction().await?;
    let outcome = sessions::refresh(
        &tx,
        &ctx.minter(),
        &refresh_token,
        ctx.settings.refresh_token_reuse_interval,
        user_agent(headers),
    )
    .await?;
    tx.commit().await?;
    match outcome {
        RefreshOutcome::Refreshed(session) => Ok(Json(*session).into_response()),
        RefreshOutcome::Refused(error) => Err(error),
    }
}

/// GoTrue answers a missing refresh token with an OAuth2-style error, always 400.
fn oauth_error(error: &str, description: &str) -> Response {
    (
        axum::http::StatusCode::BAD_REQUEST,
        Json(serde_json::json!({"error": error, "error_description": description})),
    )
        .into_response()
}
