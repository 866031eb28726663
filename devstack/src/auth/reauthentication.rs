//! `GET /reauthenticate` (`auth.reauthenticate()`): mails a code, the nonce a password change
//! needs under secure password change when the session is older than a day (GoTrue's rule).

use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::json;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::mail_token;
use super::mailer::MailKind;
use super::otp;
use super::request::{AuthContext, authenticate_user};
use super::settings::AuthSettings;
use super::users::User;

/// A session younger than this changes its password without a nonce.
const RECENT_SESSION: chrono::Duration = chrono::Duration::hours(24);

pub async fn reauthenticate(ctx: AuthContext, headers: HeaderMap) -> AuthResult<Response> {
    let caller = authenticate_user(&ctx, &headers).await?;
    let user = caller.user;
    let Some(email) = user.email.clone() else {
        return Err(AuthError::validation(
            "Reauthentication requires the user to have an email or a phone number",
        ));
    };
    if !user.is_email_confirmed() {
        return Err(AuthError::unprocessable(
            "email_not_confirmed",
            "Please verify your email first.",
        ));
    }
    let mut db = ctx.project.pools.admin.get().await?;
    let tx = db.transaction().await?;
    let mail = mail_token::issue(
        &*tx,
        &ctx.settings,
        user.id,
        MailKind::Reauthentication,
        &email,
    )
    .await?;
    ctx.count_mail()?;
    tx.commit().await?;
    mail.send(&ctx.project, &ctx.settings.site_url);
    Ok(Json(json!({})).into_response())
}

fn invalid_nonce() -> AuthError {
    AuthError::unprocessable(
        "reauthentication_not_valid",
        "Nonce has expired or is invalid",
    )
}

/// GoTrue's check before a password change: a recent session passes; otherwise the mailed
/// nonce must match, and is spent.
pub async fn require_recent_or_nonce(
    db: &impl GenericClient,
    settings: &AuthSettings,
    user: &User,
    session_id: Option<Uuid>,
    nonce: &str,
) -> AuthResult<()> {
    if let Some(session_id) = session_id {
        let created: Option<DateTime<Utc>> = db
            .query_opt(
                "SELECT created_at FROM auth.sessions WHERE id = $1",
                &[&session_id],
            )
            .await?
            .and_then(|row| row.get(0));
        if created.is_some_and(|at| Utc::now() <= at + RECENT_SESSION) {
            return Ok(());
        }
    }
    if nonce.is_empty() {
        return Err(AuthError::bad_request(
            "reauthentication_needed",
            "Password update requires reauthentication",
        ));
    }
    let row = db
        .query_one(
            "SELECT coalesce(reauthentication_token, ''), reauthentication_sent_at \
             FROM auth.users WHERE id = $1",
            &[&user.id],
        )
        .await?;
    let (stored, sent_at): (String, Option<DateTime<Utc>>) = (row.get(0), row.get(1));
    let email = user.email.as_deref().unwrap_or("");
    let valid = !stored.is_empty()
        && !otp::is_expired(sent_at, settings.mailer_otp_exp, Utc::now())
        && otp::token_hash(email, nonce) == stored;
    if !valid {
        return Err(invalid_nonce());
    }
    db.execute(
        "UPDATE auth.users SET reauthentication_token = '', reauthentication_sent_at = NULL \
         WHERE id = $1",
        &[&user.id],
    )
    .await?;
    Ok(())
}
