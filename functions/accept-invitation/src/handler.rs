//! GET (preview) and POST (accept) of an invitation, by its token.

use edge_crypto::hash_token;
use edge_http::{ApiError, BodyLimit};
use edge_worker::{Answer, RequestContext, Rest, json_response, read_json_body};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use worker::Method;

use crate::accept_input::{AcceptInput, check_password, check_token};
use crate::auth_admin;
use crate::invitation_rpc_error::api_error;
use crate::inviter_notice::{AcceptanceNotice, notify_inviter_after_answer};

/// A token and a password: well under a kilobyte.
const BODY_LIMIT: BodyLimit = BodyLimit::new(2 * 1024);

/// What the register page shows: the address the account will get and whose record it claims.
#[derive(Debug, Serialize, Deserialize)]
struct Preview {
    email: String,
    expires_at: String,
    profile: ProfileName,
}

#[derive(Debug, Serialize, Deserialize)]
struct ProfileName {
    first_name: String,
    last_name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Accepted {
    user_id: Uuid,
    profile_id: Uuid,
    email: String,
}

/// What `accept_profile_invitation_with_notice` returns: the acceptance, and what to tell the
/// inviter (null when nobody is left to tell).
#[derive(Debug, Deserialize)]
struct AcceptedWithNotice {
    #[serde(flatten)]
    accepted: Accepted,
    notice: Option<AcceptanceNotice>,
}

pub async fn route(mut ctx: RequestContext) -> Result<Answer, ApiError> {
    // The token is the credential; the service role finds the invitation by the token's hash.
    let rest = Rest::as_service(&ctx.config);
    match ctx.req.method() {
        Method::Get => {
            let token = query_token(&ctx)?;
            let preview = preview(&rest, &hash_token(&token)).await?;
            json_response(200, &preview)
        }
        Method::Post => {
            let input: AcceptInput = read_json_body(&mut ctx.req, BODY_LIMIT).await?;
            check_token(&input.token)?;
            accept(&ctx, &rest, input).await
        }
        _ => Err(ApiError::internal()),
    }
}

fn query_token(ctx: &RequestContext) -> Result<String, ApiError> {
    let token = ctx.req.required_query("token", "<token>")?;
    check_token(&token)?;
    Ok(token)
}

async fn preview(rest: &Rest, token_hash: &str) -> Result<Preview, ApiError> {
    let args = json!({ "p_token_hash": token_hash });
    Rest::run(rest.rpc("preview_profile_invitation", &args))
        .await?
        .map_err(|e| api_error(e, "previewing an invitation"))
}

/// Preview (so an unusable link creates nothing), check the password, create the account, link
/// it in one transaction that also reads the inviter's notice; if linking fails or cannot be
/// confirmed, delete the account again. Three round trips: the notice's e-mail goes after the
/// answer. Of concurrent accepts of one token only one can create the account (the address is
/// unique in Supabase Auth); the others get 409 `email_taken`, or 410 once the first has
/// committed.
async fn accept(ctx: &RequestContext, rest: &Rest, input: AcceptInput) -> Result<Answer, ApiError> {
    let token_hash = hash_token(&input.token);
    let invitation = preview(rest, &token_hash).await?;
    check_password(&input.password, &invitation.email)?;
    let user_id = auth_admin::create_user(&ctx.config, &invitation.email, &input.password).await?;

    let args = json!({ "p_token_hash": token_hash, "p_user_id": user_id });
    let linked = match Rest::run::<AcceptedWithNotice>(
        rest.rpc("accept_profile_invitation_with_notice", &args),
    )
    .await
    {
        Ok(Ok(AcceptedWithNotice { accepted, notice })) => {
            if let Some(notice) = notice {
                notify_inviter_after_answer(ctx, notice);
            }
            return json_response(201, &accepted);
        }
        Ok(Err(e)) => api_error(e, "accepting an invitation"),
        Err(e) => e,
    };
    if let Err(e) = edge_worker::delete_auth_user(&ctx.config, user_id).await {
        worker::console_error!(
            "{} could not delete account {user_id} after a failed acceptance; delete it by hand: {e}",
            ctx.request_id
        );
    }
    Err(linked)
}
