//! POST (invite), GET (history) and DELETE (revoke) for admins.

use edge_crypto::{KeyRing, hash_token, random_token};
use edge_http::{ApiError, BodyLimit};
use edge_worker::{
    Answer, MailConfig, RequestContext, Rest, authenticate, internal_error, json_response,
    mail_not_configured, optional_setting, read_json_body,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;
use worker::Method;

use crate::delivery::{CLAIM_SECONDS, Mailer};
use crate::invitation_input::{InvitationInput, ValidInvitation, parse_uuid};
use crate::invitation_rpc_error::{InvitationRefusal, api_error};
use crate::invitation_view::{
    InvitationRecord, InvitationView, LinkBase, record_from_details, seal_token,
};

/// A body is a profile id, an address and two small settings.
const BODY_LIMIT: BodyLimit = BodyLimit::new(4 * 1024);

/// What an admin's request needs besides the request: who they are and how links are made.
struct Admin {
    id: Uuid,
    rest: Rest,
    key_ring: std::rc::Rc<KeyRing>,
    link_base: LinkBase,
    /// The transport, when e-mail is on (`MAIL_TRANSPORT`).
    mail: Option<MailConfig>,
    /// False with `INVITATION_LINK_DELIVERY=email_only`: links go only by e-mail.
    links_shown: bool,
}

impl Admin {
    /// A request's mailer: a sent mail is recorded after the answer.
    fn mailer<'a>(&'a self, ctx: &'a RequestContext, mail: &'a MailConfig) -> Mailer<'a> {
        Mailer {
            env: &ctx.env,
            config: mail,
            rest: &self.rest,
            key_ring: &self.key_ring,
            link_base: &self.link_base,
            defer: Some(&ctx.defer),
        }
    }

    /// The view as this deployment may show it to an admin.
    fn reveal(&self, view: InvitationView) -> InvitationView {
        if self.links_shown {
            view
        } else {
            view.without_link()
        }
    }
}

/// `INVITATION_LINK_DELIVERY`: `link_and_email` (the default: admins see and copy the link,
/// and it is e-mailed when e-mail is on) or `email_only` (never shown; needs e-mail).
fn links_shown(setting: Option<&str>, mail: Option<&MailConfig>) -> Result<bool, ApiError> {
    match (setting.map(str::trim), mail) {
        (None | Some("link_and_email"), _) => Ok(true),
        (Some("email_only"), Some(_)) => Ok(false),
        (Some("email_only"), None) => Err(mail_not_configured(
            "INVITATION_LINK_DELIVERY=email_only needs MAIL_TRANSPORT",
        )),
        (Some(other), _) => Err(mail_not_configured(format!(
            "INVITATION_LINK_DELIVERY must be `link_and_email` or `email_only`, not {other:?}"
        ))),
    }
}

/// The 409 when the profile already has an active invitation: the usual error fields and that
/// invitation, with its link, so the admin can resend it instead of replacing it.
#[derive(Serialize)]
struct ActiveInvitationConflict {
    error: String,
    code: &'static str,
    invitation: InvitationView,
}

pub async fn route(mut ctx: RequestContext) -> Result<Answer, ApiError> {
    let auth = authenticate(&ctx).await?;
    if auth.caller.is_anonymous {
        return Err(ApiError::forbidden(
            "guest_not_allowed",
            "Guest accounts cannot manage invitations",
        ));
    }
    let key_ring = edge_worker::key_ring(&ctx.env)?;
    let link_base = LinkBase::parse(optional_setting(&ctx.env, "INVITATION_LINK_BASE").as_deref())
        .map_err(|e| internal_error("configuration", e))?;
    let mail = MailConfig::from_env(&ctx.env)?;
    let links_shown = links_shown(
        optional_setting(&ctx.env, "INVITATION_LINK_DELIVERY").as_deref(),
        mail.as_ref(),
    )?;
    // The admin check is the RPCs' own (p_admin, read from user_profiles.role); they are
    // executable by the service role only.
    let admin = Admin {
        id: auth.caller.user_id,
        rest: Rest::as_service(&ctx.config),
        key_ring,
        link_base,
        mail,
        links_shown,
    };
    match ctx.req.method() {
        Method::Post => {
            let input: InvitationInput = read_json_body(&mut ctx.req, BODY_LIMIT).await?;
            let input = input.validate()?;
            if input.resend {
                resend(&ctx, &admin, input.profile_id).await
            } else {
                invite(&ctx, &admin, input).await
            }
        }
        Method::Get => {
            let profile_id = query_uuid(&ctx, "profile_id")?;
            history(&admin, profile_id).await
        }
        Method::Delete => {
            let id = query_uuid(&ctx, "id")?;
            revoke(&admin, id).await
        }
        _ => Err(ApiError::internal()),
    }
}

/// `?<name>=<uuid>`, or 400 naming what is missing or malformed.
fn query_uuid(ctx: &RequestContext, name: &str) -> Result<Uuid, ApiError> {
    parse_uuid(name, &ctx.req.required_query(name, "<uuid>")?)
}

/// Makes a token, stores its hash and its envelope through `create_profile_invitation` (queued
/// for e-mail when e-mail is on), sends the e-mail, and answers 201 with the link and whether
/// the mail went out (two round trips: a sent mail is recorded after the answer); 409 with the active invitation (and its link) when there is one and
/// `replace` is not set. A failed mail loses nothing: the invitation is pending, its delivery
/// `failed`, and the retry job sends it later.
async fn invite(
    ctx: &RequestContext,
    admin: &Admin,
    input: ValidInvitation,
) -> Result<Answer, ApiError> {
    let token = random_token().map_err(|e| internal_error("making a token", e))?;
    let envelope = seal_token(&admin.key_ring, input.profile_id, &token)
        .map_err(|e| internal_error("sealing an invitation token", e))?;
    let args = json!({
        "p_admin": admin.id,
        "p_profile_id": input.profile_id,
        "p_token_hash": hash_token(&token),
        "p_email": input.email,
        "p_token_encrypted": envelope,
        "p_expires_in_days": input.expires_in_days,
        "p_replace": input.replace,
        "p_send_email": admin.mail.is_some(),
        "p_claim_seconds": CLAIM_SECONDS,
    });
    let answer =
        Rest::run::<InvitationRecord>(admin.rest.rpc("create_profile_invitation", &args)).await?;
    match answer {
        Ok(created) => {
            let (record, email_sent) = match &admin.mail {
                Some(mail) => {
                    let (record, sent) = admin.mailer(ctx, mail).deliver(created, &token).await;
                    (record, Some(sent))
                }
                None => (created, None),
            };
            let view = InvitationView {
                email_sent,
                ..record.with_token(token, &admin.link_base)
            };
            json_response(201, &admin.reveal(view))
        }
        Err(e) if e.refusal() == Some(InvitationRefusal::InvitationExists) => {
            let active = record_from_details(e.details.as_deref())?;
            json_response(
                409,
                &ActiveInvitationConflict {
                    error: e.message,
                    code: "invitation_exists",
                    invitation: shown(admin, active),
                },
            )
        }
        Err(e) => Err(api_error(e, "creating an invitation")),
    }
}

/// E-mails the profile's active invitation again (a new send, the same link) and answers 200
/// with it and whether the mail went out.
async fn resend(ctx: &RequestContext, admin: &Admin, profile_id: Uuid) -> Result<Answer, ApiError> {
    let Some(mail) = &admin.mail else {
        return Err(mail_not_configured(
            "MAIL_TRANSPORT is not set, so invitations cannot be e-mailed",
        ));
    };
    let args = json!({
        "p_admin": admin.id,
        "p_profile_id": profile_id,
        "p_claim_seconds": CLAIM_SECONDS,
    });
    let queued: InvitationRecord = Rest::run(admin.rest.rpc("resend_profile_invitation", &args))
        .await?
        .map_err(|e| api_error(e, "resending an invitation"))?;
    let (record, sent) = admin.mailer(ctx, mail).deliver_stored(queued).await;
    let view = InvitationView {
        email_sent: Some(sent),
        ..shown(admin, record)
    };
    json_response(200, &view)
}

/// The profile's invitations, newest first; pending ones with their link.
async fn history(admin: &Admin, profile_id: Uuid) -> Result<Answer, ApiError> {
    let args = json!({ "p_admin": admin.id, "p_profile_id": profile_id });
    let records: Vec<InvitationRecord> =
        Rest::run(admin.rest.rpc("list_profile_invitations", &args))
            .await?
            .map_err(|e| api_error(e, "listing invitations"))?;
    let views: Vec<InvitationView> = records.into_iter().map(|r| shown(admin, r)).collect();
    json_response(200, &views)
}

/// Revokes a pending invitation; its link answers 404 from then on.
async fn revoke(admin: &Admin, id: Uuid) -> Result<Answer, ApiError> {
    let args = json!({ "p_admin": admin.id, "p_invitation_id": id });
    let revoked: InvitationRecord = Rest::run(admin.rest.rpc("revoke_profile_invitation", &args))
        .await?
        .map_err(|e| api_error(e, "revoking an invitation"))?;
    json_response(200, &shown(admin, revoked))
}

/// A stored invitation as the admin sees it; an envelope that no longer opens is logged (by
/// invitation id, never its content) and the invitation shown without its link.
fn shown(admin: &Admin, record: InvitationRecord) -> InvitationView {
    let id = record.id;
    let (view, error) = record.with_stored_link(&admin.key_ring, &admin.link_base);
    if let Some(e) = error {
        worker::console_error!("the token envelope of invitation {id} does not open: {e}");
    }
    admin.reveal(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> MailConfig {
        MailConfig::parse(|name| match name {
            "MAIL_TRANSPORT" => Some("cloudflare".into()),
            "MAIL_FROM" => Some("a@b.co".into()),
            _ => None,
        })
        .unwrap()
        .unwrap()
    }

    #[test]
    fn links_are_shown_unless_email_only() {
        assert!(links_shown(None, None).unwrap());
        assert!(links_shown(Some("link_and_email"), Some(&mail())).unwrap());
        assert!(!links_shown(Some("email_only"), Some(&mail())).unwrap());
    }
}
