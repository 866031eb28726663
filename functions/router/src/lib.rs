//! The all-in-one Worker (top-level `wrangler.toml`): every function behind one route,
//! `https://<host>/functions/v1/<name>`, the URL shape supabase-js `functions.invoke()` uses.
//! Each function is also deployable as a Worker of its own (its crate's `standalone` feature).
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::Pin;

use edge_http::{ApiError, Cors};
use edge_worker::{Answer, FunctionSpec, IncomingRequest};
use worker::{Context, Env, event, web_sys};

/// A function the all-in-one Worker serves: its spec (name, methods, CORS) and its entry.
pub struct Function {
    pub spec: &'static FunctionSpec,
    handle: fn(
        IncomingRequest,
        Env,
        Context,
    ) -> LocalBoxFuture<'static, worker::Result<web_sys::Response>>,
}

/// A function's or a job's future (the runtime is single-threaded: not `Send`).
type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A function crate's entry in [`FUNCTIONS`]: its `SPEC` and its `handle`.
macro_rules! served {
    ($function:ident) => {
        Function {
            spec: &$function::SPEC,
            handle: |req, env, ctx| Box::pin($function::handle(req, env, ctx)),
        }
    };
}

/// Every function, once: the router serves these, `openapi_tests` checks `docs/openapi.json`
/// describes exactly these.
pub static FUNCTIONS: [Function; 6] = [
    served!(save_connection),
    served!(tenant_proxy),
    served!(process_webhook),
    served!(create_invitation),
    served!(accept_invitation),
    served!(guest_signup),
];

/// The runtime's request is taken as it comes (see [`IncomingRequest`]) and read once, here,
/// for every function.
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    let req = IncomingRequest::new(req);
    let served = function_name(req.path())
        .and_then(|name| FUNCTIONS.iter().find(|function| function.spec.name == name));
    match served {
        Some(function) => (function.handle)(req, env, ctx).await,
        None => not_found(req.path()),
    }
}

/// A job a cron trigger runs.
type Job = for<'a> fn(&'a Env) -> LocalBoxFuture<'a, ()>;

fn email_retry(env: &Env) -> LocalBoxFuture<'_, ()> {
    Box::pin(create_invitation::scheduled_email_retry(env))
}

fn guest_retention(env: &Env) -> LocalBoxFuture<'_, ()> {
    Box::pin(guest_signup::scheduled_retention(env))
}

fn webhook_retention(env: &Env) -> LocalBoxFuture<'_, ()> {
    Box::pin(process_webhook::scheduled_retention(env))
}

fn lease_expiry(env: &Env) -> LocalBoxFuture<'_, ()> {
    Box::pin(process_webhook::scheduled_lease_expiry(env))
}

/// Each cron trigger and its jobs, in order: `wrangler.toml`'s `[triggers] crons` are exactly
/// these (checked by a unit test). Task lease expiry runs alone on the every-minute trigger.
static SCHEDULES: [(&str, &[Job]); 3] = [
    (
        "23 * * * *",
        &[email_retry, guest_retention, webhook_retention],
    ),
    ("*/5 * * * *", &[email_retry]),
    (process_webhook::LEASE_EXPIRY_CRON, &[lease_expiry]),
];

#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let cron = event.cron();
    let Some((_, jobs)) = SCHEDULES.iter().find(|(schedule, _)| *schedule == cron) else {
        worker::console_error!("no jobs for the cron trigger {cron}");
        return;
    };
    for job in *jobs {
        job(&env).await;
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

#[cfg(test)]
mod openapi_tests;

#[cfg(test)]
mod tests {
    use super::SCHEDULES;

    /// `wrangler.toml`'s top-level `crons = [...]` (under `[triggers]`), read as written.
    fn configured_crons() -> Vec<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../wrangler.toml");
        let text = std::fs::read_to_string(path).expect("wrangler.toml is readable");
        let triggers = text
            .split("\n[triggers]\n")
            .nth(1)
            .expect("wrangler.toml has [triggers]");
        let line = triggers
            .lines()
            .find(|line| line.starts_with("crons = ["))
            .expect("[triggers] has crons");
        line.split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_configured_cron_has_its_jobs_and_no_schedule_is_unconfigured() {
        let scheduled: Vec<&str> = SCHEDULES.iter().map(|(cron, _)| *cron).collect();
        assert_eq!(configured_crons(), scheduled);
    }
}
