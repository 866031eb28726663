//! Forgets delivery ids older than 30 days, run by the cron trigger. Safe for exactly-once
//! charging: a late repeat of a forgotten delivery finds its task already `done` and charges
//! nothing (see `supabase/migrations/20261123000100_webhook_delivery_retention.sql`).

use edge_http::ApiError;
use edge_worker::{Rest, SupabaseConfig};
use serde_json::json;

/// How long a delivery id is remembered.
pub const KEEP_DAYS: u32 = 30;
/// Rows deleted per database call; each call is one short transaction.
const BATCH: u64 = 5000;
/// At most this many calls per run; what is left goes on the next run.
const MAX_BATCHES: u32 = 20;

/// Deletes deliveries older than [`KEEP_DAYS`]; returns how many.
pub async fn purge_old_deliveries(config: &SupabaseConfig) -> Result<PurgedDeliveries, ApiError> {
    let rest = Rest::as_service(config);
    let mut purged = PurgedDeliveries(0);
    for _ in 0..MAX_BATCHES {
        let args = json!({ "p_keep_days": KEEP_DAYS, "p_limit": BATCH });
        let deleted: u64 = Rest::run(rest.rpc("purge_old_webhook_deliveries", &args))
            .await?
            .map_err(|e| e.unexpected("purging old webhook deliveries"))?;
        purged.0 += deleted;
        if deleted < BATCH {
            break;
        }
    }
    Ok(purged)
}

/// How many delivery ids one run forgot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgedDeliveries(pub u64);

impl std::fmt::Display for PurgedDeliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} webhook deliveries older than {KEEP_DAYS} days deleted",
            self.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_line_says_what_was_kept() {
        assert_eq!(
            PurgedDeliveries(3).to_string(),
            "3 webhook deliveries older than 30 days deleted"
        );
    }
}
