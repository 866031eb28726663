//! `POST /invite` (`auth.admin.inviteUserByEmail`) and `POST /admin/generate_link`
//! (`auth.admin.generateLink`), as GoTrue's invite.go and mail.go: an invitation is mailed;
//! a generated link is returned to the admin instead, with its code and hash, and mailed to no one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::admin::email_exists;
use super::error::{AuthError, AuthResult};
use super::mail_token::{self, TokenSlot};
use super::mailer::{self, MailKind};
use super::otp::{self, MailedToken};
use super::password;
use super::redirect::{self, RedirectQuery};
use super::request::{AuthContext, parse_json, require_admin};
use super::users::{self, User};
use super::validate;

#[derive(Deserialize, Default)]
#[serde(default)]
struct InviteParams {
    email: String,
    data: Option<Map<String, Value>>,
}

pub async fn invite(
    ctx: AuthContext,
    headers: HeaderMap,
    Query(query): Query<RedirectQuery>,
    body: Bytes,
) -> AuthResult<Response> {
    require_admin(&ctx, &headers)?;
    let params: InviteParams = parse_json(&body)?;
    let email = validate::email(&params.email)?;
    let mut db = ctx.project.pools.admin.get().await?;
    let existing = users::find_by_email(&**db, &email).await?;
    let tx = db.transaction().await?;
    let user_id = match existing {
        Some(user) if user.is_email_confirmed() => return Err(email_exists()),
        Some(user) => user.id,
        None => {
            let id = Uuid::new_v4();
            let data = Value::Object(params.data.unwrap_or_default());
            users::insert_email_user(&*tx, id, &email, None, false, &data, email_exists).await?;
            id
        }
    };
    let mail =
        mail_token::issue_unchecked(&*tx, &ctx.settings, user_id, MailKind::Invite, &email).await?;
    mark_invited(&tx, user_id).await?;
    let user = users::load(&*tx, user_id).await?;
    ctx.count_mail()?;
    tx.commit().await?;
    let redirect_to =
        redirect::redirect_target(&ctx.settings, query.redirect_to.as_deref(), &headers);
    mail.send(&ctx.project, &redirect_to);
    Ok(Json(user).into_response())
}

async fn mark_invited(tx: &tokio_postgres::Transaction<'_>, user_id: Uuid) -> AuthResult<()> {
    tx.execute(
        "UPDATE auth.users SET invited_at = now() WHERE id = $1",
        &[&user_id],
    )
    .await?;
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GenerateLinkParams {
    #[serde(rename = "type")]
    kind: String,
    email: String,
    new_email: String,
    password: String,
    data: Option<Map<String, Value>>,
    redirect_to: String,
}

fn user_not_found() -> AuthError {
    AuthError::not_found("user_not_found", "User with this email not found")
}

pub async fn generate_link(
    ctx: AuthContext,
    headers: HeaderMap,
    Query(query): Query<RedirectQuery>,
    body: Bytes,
) -> AuthResult<Response> {
    require_admin(&ctx, &headers)?;
    let params: GenerateLinkParams = parse_json(&body)?;
    let email = validate::email(&params.email)?;
    let redirect_to = if redirect::is_allowed(&ctx.settings, &params.redirect_to) {
        params.redirect_to.clone()
    } else {
        redirect::redirect_target(&ctx.settings, query.redirect_to.as_deref(), &headers)
    };
    let data = Value::Object(params.data.clone().unwrap_or_default());
    let mut db = ctx.project.pools.admin.get().await?;
    let existing = users::find_by_email(&**db, &email).await?;
    let mut kind = params.kind.as_str();
    if existing.is_none() {
        match kind {
            // A magic link for a new address signs it up, as `/otp` would.
            "magiclink" => kind = "signup",
            "recovery" | "email_change_current" | "email_change_new" => {
                return Err(user_not_found());
            }
            _ => {}
        }
    }
    let token = MailedToken::generate(&email, ctx.settings.mailer_otp_length);
    let tx = db.transaction().await?;
    let (user_id, link_hash, verify_kind) = match (kind, existing) {
        ("magiclink" | "recovery", Some(user)) => {
            mail_token::store(&*tx, user.id, TokenSlot::Recovery, &token.hash).await?;
            let mail_kind = if kind == "recovery" {
                MailKind::Recovery
            } else {
                MailKind::MagicLink
            };
            (user.id, token.hash.clone(), mail_kind)
        }
        ("signup" | "invite", existing) => {
            let user_id = match existing {
                Some(user) if user.is_email_confirmed() => return Err(email_exists()),
                Some(user) => user.id,
                None => {
                    let id = Uuid::new_v4();
                    let password_hash = if kind == "signup" {
                        let chosen = if params.password.is_empty() {
                            crate::config::random_token(48)
                        } else {
                            password::check_strength(
                                &params.password,
                                ctx.settings.password_min_length,
                            )?;
                            params.password.clone()
                        };
                        Some(password::hash(&chosen).await?)
                    } else {
                        None
                    };
                    users::insert_email_user(
                        &*tx,
                        id,
                        &email,
                        password_hash,
                        false,
                        &data,
                        email_exists,
                    )
                    .await?;
                    id
                }
            };
            mail_token::store(&*tx, user_id, TokenSlot::Confirmation, &token.hash).await?;
            let mail_kind = if kind == "invite" {
                mark_invited(&tx, user_id).await?;
                MailKind::Invite
            } else {
                MailKind::Confirmation
            };
            (user_id, token.hash.clone(), mail_kind)
        }
        ("email_change_current" | "email_change_new", Some(user)) => {
            let hash =
                email_change_token(&tx, &ctx, &user, kind, &params.new_email, &token).await?;
            (user.id, hash, MailKind::EmailChange)
        }
        _ => {
            return Err(AuthError::validation(format!(
                "Invalid email action link type requested: {}",
                params.kind
            )));
        }
    };
    let user = users::load(&*tx, user_id).await?;
    tx.commit().await?;
    let action_link = mailer::verify_link(&ctx.project, &link_hash, verify_kind, &redirect_to);
    let mut body =
        serde_json::to_value(&user).map_err(|e| AuthError::internal("Error rendering user", e))?;
    if let Some(object) = body.as_object_mut() {
        object.extend([
            ("action_link".to_owned(), json!(action_link)),
            ("email_otp".to_owned(), json!(token.code)),
            ("hashed_token".to_owned(), json!(token.hash)),
            ("verification_type".to_owned(), json!(kind)),
            ("redirect_to".to_owned(), json!(redirect_to)),
        ]);
    }
    Ok(Json(body).into_response())
}

/// One half of an e-mail change, pending as `new_email`; the link's token is the hash for the
/// address it confirms (GoTrue's response still names the hash for the current address).
async fn email_change_token(
    tx: &tokio_postgres::Transaction<'_>,
    ctx: &AuthContext,
    user: &User,
    kind: &str,
    new_email: &str,
    token: &MailedToken,
) -> AuthResult<String> {
    if kind == "email_change_current" && !ctx.settings.secure_email_change {
        return Err(AuthError::validation(
            "Enable secure email change to generate link for current email",
        ));
    }
    let new_email = validate::email(new_email)?;
    if users::find_by_email(tx, &new_email)
        .await?
        .is_some_and(|other| other.id != user.id)
    {
        return Err(email_exists());
    }
    tx.execute(
        "UPDATE auth.users SET email_change = $2, email_change_confirm_status = 0, \
             email_change_token_current = '', email_change_token_new = '' WHERE id = $1",
        &[&user.id, &new_email],
    )
    .await?;
    let (slot, hash) = if kind == "email_change_current" {
        (TokenSlot::EmailChangeCurrent, token.hash.clone())
    } else {
        (
            TokenSlot::EmailChangeNew,
            otp::token_hash(&new_email, &token.code),
        )
    };
    mail_token::store(tx, user.id, slot, &hash).await?;
    Ok(hash)
}
