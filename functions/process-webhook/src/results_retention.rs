//! Seed 002's "cleanup-old-results": deletes finished segmentation results older than
//! `RESULTS_RETENTION_DAYS` (default 90), in batches, keeping their usage rows for billing and
//! never touching a task still pending or processing (see
//! `supabase/migrations/20261201150100_results_retention.sql`). Run by the cron trigger, and on demand
//! with the service key (`POST /functions/v1/process-webhook/retention`).

use std::fmt;

use edge_http::ApiError;
use edge_worker::{Rest, SupabaseConfig, internal_error, optional_setting};
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::Env;

/// How long a finished result is kept when `RESULTS_RETENTION_DAYS` is not set.
pub const DEFAULT_KEEP_DAYS: u32 = 90;
/// Results deleted per database call; each call is one short transaction.
const BATCH: u32 = 1000;
/// At most this many calls per run; what is left goes on the next run.
const MAX_BATCHES: u32 = 20;

/// `RESULTS_RETENTION_DAYS` from the Worker's settings (default [`DEFAULT_KEEP_DAYS`]); a bad
/// value is the operator's error (500, logged).
pub fn configured_keep_days(env: &Env) -> Result<u32, ApiError> {
    parse_keep_days(optional_setting(env, "RESULTS_RETENTION_DAYS").as_deref())
        .map_err(|e| internal_error("reading RESULTS_RETENTION_DAYS", e))
}

/// Whole days, 1..=3650 (what the database function accepts).
fn parse_keep_days(setting: Option<&str>) -> Result<u32, String> {
    let Some(text) = setting else {
        return Ok(DEFAULT_KEEP_DAYS);
    };
    match text.trim().parse::<u32>() {
        Ok(days) if (1..=3650).contains(&days) => Ok(days),
        _ => Err(format!(
            "{text:?} is not a number of days between 1 and 3650"
        )),
    }
}

#[derive(Deserialize)]
struct PurgeBatch {
    deleted_results: u64,
    usage_rows_kept: u64,
    more: bool,
}

/// What one run removed (the on-demand route's answer, the cron's log line).
#[derive(Debug, Default, Serialize)]
pub struct ResultsRetentionReport {
    pub keep_days: u32,
    pub deleted_results: u64,
    /// Usage rows of the deleted results, kept (with the result's id in their metadata).
    pub usage_rows_kept: u64,
    /// True when the batch cap stopped the run before everything old was gone.
    pub more: bool,
}

impl fmt::Display for ResultsRetentionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} finished results older than {} days deleted, {} usage rows kept{}",
            self.deleted_results,
            self.keep_days,
            self.usage_rows_kept,
            if self.more {
                "; more left for the next run"
            } else {
                ""
            }
        )
    }
}

/// Calls `purge_old_segmentation_results` until nothing old is left (or the batch cap).
pub async fn purge_old_results(
    config: &SupabaseConfig,
    keep_days: u32,
) -> Result<ResultsRetentionReport, ApiError> {
    let rest = Rest::as_service(config);
    let mut report = ResultsRetentionReport {
        keep_days,
        ..Default::default()
    };
    for _ in 0..MAX_BATCHES {
        let args = json!({ "p_keep_days": keep_days, "p_limit": BATCH });
        let batch: PurgeBatch = Rest::run(rest.rpc("purge_old_segmentation_results", &args))
            .await?
            .map_err(|e| e.unexpected("purging old segmentation results"))?;
        report.deleted_results += batch.deleted_results;
        report.usage_rows_kept += batch.usage_rows_kept;
        report.more = batch.more;
        if !batch.more {
            break;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_is_whole_days_within_the_database_bounds() {
        assert_eq!(parse_keep_days(None), Ok(90));
        assert_eq!(parse_keep_days(Some("30")), Ok(30));
        assert_eq!(parse_keep_days(Some(" 3650 ")), Ok(3650));
        for bad in ["0", "3651", "-1", "ninety", "1.5", ""] {
            assert!(parse_keep_days(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_log_line_says_what_was_kept() {
        let report = ResultsRetentionReport {
            keep_days: 90,
            deleted_results: 4,
            usage_rows_kept: 3,
            more: true,
        };
        assert_eq!(
            report.to_string(),
            "4 finished results older than 90 days deleted, 3 usage rows kept; more left for the next run"
        );
    }
}
