//! The inference backend's request to any of this function's routes (the webhook, `/claim`,
//! `/extend`): the body read within a limit, then the sender authenticated over its raw bytes
//! with the credentials the webhook accepts (`X-API-Key` or a Standard Webhooks signature).

use std::cell::RefCell;
use std::rc::Rc;

use edge_crypto::WebhookHeaders;
use edge_http::{ApiError, BodyLimit};
use edge_worker::{RequestContext, internal_error, now, once_per_isolate, optional_setting};

use crate::sender_auth::{AuthenticatedDelivery, PresentedCredentials, SenderCredentials};

thread_local! {
    /// `WEBHOOK_API_KEYS` and `WEBHOOK_SECRETS`, parsed (keys hashed, secrets decoded) once.
    static CREDENTIALS: RefCell<Option<Rc<SenderCredentials>>> = const { RefCell::new(None) };
}

/// The raw body (at most `limit`) of a request whose sender proved itself, and the delivery's id.
pub async fn authenticated_body(
    ctx: &mut RequestContext,
    limit: BodyLimit,
) -> Result<(Vec<u8>, AuthenticatedDelivery), ApiError> {
    let credentials = once_per_isolate(&CREDENTIALS, || {
        SenderCredentials::from_settings(
            optional_setting(&ctx.env, "WEBHOOK_API_KEYS").as_deref(),
            optional_setting(&ctx.env, "WEBHOOK_SECRETS").as_deref(),
        )
        .map_err(|e| internal_error("reading the webhook credentials", e))
    })?;

    let bytes = ctx.req.read_body(limit).await?;

    // The signature covers the exact bytes received, so it is checked before parsing.
    let [api_key, idempotency_key, id, timestamp, signature] = [
        "x-api-key",
        "idempotency-key",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    ]
    .map(|name| ctx.req.header(name));
    let presented = PresentedCredentials {
        api_key: api_key.as_deref(),
        idempotency_key: idempotency_key.as_deref(),
        webhook: WebhookHeaders {
            id: id.as_deref(),
            timestamp: timestamp.as_deref(),
            signature: signature.as_deref(),
        },
    };
    let delivery = credentials.authenticate(presented, &bytes, now().as_secs())?;
    Ok((bytes, delivery))
}
