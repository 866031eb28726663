//! The all-in-one Worker (top-level `wrangler.toml`): every function behind one route,
//! `https://<host>/functions/v1/<name>`, the URL shape supabase-js `functions.invoke()` uses.
//! Each function is also deployable as a Worker of its own (its crate's `standalone` feature).
#![forbid(unsafe_code)]

use edge_http::{ApiError, Cors};
use edge_worker::{Answer, IncomingRequest};
use worker::{Context, Env, event, web_sys};

/// The runtime's request is taken as it comes (see [`IncomingRequest`]) and read once, here,
/// for every function.
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    let req = IncomingRequest::new(req);
    match function_name(req.path()) {
        Some(name) if name == save_connection::SPEC.name => {
            save_connection::handle(req, env, ctx).await
        }
        Some(name) if name == tenant_proxy::SPEC.name => tenant_proxy::handle(req, env, ctx).await,
        Some(name) if name == create_invitation::SPEC.name => {
            create_invitation::handle(req, env, ctx).await
        }
        Some(name) if name == accept_invitation::SPEC.name => {
            accept_invitation::handle(req, env, ctx).await
        }
        Some(name) if name == process_webhook::SPEC.name => {
            process_webhook::handle(req, env, ctx).await
        }
        Some(name) if name == guest_signup::SPEC.name => guest_signup::handle(req, env, ctx).await,
        _ => not_found(req.path()),
    }
}

/// The cron that only retries invitation e-mails (`wrangler.toml`'s `[triggers]`).
const EMAIL_RETRY_CRON: &str = "*/5 * * * *";

/// The cron triggers of `wrangler.toml`: process-webhook's task lease expiry alone on the
/// every-minute one; invitation e-mail retries on every other; the retention jobs of
/// guest-signup and process-webhook on the hourly one.
#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let cron = event.cron();
    if cron == process_webhook::LEASE_EXPIRY_CRON {
        process_webhook::scheduled_lease_expiry(&env).await;
        return;
    }
    create_invitation::scheduled_email_retry(&env).await;
    if cron != EMAIL_RETRY_CRON {
        guest_signup::scheduled_retention(&env).await;
        process_webhook::scheduled_retention(&env).await;
    }
}

/// `/functions/v1/<name>[/…]` → `<name>`.
fn function_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/functions/v1/")?;
    rest.split('/').next().filter(|name| !name.is_empty())
}

/// Supabase's answer for an unknown function, in this project's error shape, with CORS so a
/// browser can read it.
fn not_found(path: &str) -> worker::Result<web_sys::Response> {
    let error = ApiError::new(
        404,
        "function_not_found",
        format!("No function is served at {path}"),
    );
    let mut answer = Answer::error(&error);
    answer.set_headers(Cors::new(&["GET", "POST"]).headers());
    answer.into_response()
}
