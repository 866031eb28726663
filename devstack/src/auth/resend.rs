//! `POST /resend` (`auth.resend`) and `POST /recover` (`resetPasswordForEmail`), as GoTrue's
//! resend.go and recover.go: both answer `{}` whether or not the address has an account, so
//! neither tells who signed up.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error::{AuthError, AuthResult};
use super::mail_token;
use super::mailer::MailKind;
use super::pkce::ChallengeParams;
use super::redirect::{self, RedirectQuery};
use super::request::{AuthContext, parse_json};
use super::users;
use super::validate;

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResendParams {
    #[serde(rename = "type")]
    kind: String,
    email: String,
    phone: String,
    #[serde(flatten)]
    pkce: ChallengeParams,
}

fn nothing_to_say() -> Response {
    Json(json!({})).into_response()
}

pub async fn resend(
    ctx: AuthContext,
    headers: HeaderMap,
    Query(query): Query<RedirectQuery>,
    body: Bytes,
) -> AuthResult<Response> {
    ctx.rate_limit(|l| &l.resend)?;
    let params: ResendParams = parse_json(&body)?;
    if !matches!(
        params.kind.as_str(),
        "signup" | "email_change" | "sms" | "phone_change"
    ) {
        return Err(AuthError::validation(
            "Missing one of these types: signup, email_change, sms, phone_change",
        ));
    }
    // GoTrue checks the challenge of the e-mail types first.
    let challenge = if matches!(params.kind.as_str(), "signup" | "email_change") {
        params.pkce.validate()?
    } else {
        None
    };
    if params.email.is_empty() && params.kind == "signup" {
        return Err(AuthError::validation(
            "Type provided requires an email address",
        ));
    }
    if params.phone.is_empty() && params.kind == "sms" {
        return Err(AuthError::validation(
            "Type provided requires a phone number",
        ));
    }
    if !params.email.is_empty() && !params.phone.is_empty() {
        return Err(AuthError::validation(
            "Only an email address or phone number should be provided.",
        ));
    }
    if !params.phone.is_empty() {
        return Err(AuthError::bad_request(
            "phone_provider_disabled",
            "Phone logins are disabled",
        ));
    }
    if params.email.is_empty() {
        return Err(AuthError::validation(
            "Missing email address or phone number",
        ));
    }
    let email = validate::email(&params.email)?;
    let mut db = ctx.project.pools.admin.get().await?;
    let Some(user) = users::find_by_email(&**db, &email).await? else {
        return Ok(nothing_to_say());
    };
    let redirect_to =
        redirect::redirect_target(&ctx.settings, query.redirect_to.as_deref(), &headers);
    let tx = db.transaction().await?;
    let mails = match params.kind.as_str() {
        "signup" if !user.is_email_confirmed() => {
            vec![
                mail_token::issue(&*tx, &ctx.settings, user.id, MailKind::Confirmation, &email)
                    .await?
                    .in_flow(&*tx, user.id, challenge.as_ref())
                    .await?,
            ]
        }
        "email_change" => match user.email_change.as_deref() {
            Some(new_email) => {
                mail_token::issue_email_change(
                    &*tx,
                    &ctx.settings,
                    &user,
                    new_email,
                    challenge.as_ref(),
                )
                .await?
            }
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    if !mails.is_empty() {
        ctx.count_mail()?;
    }
    tx.commit().await?;
    for mail in &mails {
        mail.send(&ctx.project, &redirect_to);
    }
    Ok(nothing_to_say())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RecoverParams {
    email: String,
    #[serde(flatten)]
    pkce: ChallengeParams,
}

pub async fn recover(
    ctx: AuthContext,
    headers: HeaderMap,
    Query(query): Query<RedirectQuery>,
    body: Bytes,
) -> AuthResult<Response> {
    ctx.rate_limit(|l| &l.recover)?;
    let params: RecoverParams = parse_json(&body)?;
    if params.email.is_empty() {
        return Err(AuthError::validation("Password recovery requires an email"));
    }
    let email = validate::email(&params.email)?;
    let challenge = params.pkce.validate()?;
    let mut db = ctx.project.pools.admin.get().await?;
    let Some(user) = users::find_by_email(&**db, &email).await? else {
        return Ok(nothing_to_say());
    };
    let tx = db.transaction().await?;
    let mail = mail_token::issue(&*tx, &ctx.settings, user.id, MailKind::Recovery, &email)
        .await?
        .in_flow(&*tx, user.id, challenge.as_ref())
        .await?;
    ctx.count_mail()?;
    tx.commit().await?;
    let redirect_to =
        redirect::redirect_target(&ctx.settings, query.redirect_to.as_deref(), &headers);
    mail.send(&ctx.project, &redirect_to);
    Ok(nothing_to_say())
}
