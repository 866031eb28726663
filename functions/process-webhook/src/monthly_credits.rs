//! Seed 001's levels carry their limits: each level's `monthly_credits` is granted once per
//! calendar month (`grant_monthly_credits`, see `supabase/migrations/20261201150400_level_plans.sql`).
//! The cron trigger calls it every run; the database grants each account at most once a month,
//! so only the first run of a month does work.

use std::fmt;

use edge_http::ApiError;
use edge_worker::{Rest, SupabaseConfig};
use serde::Deserialize;
use serde_json::json;

/// Accounts per database call; each call is one short transaction.
const BATCH: u32 = 1000;
/// At most this many calls per run; the rest go on the next (hourly) run.
const MAX_BATCHES: u32 = 20;

#[derive(Deserialize)]
struct GrantBatch {
    granted_accounts: u64,
    more: bool,
}

/// How many accounts one run topped up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthlyGrant(pub u64);

impl fmt::Display for MonthlyGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} accounts given this month's credits", self.0)
    }
}

pub async fn grant_monthly_credits(config: &SupabaseConfig) -> Result<MonthlyGrant, ApiError> {
    let rest = Rest::as_service(config);
    let mut granted = MonthlyGrant(0);
    for _ in 0..MAX_BATCHES {
        let args = json!({ "p_limit": BATCH });
        let batch: GrantBatch = Rest::run(rest.rpc("grant_monthly_credits", &args))
            .await?
            .map_err(|e| e.unexpected("granting monthly credits"))?;
        granted.0 += batch.granted_accounts;
        if !batch.more {
            break;
        }
    }
    Ok(granted)
}
