//! POST (invite), GET (history) and DELETE (revoke) for admins.

use edge_crypto::{KeyRing, hash_token, random_token};
use edge_http::{ApiError, BodyLimit};
use edge_worker::{
    RequestContext, Rest, authenticate, internal_error, json_response, optional_setting,
    read_json_body,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;
use worker::{Method, Response};

use crate::invitation_input::{InvitationInput, ValidInvitation, parse_uuid};
use crate::invitation_rpc_error::api_error;
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
}

/// The 409 when the profile already has an active invitation: the usual error fields and that
/// invitation, with its link, so the admin can resend it instead of replacing it.
#[derive(Serialize)]
struct ActiveInvitationConflict {
    error: String,
    code: &'static str,
    invitation: InvitationView,
}

pub async fn route(mut ctx: RequestContext) -> Result<Response, ApiError> {
    let auth = authenticate(&ctx.req, &ctx.config).await?;
    if auth.caller.is_anonymous {
        return Err(ApiError::forbidden(
            "guest_not_allowed",
            "Guest accounts cannot manage invitations",
        ));
    }
    let key_ring = edge_worker::key_ring(&ctx.env)?;
    let link_base = LinkBase::parse(optional_setting(&ctx.env, "INVITATION_LINK_BASE").as_deref())
        .map_err(|e| internal_error("configuration", e))?;
    // The admin check is the RPCs' own (p_admin, read from user_profiles.role); they are
    // executable by the service role only.
    let admin = Admin {
        id: auth.caller.user_id,
        rest: Rest::as_service(&ctx.config),
        key_ring,
        link_base,
    };
    match ctx.req.method() {
        Method::Post => {
            let input: InvitationInput = read_json_body(&mut ctx.req, BODY_LIMIT).await?;
            invite(&admin, input.validate()?).await
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
    let url = ctx
        .req
        .url()
        .map_err(|_| ApiError::bad_request("invalid_url", "Unreadable request URL"))?;
    let value = url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| {
            ApiError::bad_request(
                format!("missing_{name}"),
                format!("{} needs ?{name}=<uuid>", ctx.req.method()),
            )
        })?;
    parse_uuid(name, &value)
}

/// Makes a token, stores its hash and its envelope through `create_profile_invitation`, and
/// answers 201 with the link; 409 with the active invitation (and its link) when there is one
/// and `replace` is not set.
async fn invite(admin: &Admin, input: ValidInvitation) -> Result<Response, ApiError> {
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
    });
    let answer =
        Rest::run::<InvitationRecord>(admin.rest.rpc("create_profile_invitation", &args)).await?;
    match answer {
        Ok(created) => json_response(201, &created.with_token(token, &admin.link_base)),
        Err(e) if e.hint.as_deref() == Some("invitation_exists") => {
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

/// The profile's invitations, newest first; pending ones with their link.
async fn history(admin: &Admin, profile_id: Uuid) -> Result<Response, ApiError> {
    let args = json!({ "p_admin": admin.id, "p_profile_id": profile_id });
    let records: Vec<InvitationRecord> =
        Rest::run(admin.rest.rpc("list_profile_invitations", &args))
            .await?
            .map_err(|e| api_error(e, "listing invitations"))?;
    let views: Vec<InvitationView> = records.into_iter().map(|r| shown(admin, r)).collect();
    json_response(200, &views)
}

/// Revokes a pending invitation; its link answers 404 from then on.
async fn revoke(admin: &Admin, id: Uuid) -> Result<Response, ApiError> {
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
    view
}
