//! guest-signup (seeds 000 and 001): every visitor gets a real Supabase Auth anonymous session
//! and a `visitor` record (device, OS and browser from the User-Agent, referrer host, UTM tags,
//! IP and country from Cloudflare), rate-limited per client IP; the guest later upgrades with
//! `supabase.auth.updateUser({email, password})`, keeping its id; signing in to a full account
//! on a guest's device links that device's visitor to the account (`/link`). A scheduled
//! handler deletes expired, never-upgraded guests.
#![forbid(unsafe_code)]

mod auth_api;
mod client_network;
mod device_link;
mod handler;
mod rate_limit;
mod retention;
mod signup_input;
mod user_agent;
mod visitor_record;

pub use rate_limit::{SignupRateLimit, bucket_key};
pub use retention::{RetentionReport, run_retention};
pub use signup_input::{ReportedVisit, SignupInput};
pub use user_agent::{DeviceProfile, parse_user_agent};

use edge_worker::{FunctionSpec, IncomingRequest};
use worker::{Context, Env, web_sys};

pub const SPEC: FunctionSpec = FunctionSpec {
    name: "guest-signup",
    methods: &["POST"],
    extra_request_headers: &[],
    exposed_headers: &["retry-after"],
};

/// Answers one request to `/functions/v1/guest-signup[/retention|/link]`.
pub async fn handle(
    req: IncomingRequest,
    env: Env,
    ctx: Context,
) -> worker::Result<web_sys::Response> {
    edge_worker::serve(req, env, ctx, &SPEC, handler::route).await
}

/// The cron trigger's work: the retention job, its outcome logged.
pub async fn scheduled_retention(env: &Env) {
    edge_worker::run_scheduled(env, "guest retention", |config| async move {
        run_retention(&config).await
    })
    .await;
}

edge_worker::standalone_worker!(handle, scheduled: scheduled_retention);
