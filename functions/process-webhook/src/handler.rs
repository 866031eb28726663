//! POST: size limit, sender authentication over the raw body, validation, then one RPC.
//! POST /retention: the results retention job on demand, with the service key.
//! POST /claim, /extend: the backend's task leases (crate::claim, crate::extend).

use edge_auth::ApiKeyKind;
use edge_http::{ApiError, BodyLimit};
use edge_worker::{Answer, RequestContext, Rest, json_response, require_api_key, sub_path};
use serde_json::{Map, Value, json};

use crate::apply_outcome::{WebhookOutcome, known_refusal};
use crate::results_retention::{configured_keep_days, purge_old_results};
use crate::sender_request::authenticated_body;
use crate::webhook_body::{ValidWebhook, parse_webhook};

/// A result is a mask URL, labels and metadata: 256 KiB leaves room for many labels while a
/// runaway sender is refused before its body is parsed.
const BODY_LIMIT: BodyLimit = BodyLimit::new(256 * 1024);

pub async fn route(ctx: RequestContext) -> Result<Answer, ApiError> {
    let path = ctx.req.path();
    match sub_path(path, crate::SPEC.name).trim_end_matches('/') {
        "" => receive(ctx).await,
        "/claim" => crate::claim::claim(ctx).await,
        "/extend" => crate::extend::extend(ctx).await,
        "/retention" => {
            require_api_key(&ctx, ApiKeyKind::Secret)?;
            let keep = configured_keep_days(&ctx.env)?;
            json_response(200, &purge_old_results(&ctx.config, keep).await?)
        }
        other => Err(ApiError::not_found(format!(
            "No process-webhook route {other}"
        ))),
    }
}

async fn receive(mut ctx: RequestContext) -> Result<Answer, ApiError> {
    let (body, delivery) = authenticated_body(&mut ctx, BODY_LIMIT).await?;
    let webhook = parse_webhook(&body)?;
    let outcome = apply(&ctx, &webhook, delivery.delivery_id.as_deref()).await?;
    worker::console_log!(
        "{} delivery {} via {:?}: task {} {} -> {}{}{}",
        ctx.request_id,
        delivery.delivery_id.as_deref().unwrap_or("(no id)"),
        delivery.method,
        outcome.task_id,
        outcome.status,
        outcome.outcome,
        if outcome.charged { ", charged" } else { "" },
        if outcome.replayed { ", replayed" } else { "" },
    );
    json_response(200, &outcome)
}

/// Applies the delivery in one transaction (`apply_segmentation_webhook`, service role only).
async fn apply(
    ctx: &RequestContext,
    webhook: &ValidWebhook,
    delivery_id: Option<&str>,
) -> Result<WebhookOutcome, ApiError> {
    let request = Rest::as_service(&ctx.config).rpc(
        "apply_segmentation_webhook",
        &rpc_args(webhook, delivery_id),
    );
    Rest::run(request).await?.map_err(|e| {
        if e.status == 400 {
            worker::console_error!(
                "{} the database refused a validated webhook: {} {}",
                ctx.request_id,
                e.code,
                e.message
            );
        }
        known_refusal(&e).unwrap_or_else(|| e.unexpected("applying a webhook"))
    })
}

/// The RPC's named arguments; absent fields are left out, so the function's defaults apply.
fn rpc_args(webhook: &ValidWebhook, delivery_id: Option<&str>) -> Value {
    let mut args = Map::new();
    args.insert("p_task_id".into(), json!(webhook.task_id));
    args.insert("p_status".into(), json!(webhook.status.as_str()));
    let optional = [
        ("p_delivery_id", delivery_id.map(|id| json!(id))),
        ("p_mask_url", webhook.mask_url.as_ref().map(|u| json!(u))),
        ("p_labels", webhook.labels.as_ref().map(|l| json!(l))),
        ("p_metadata", webhook.metadata.as_ref().map(|m| json!(m))),
        ("p_credits_used", webhook.credits_used.map(|c| json!(c))),
        ("p_error", webhook.error.as_ref().map(|e| json!(e))),
        ("p_mask_path", webhook.mask_path.as_ref().map(|p| json!(p))),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            args.insert(name.into(), value);
        }
    }
    Value::Object(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook_body::ReportedStatus;

    #[test]
    fn rpc_args_leave_out_absent_fields() {
        let webhook = ValidWebhook {
            task_id: uuid::Uuid::nil(),
            status: ReportedStatus::Done,
            mask_url: Some("https://m.io/a.png".into()),
            mask_path: Some("u/t.png".into()),
            labels: None,
            metadata: Some(Map::from_iter([("model".into(), json!("sam2"))])),
            credits_used: Some(2),
            error: None,
        };
        assert_eq!(
            rpc_args(&webhook, Some("msg_1")),
            json!({
                "p_task_id": "00000000-0000-0000-0000-000000000000",
                "p_status": "done",
                "p_delivery_id": "msg_1",
                "p_mask_url": "https://m.io/a.png",
                "p_metadata": {"model": "sam2"},
                "p_credits_used": 2,
                "p_mask_path": "u/t.png",
            })
        );
        let bare = ValidWebhook {
            status: ReportedStatus::Processing,
            mask_url: None,
            mask_path: None,
            metadata: None,
            credits_used: None,
            ..webhook
        };
        assert_eq!(
            rpc_args(&bare, None),
            json!({"p_task_id": "00000000-0000-0000-0000-000000000000", "p_status": "processing"})
        );
    }
}
