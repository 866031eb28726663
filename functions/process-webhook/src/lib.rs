//! process-webhook: the inference backend reports a segmentation task's progress. The function
//! authenticates the sender (`X-API-Key` or a Standard Webhooks signature), validates the body
//! strictly, and applies it through one Postgres function that stores the result and charges
//! credits exactly once, however often and in whatever order deliveries arrive. Its cron
//! trigger forgets old delivery ids, deletes finished results older than
//! `RESULTS_RETENTION_DAYS` (also on demand: `POST /process-webhook/retention` with the service
//! key) and grants each level's monthly credits.
#![forbid(unsafe_code)]

mod api_keys;
mod apply_outcome;
mod delivery_retention;
mod handler;
mod monthly_credits;
mod results_retention;
mod sender_auth;
mod webhook_body;

pub use api_keys::{ApiKeyList, InvalidApiKeyList};
pub use apply_outcome::WebhookOutcome;
pub use sender_auth::{AuthMethod, AuthenticatedDelivery, PresentedCredentials, SenderCredentials};
pub use webhook_body::{ReportedStatus, ValidWebhook, WebhookInput, parse_webhook};

use edge_worker::{FunctionSpec, IncomingRequest};
use worker::{Context, Env, web_sys};

pub const SPEC: FunctionSpec = FunctionSpec {
    name: "process-webhook",
    methods: &["POST"],
    extra_request_headers: &[
        "x-api-key",
        "idempotency-key",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    ],
    exposed_headers: &[],
};

/// Answers one request to `/functions/v1/process-webhook[/retention]`.
pub async fn handle(
    req: IncomingRequest,
    env: Env,
    ctx: Context,
) -> worker::Result<web_sys::Response> {
    edge_worker::serve(req, env, ctx, &SPEC, handler::route).await
}

/// The cron trigger's work, each job's outcome logged: forget old delivery ids, delete old
/// finished results, grant the month's credits.
pub async fn scheduled_retention(env: &Env) {
    edge_worker::run_scheduled(env, "webhook delivery retention", |config| async move {
        delivery_retention::purge_old_deliveries(&config).await
    })
    .await;
    let keep_days = results_retention::configured_keep_days(env);
    edge_worker::run_scheduled(env, "results retention", |config| async move {
        results_retention::purge_old_results(&config, keep_days?).await
    })
    .await;
    edge_worker::run_scheduled(env, "monthly credits", |config| async move {
        monthly_credits::grant_monthly_credits(&config).await
    })
    .await;
}

edge_worker::standalone_worker!(handle, scheduled: scheduled_retention);
