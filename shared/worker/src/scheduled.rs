//! Cron-triggered jobs: nobody awaits their answer, so the outcome goes to the log.

use std::fmt::Display;
use std::future::Future;

use edge_http::ApiError;
use worker::Env;

use crate::config::SupabaseConfig;

/// Runs `job` with the project's config from `env` and logs `<job_name>: <outcome>` or its
/// failure.
pub async fn run_scheduled<F, Fut, T>(env: &Env, job_name: &str, job: F)
where
    F: FnOnce(SupabaseConfig) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
    T: Display,
{
    let outcome = match SupabaseConfig::from_env(env) {
        Ok(config) => job(config).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(done) => worker::console_log!("{job_name}: {done}"),
        Err(e) => worker::console_error!("{job_name} failed: {} {}", e.code(), e.message()),
    }
}
