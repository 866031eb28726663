//! The cron's lease expiry (every minute): `expire_segmentation_leases` puts tasks whose lease
//! ran out back in the queue and ends those out of attempts or never claimed in time
//! (`TASK_MAX_ATTEMPTS`, `TASK_PENDING_TIMEOUT`). Every claim runs it too.

use std::fmt;

use edge_http::ApiError;
use edge_worker::{Rest, SupabaseConfig};
use serde::Deserialize;
use serde_json::json;

use crate::task_settings::TaskLimits;

#[derive(Debug, Deserialize)]
pub struct ExpiryReport {
    requeued: u64,
    failed: u64,
    timed_out: u64,
}

impl fmt::Display for ExpiryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tasks back in the queue, {} out of attempts, {} timed out",
            self.requeued, self.failed, self.timed_out
        )
    }
}

pub async fn expire_leases(
    config: &SupabaseConfig,
    limits: TaskLimits,
) -> Result<ExpiryReport, ApiError> {
    let args = json!({
        "p_max_attempts": limits.max_attempts,
        "p_pending_timeout_seconds": limits.pending_timeout_secs,
    });
    Rest::run(Rest::as_service(config).rpc("expire_segmentation_leases", &args))
        .await?
        .map_err(|e| e.unexpected("expiring task leases"))
}
