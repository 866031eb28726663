//! `GET /user`, `PUT /user` and `POST /logout`: what a signed-in user does with their own account.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio_postgres::Transaction;

use super::error::{AuthError, AuthResult};
use super::mail_token;
use super::password;
use super::pkce::ChallengeParams;
use super::reauthentication;
use super::redirect::{self, RedirectQuery};
use super::request::{AuthContext, Caller, authenticate_user, parse_json};
use super::sessions::{self, LogoutScope};
use super::users::{self, User};
use super::validate;

pub async fn get_user(ctx: AuthContext, headers: HeaderMap) -> AuthResult<Response> {
    let caller = authenticate_user(&ctx, &headers).await?;
    if caller.claims.get("aud").and_then(Value::as_str) != Some(users::AUDIENCE) {
        return Err(AuthError::validation(
            "Token audience doesn't match request audience",
        ));
    }
    Ok(Json(caller.user).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UserUpdateParams {
    email: Option<String>,
    password: Option<String>,
    data: Option<Map<String, Value>>,
    app_metadata: Option<Map<String, Value>>,
    phone: Option<String>,
    /// The code `GET /reauthenticate` mailed, when secure password change asks for it.
    nonce: Option<String>,
    /// A PKCE challenge for the e-mail change: its links then end in `?code=`.
    #[serde(flatten)]
    pkce: ChallengeParams,
}

pub async fn update_user(
    ctx: AuthContext,
    headers: HeaderMap,
    Query(query): Query<RedirectQuery>,
    body: Bytes,
) -> AuthResult<Response> {
    let Caller {
        user, session_id, ..
    } = authenticate_user(&ctx, &headers).await?;
    ctx.rate_limit(|l| &l.user)?;
    let params: UserUpdateParams = parse_json(&body)?;
    let new_email = match params.email.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(validate::email(raw)?),
    };
    if params.phone.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(AuthError::bad_request(
            "phone_provider_disabled",
            "Phone logins are disabled",
        ));
    }
    if let Some(password) = &params.password {
        password::check_strength(password, ctx.settings.password_min_length)?;
    }
    if params.app_metadata.is_some() {
        return Err(AuthError::forbidden(
            "not_admin",
            "Updating app_metadata requires admin privileges",
        ));
    }
    let new_password = params.password.as_deref().filter(|p| !p.is_empty());
    if user.is_anonymous && new_password.is_some() && new_email.is_none() {
        return Err(AuthError::unprocessable(
            "validation_failed",
            "Updating password of an anonymous user without an email or phone is not allowed",
        ));
    }
    let email_change = new_email.filter(|e| user.email.as_deref() != Some(e.as_str()));

    let mut db = ctx.project.pools.admin.get().await?;
    if let Some(email) = &email_change
        && users::find_by_email(&**db, email)
            .await?
            .is_some_and(|other| other.id != user.id)
    {
        return Err(AuthError::unprocessable(
            "email_exists",
            "A user with this email address has already been registered",
        ));
    }
    if params.password.is_some() && ctx.settings.secure_password_change {
        reauthentication::require_recent_or_nonce(
            &**db,
            &ctx.settings,
            &user,
            session_id,
            params.nonce.as_deref().unwrap_or(""),
        )
        .await?;
    }
    let new_password_hash = match (params.password.as_deref(), &user.encrypted_password) {
        (None, _) => None,
        (Some(""), _) => Some(String::new()),
        (Some(password), Some(current))
            if !current.is_empty() && password::verify(password, current).await =>
        {
            return Err(AuthError::unprocessable(
                "same_password",
                "New password should be different from the old password.",
            ));
        }
        (Some(password), _) => Some(password::hash(password).await?),
    };

    let tx = db.transaction().await?;
    if let Some(hash) = &new_password_hash {
        tx.execute(
            "UPDATE auth.users SET encrypted_password = $2, updated_at = now() WHERE id = $1",
            &[&user.id, hash],
        )
        .await?;
    }
    if let Some(data) = &params.data {
        let merged = users::merge_metadata(&user.user_metadata, data);
        tx.execute(
            "UPDATE auth.users SET raw_user_meta_data = $2, updated_at = now() WHERE id = $1",
            &[&user.id, &merged],
        )
        .await?;
    }
    let mut mails = Vec::new();
    if let Some(email) = &email_change {
        if user.is_anonymous && ctx.settings.mailer_autoconfirm {
            upgrade_anonymous(&tx, &user, email).await?;
        } else {
            // Permanent users always confirm a new address (and, with secure e-mail change, the
            // current one too); it waits as `new_email` until then.
            // GoTrue reads the challenge only for the change (an unknown method fails there).
            let challenge = params.pkce.validate()?;
            mails = mail_token::issue_email_change(
                &*tx,
                &ctx.settings,
                &user,
                email,
                challenge.as_ref(),
            )
            .await?;
        }
    }
    let updated = users::load(&*tx, user.id).await?;
    if !mails.is_empty() {
        ctx.count_mail()?;
    }
    tx.commit().await?;
    let redirect_to =
        redirect::redirect_target(&ctx.settings, query.redirect_to.as_deref(), &headers);
    for mail in &mails {
        mail.send(&ctx.project, &redirect_to);
    }
    Ok(Json(updated).into_response())
}

/// With e-mail confirmation off, giving an anonymous user an address confirms it at once:
/// same id, `is_anonymous` cleared, an `email` identity, providers re-derived.
async fn upgrade_anonymous(tx: &Transaction<'_>, user: &User, email: &str) -> AuthResult<()> {
    tx.execute(
        "UPDATE auth.users SET email = $2, email_change = '', is_anonymous = false, \
             email_confirmed_at = coalesce(email_confirmed_at, now()), \
             raw_user_meta_data = coalesce(raw_user_meta_data, '{}') || $3, updated_at = now() \
         WHERE id = $1",
        &[&user.id, &email, &json!({"email_verified": true})],
    )
    .await?;
    users::add_verified_email_identity(tx, user.id, email).await
}

pub async fn logout(
    ctx: AuthContext,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> AuthResult<Response> {
    let caller = authenticate_user(&ctx, &headers).await?;
    let scope = LogoutScope::parse(query.get("scope").map(String::as_str))?;
    let db = ctx.project.pools.admin.get().await?;
    sessions::logout(&**db, caller.user.id, caller.session_id, scope).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
