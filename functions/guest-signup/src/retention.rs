//! The retention job: deletes expired, never-upgraded guests (their visitor, their anonymous
//! account and, by cascade, everything they wrote) and idle rate-limit buckets. Run by the cron
//! trigger, and on demand with the service key (`POST /functions/v1/guest-signup/retention`).

use std::fmt;

use edge_http::ApiError;
use edge_worker::{Rest, SupabaseConfig};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Guests deleted per database call; each call is one short transaction.
const BATCH: u32 = 500;
/// At most this many batches per run, so one run stays well inside a cron invocation's time;
/// whatever is left goes on the next run.
const MAX_BATCHES: u32 = 20;

#[derive(Deserialize)]
struct PurgeBatch {
    deleted_user_ids: Vec<String>,
    deleted_visitors: u64,
    more: bool,
}

/// What one run removed.
#[derive(Debug, Default, Serialize)]
pub struct RetentionReport {
    pub deleted_guests: u64,
    pub deleted_visitors: u64,
    pub deleted_rate_limit_buckets: u64,
    /// True when the batch cap stopped the run before everything expired was gone.
    pub more: bool,
}

impl fmt::Display for RetentionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} guests, {} visitors, {} idle rate-limit buckets deleted{}",
            self.deleted_guests,
            self.deleted_visitors,
            self.deleted_rate_limit_buckets,
            if self.more {
                "; more left for the next run"
            } else {
                ""
            }
        )
    }
}

/// Runs `purge_expired_guests` until nothing expired is left (or the batch cap), then
/// `purge_idle_rate_limit_buckets`. Every deleted account id is logged: Auth's audit log does
/// not see these deletions.
pub async fn run_retention(config: &SupabaseConfig) -> Result<RetentionReport, ApiError> {
    let rest = Rest::as_service(config);
    let mut report = RetentionReport::default();
    for _ in 0..MAX_BATCHES {
        let request = rest.rpc("purge_expired_guests", &json!({ "p_limit": BATCH }));
        let batch: PurgeBatch = Rest::run(request)
            .await?
            .map_err(|e| e.unexpected("purging expired guests"))?;
        if !batch.deleted_user_ids.is_empty() {
            worker::console_log!(
                "retention: deleted expired guest accounts {}",
                batch.deleted_user_ids.join(",")
            );
        }
        report.deleted_guests += batch.deleted_user_ids.len() as u64;
        report.deleted_visitors += batch.deleted_visitors;
        report.more = batch.more;
        if !batch.more {
            break;
        }
    }
    let request = rest.rpc("purge_idle_rate_limit_buckets", &json!({}));
    report.deleted_rate_limit_buckets = Rest::run(request)
        .await?
        .map_err(|e| e.unexpected("purging idle rate-limit buckets"))?;
    Ok(report)
}
