//! `POST /guest-signup/link`: seed 001's cross-device visitors. A person was a guest on this
//! device (guest-signup gave it an anonymous session and a visitor) and now signs in to their
//! full account here. The app sends the new session (`Authorization: Bearer`) and the guest
//! access token the device held before signing in (`{"guest_access_token": "…"}`); this links
//! the device's visitor to the account (`linked_by = 'sign_in'`), merges it with the account's
//! other visitors (`linked_visitor_ids`, `merge_notes`) and stamps `last_login_at`/`last_ip`,
//! in one transaction (`rpc/link_signed_in_device`, service key).
//!
//! Both tokens are verified here: the bearer must be a full account, the body's token a guest
//! of this project; holding the guest token is the proof that the caller holds that visitor
//! (a visitor id alone is not a secret).

use edge_http::{ApiError, BodyLimit};
use edge_worker::{
    Answer, RequestContext, Rest, authenticate, json_response, read_json_body, refusals,
    verify_access_token,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::client_network::client_ip;

refusals! {
    /// What `link_signed_in_device` refuses on purpose (`PT404`, `PT409`); answered with this
    /// function's own messages, which say what the app can do.
    enum LinkRefusal {
        VisitorNotFound = "visitor_not_found",
        VisitorLinkedElsewhere = "visitor_linked_elsewhere",
        AccountNotFound = "account_not_found",
    }
}

/// One access token and nothing else.
const BODY_LIMIT: BodyLimit = BodyLimit::new(8 * 1024);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    guest_access_token: String,
}

/// The 200 answer: what `link_signed_in_device` returns.
#[derive(Deserialize, Serialize)]
struct LinkedDevice {
    visitor_id: Uuid,
    user_id: Uuid,
    linked_by: String,
    linked_at: String,
    already_linked: bool,
    linked_visitor_ids: Vec<Uuid>,
}

pub async fn link_device(ctx: &mut RequestContext) -> Result<Answer, ApiError> {
    let account = authenticate(ctx).await?.caller;
    if account.is_anonymous {
        return Err(ApiError::forbidden(
            "guest_not_allowed",
            "Sign in to a full account first: a guest session cannot take another device's visitor",
        ));
    }
    let body: LinkRequest = read_json_body(&mut ctx.req, BODY_LIMIT).await?;
    let guest = verify_access_token(ctx, body.guest_access_token.trim())
        .await
        .map_err(|e| {
            if e.status() >= 500 {
                // The project's signing keys could not be read: not the token's fault.
                return e;
            }
            ApiError::bad_request(
                "invalid_guest_token",
                format!("guest_access_token was refused: {}", e.message()),
            )
        })?;
    if !guest.is_anonymous {
        return Err(ApiError::bad_request(
            "invalid_guest_token",
            "guest_access_token is not a guest (anonymous) session",
        ));
    }

    let args = json!({
        "p_user_id": account.user_id,
        "p_guest_user_id": guest.user_id,
        "p_ip": client_ip(ctx.req.header("cf-connecting-ip").as_deref()).map(|ip| ip.to_string()),
    });
    let request = Rest::as_service(&ctx.config).rpc("link_signed_in_device", &args);
    match Rest::run::<LinkedDevice>(request).await? {
        Ok(linked) => json_response(200, &linked),
        Err(e) => Err(match e.refusal() {
            Some(LinkRefusal::VisitorNotFound) => ApiError::new(
                404,
                "visitor_not_found",
                "This guest session has no visitor (it was not made by guest-signup, or it expired)",
            ),
            Some(LinkRefusal::VisitorLinkedElsewhere) => ApiError::conflict(
                "visitor_linked_elsewhere",
                "This device's visitor already belongs to another account",
            ),
            Some(LinkRefusal::AccountNotFound) => ApiError::new(
                404,
                "account_not_found",
                "The signed-in account has no profile",
            ),
            None => e.unexpected("linking a device's visitor"),
        }),
    }
}
