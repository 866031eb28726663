//! `POST /signup`: e-mail + password sign-up, or an anonymous sign-in when neither an e-mail
//! nor a phone is given. With confirmations off (`supabase start`'s default) both return a
//! session; with them on (`--email-confirmations`) an e-mail sign-up returns the user and mails
//! a confirmation, and signing up again with a confirmed address answers a look-alike user
//! (GoTrue's `sanitizeUser`), so sign-up does not tell who has an account.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::mail_token;
use super::mailer::MailKind;
use super::password;
use super::pkce::{Challenge, ChallengeParams};
use super::redirect::{self, RedirectQuery};
use super::request::{AuthContext, parse_json, user_agent};
use super::sessions::{self, SignInMethod};
use super::users::{self, NewUser, User};
use super::validate;

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignupParams {
    email: Option<String>,
    phone: Option<String>,
    password: Option<String>,
    data: Option<Map<String, Value>>,
    #[serde(flatten)]
    pkce: ChallengeParams,
}

pub async fn signup(
    ctx: AuthContext,
    headers: HeaderMap,
    Query(query): Query<RedirectQuery>,
    body: Bytes,
) -> AuthResult<Response> {
    if ctx.settings.signup_disabled {
        return Err(AuthError::unprocessable(
            "signup_disabled",
            "Signups not allowed for this instance",
        ));
    }
    let params: SignupParams = parse_json(&body)?;
    let email = params.email.unwrap_or_default();
    let phone = params.phone.unwrap_or_default();
    let user_metadata = Value::Object(params.data.unwrap_or_default());
    if email.is_empty() && phone.is_empty() {
        return sign_up_anonymously(&ctx, &headers, user_metadata).await;
    }
    ctx.rate_limit(|l| &l.signups)?;

    let password = params.password.unwrap_or_default();
    if password.is_empty() {
        return Err(AuthError::validation("Signup requires a valid password"));
    }
    password::check_strength(&password, ctx.settings.password_min_length)?;
    if !email.is_empty() && !phone.is_empty() {
        return Err(AuthError::validation(
            "Only an email address or phone number should be provided on signup.",
        ));
    }
    if email.is_empty() {
        return Err(AuthError::bad_request(
            "phone_provider_disabled",
            "Phone signups are disabled",
        ));
    }
    let email = validate::email(&email)?;
    let challenge = params.pkce.validate()?;
    let already_registered =
        || AuthError::unprocessable("user_already_exists", "User already registered");

    let mut db = ctx.project.pools.admin.get().await?;
    if let Some(existing) = users::find_by_email(&**db, &email).await? {
        if ctx.settings.mailer_autoconfirm {
            return Err(already_registered());
        }
        let redirect_to =
            redirect::redirect_target(&ctx.settings, query.redirect_to.as_deref(), &headers);
        return repeated_signup(
            &ctx,
            &mut db,
            existing,
            &user_metadata,
            &redirect_to,
            challenge,
        )
        .await;
    }
    let confirm_now = ctx.settings.mailer_autoconfirm;
    let password_hash = password::hash(&password).await?;
    let user_id = Uuid::new_v4();
    let tx = db.transaction().await?;
    users::insert_email_user(
        &*tx,
        user_id,
        &email,
        Some(password_hash),
        confirm_now,
        &user_metadata,
        already_registered,
    )
    .await?;
    if !confirm_now {
        let mail = mail_token::issue(&*tx, &ctx.settings, user_id, MailKind::Confirmation, &email)
            .await?
            .in_flow(&*tx, user_id, challenge.as_ref())
            .await?;
        let user = users::load(&*tx, user_id).await?;
        ctx.count_mail()?;
        tx.commit().await?;
        let redirect_to =
            redirect::redirect_target(&ctx.settings, query.redirect_to.as_deref(), &headers);
        mail.send(&ctx.project, &redirect_to);
        return Ok(Json(user).into_response());
    }
    let session = sessions::sign_in(
        &tx,
        &ctx.minter(),
        user_id,
        SignInMethod::Password,
        user_agent(&headers),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(session).into_response())
}

/// Signing up again with a known address, confirmations on: an unconfirmed account gets its
/// confirmation again (within the frequency limit) and nothing else changes, since the caller's
/// claim to the address is unproven; a confirmed one gets a look-alike user and no mail.
async fn repeated_signup(
    ctx: &AuthContext,
    db: &mut deadpool_postgres::Object,
    existing: User,
    user_metadata: &Value,
    redirect_to: &str,
    challenge: Option<Challenge>,
) -> AuthResult<Response> {
    if existing.is_email_confirmed() {
        return Ok(Json(look_alike(existing, user_metadata)).into_response());
    }
    let email = existing.email.clone().unwrap_or_default();
    let tx = db.transaction().await?;
    let mail = mail_token::issue(
        &*tx,
        &ctx.settings,
        existing.id,
        MailKind::Confirmation,
        &email,
    )
    .await?
    .in_flow(&*tx, existing.id, challenge.as_ref())
    .await?;
    let user = users::load(&*tx, existing.id).await?;
    ctx.count_mail()?;
    tx.commit().await?;
    mail.send(&ctx.project, redirect_to);
    Ok(Json(user).into_response())
}

/// GoTrue's `sanitizeUser`: what a fresh unconfirmed sign-up would have answered.
fn look_alike(user: User, user_metadata: &Value) -> User {
    let now = chrono::Utc::now();
    User {
        id: Uuid::new_v4(),
        role: String::new(),
        phone: None,
        email_change: None,
        created_at: now,
        updated_at: now,
        confirmation_sent_at: Some(now),
        last_sign_in_at: None,
        confirmed_at: None,
        email_change_sent_at: None,
        email_confirmed_at: None,
        phone_confirmed_at: None,
        identities: Vec::new(),
        factors: Vec::new(),
        user_metadata: user_metadata.clone(),
        app_metadata: json!({"provider": "email", "providers": ["email"]}),
        ..user
    }
}

/// `signInAnonymously()`: a user with no e-mail, phone or identity, flagged `is_anonymous`.
async fn sign_up_anonymously(
    ctx: &AuthContext,
    headers: &HeaderMap,
    user_metadata: Value,
) -> AuthResult<Response> {
    if !ctx.settings.anonymous_users_enabled {
        return Err(AuthError::unprocessable(
            "anonymous_provider_disabled",
            "Anonymous sign-ins are disabled",
        ));
    }
    ctx.rate_limit(|l| &l.anonymous_sign_ins)?;
    let user_id = Uuid::new_v4();
    let mut db = ctx.project.pools.admin.get().await?;
    let tx = db.transaction().await?;
    users::insert(
        &*tx,
        &NewUser {
            id: user_id,
            role: users::DEFAULT_ROLE.to_owned(),
            email: None,
            password_hash: None,
            email_confirmed: false,
            app_metadata: json!({}),
            user_metadata,
            is_anonymous: true,
            banned_until: None,
        },
        || AuthError::internal("Database error creating anonymous user", "duplicate id"),
    )
    .await?;
    let session = sessions::sign_in(
        &tx,
        &ctx.minter(),
        user_id,
        SignInMethod::Anonymous,
        user_agent(headers),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(session).into_response())
}
