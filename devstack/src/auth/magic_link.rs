//! `POST /otp` with an e-mail (`signInWithOtp`): a magic link with a 6-digit code, as GoTrue's
//! otp.go and magic_link.go. An address without a confirmed account is signed up first
//! (`create_user`, on by default) with a random password, and gets the sign-up confirmation
//! instead; either way the answer is `{}`.

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
use super::pkce::ChallengeParams;
use super::redirect::{self, RedirectQuery};
use super::request::{AuthContext, parse_json};
use super::users;
use super::validate;

#[derive(Deserialize)]
#[serde(default)]
struct OtpParams {
    email: String,
    phone: String,
    create_user: bool,
    data: Option<Map<String, Value>>,
    channel: String,
    #[serde(flatten)]
    pkce: ChallengeParams,
}

impl Default for OtpParams {
    fn default() -> Self {
        Self {
            email: String::new(),
            phone: String::new(),
            create_user: true,
            data: None,
            channel: String::new(),
            pkce: ChallengeParams::default(),
        }
    }
}

pub async fn otp(
    ctx: AuthContext,
    headers: HeaderMap,
    Query(query): Query<RedirectQuery>,
    body: Bytes,
) -> AuthResult<Response> {
    ctx.rate_limit(|l| &l.otp)?;
    let params: OtpParams = parse_json(&body)?;
    if !params.email.is_empty() && !params.phone.is_empty() {
        return Err(AuthError::validation(
            "Only an email address or phone number should be provided",
        ));
    }
    if !params.email.is_empty() && !params.channel.is_empty() {
        return Err(AuthError::validation(
            "Channel should only be specified with Phone OTP",
        ));
    }
    if !params.phone.is_empty() {
        return Err(AuthError::bad_request(
            "phone_provider_disabled",
            "Unsupported phone provider",
        ));
    }
    if params.email.is_empty() {
        return Err(AuthError::validation("One of email or phone must be set"));
    }
    let email = validate::email(&params.email)?;
    let challenge = params.pkce.validate()?;
    let mut db = ctx.project.pools.admin.get().await?;
    let existing = users::find_by_email(&**db, &email).await?;
    if !params.create_user && existing.is_none() {
        return Err(AuthError::unprocessable(
            "otp_disabled",
            "Signups not allowed for otp",
        ));
    }
    let redirect_to =
        redirect::redirect_target(&ctx.settings, query.redirect_to.as_deref(), &headers);
    let tx = db.transaction().await?;
    let (user_id, mail) = match existing {
        Some(user) if user.is_email_confirmed() => (
            user.id,
            mail_token::issue(&*tx, &ctx.settings, user.id, MailKind::MagicLink, &email).await?,
        ),
        Some(user) => (
            user.id,
            mail_token::issue(&*tx, &ctx.settings, user.id, MailKind::Confirmation, &email).await?,
        ),
        None => {
            if ctx.settings.signup_disabled {
                return Err(AuthError::unprocessable(
                    "signup_disabled",
                    "Signups not allowed for this instance",
                ));
            }
            let user_id = Uuid::new_v4();
            // With confirmations off GoTrue confirms the new account and mails a magic link;
            // with them on it mails the sign-up confirmation.
            let confirmed = ctx.settings.mailer_autoconfirm;
            sign_up_for_otp(
                &tx,
                user_id,
                &email,
                params.data.unwrap_or_default(),
                confirmed,
            )
            .await?;
            let kind = if ctx.settings.mailer_autoconfirm {
                MailKind::MagicLink
            } else {
                MailKind::Confirmation
            };
            (
                user_id,
                mail_token::issue(&*tx, &ctx.settings, user_id, kind, &email).await?,
            )
        }
    };
    let mail = mail.in_flow(&*tx, user_id, challenge.as_ref()).await?;
    ctx.count_mail()?;
    tx.commit().await?;
    mail.send(&ctx.project, &redirect_to);
    Ok(Json(json!({})).into_response())
}

/// The account a first magic link creates, with a random password nobody knows; unconfirmed
/// (until the link is followed) when confirmations are on.
async fn sign_up_for_otp(
    tx: &tokio_postgres::Transaction<'_>,
    user_id: Uuid,
    email: &str,
    data: Map<String, Value>,
    confirmed: bool,
) -> AuthResult<()> {
    let password_hash = password::hash(&crate::config::random_token(33)).await?;
    users::insert_email_user(
        tx,
        user_id,
        email,
        Some(password_hash),
        confirmed,
        &Value::Object(data),
        || AuthError::unprocessable("user_already_exists", "User already registered"),
    )
    .await
}
