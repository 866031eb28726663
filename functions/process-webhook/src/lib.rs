//! process-webhook: the inference backend reports a segmentation task's progress. The function
//! authenticates the sender (`X-API-Key` or a Standard Webhooks signature), validates the body
//! strictly, and applies it through one Postgres function that stores the result and charges
//! credits exactly once, however often and in whatever order deliveries arrive. Its cron
//! trigger forgets old delivery ids, deletes finished results older than
//! `RESULTS_RETENTION_DAYS` (also on demand: `POST /process-webhook/retention` with the service
//! key) and grants each level's monthly credits. The backend takes tasks with a lease
//! (`/claim`, `/extend`); the cron's every-minute trigger expires the leases that ran out.
#![forbid(unsafe_code)]

mod api_keys;
mod apply_outcome;
mod claim;
mod delivery_retention;
mod extend;
mod handler;
mod lease_expiry;
mod monthly_credits;
mod results_retention;
mod sender_auth;
mod sender_request;
mod task_files;
mod task_settings;
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

/// The cron that expires task leases (`wrangler.toml`), every minute.
pub const LEASE_EXPIRY_CRON: &str = "* * * * *";

/// The every-minute cron's work: tasks whose lease ran out go back to the queue or end.
pub async fn scheduled_lease_expiry(env: &Env) {
    let limits = task_settings::TaskLimits::from_env(env);
    edge_worker::run_scheduled(env, "task lease expiry", |config| async move {
        lease_expiry::expire_leases(&config, limits?).await
    })
    .await;
}

/// This function's cron triggers when it is deployed on its own: the lease expiry on its
/// every-minute trigger, the retention jobs on the others.
pub async fn scheduled(cron: &str, env: &Env) {
    if cron == LEASE_EXPIRY_CRON {
        scheduled_lease_expiry(env).await;
    } else {
        scheduled_retention(env).await;
    }
}

edge_worker::standalone_worker!(handle);

#[cfg(feature = "standalone")]
#[worker::event(scheduled)]
async fn standalone_scheduled(
    event: worker::ScheduledEvent,
    env: Env,
    _ctx: worker::ScheduleContext,
) {
    scheduled(&event.cron(), &env).await;
}
