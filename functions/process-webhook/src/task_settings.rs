//! How long a task may wait and how often it is tried: `TASK_MAX_ATTEMPTS` (default 3) and
//! `TASK_PENDING_TIMEOUT` (default 24 h; `90s`, `30m`, `24h`, `7d` or plain seconds), read from
//! the Worker's settings and handed to the database's lease expiry.

use edge_http::ApiError;
use edge_worker::{internal_error, optional_setting};
use worker::Env;

pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
pub const DEFAULT_PENDING_TIMEOUT_SECS: u32 = 24 * 3600;

/// The expiry's two limits, within the bounds `expire_segmentation_leases` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskLimits {
    pub max_attempts: u32,
    pub pending_timeout_secs: u32,
}

impl TaskLimits {
    /// A bad value is the operator's error (500, logged), never a silent default.
    pub fn from_env(env: &Env) -> Result<Self, ApiError> {
        Self::parse(
            optional_setting(env, "TASK_MAX_ATTEMPTS").as_deref(),
            optional_setting(env, "TASK_PENDING_TIMEOUT").as_deref(),
        )
        .map_err(|e| internal_error("reading the task settings", e))
    }

    fn parse(max_attempts: Option<&str>, pending_timeout: Option<&str>) -> Result<Self, String> {
        let max_attempts = match max_attempts {
            None => DEFAULT_MAX_ATTEMPTS,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "TASK_MAX_ATTEMPTS {text:?} is not a number from 1 to 100"
                    ));
                }
            },
        };
        let pending_timeout_secs = match pending_timeout {
            None => DEFAULT_PENDING_TIMEOUT_SECS,
            Some(text) => parse_duration_secs(text)
                .filter(|secs| (60..=365 * 86400).contains(secs))
                .ok_or_else(|| {
                    format!("TASK_PENDING_TIMEOUT {text:?} is not a duration from 60s to 365d (e.g. 24h)")
                })?,
        };
        Ok(Self {
            max_attempts,
            pending_timeout_secs,
        })
    }
}

/// `90`, `90s`, `30m`, `24h` or `7d`, in seconds.
fn parse_duration_secs(text: &str) -> Option<u32> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return None,
    };
    digits.parse::<u32>().ok()?.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_durations() {
        assert_eq!(
            TaskLimits::parse(None, None),
            Ok(TaskLimits {
                max_attempts: 3,
                pending_timeout_secs: 86400
            })
        );
        for (text, secs) in [
            ("90", 90),
            ("90s", 90),
            ("30m", 1800),
            ("24h", 86400),
            (" 7d ", 604800),
        ] {
            assert_eq!(
                TaskLimits::parse(Some("5"), Some(text))
                    .map(|l| (l.max_attempts, l.pending_timeout_secs)),
                Ok((5, secs)),
                "{text}"
            );
        }
    }

    #[test]
    fn out_of_bounds_or_garbage_is_refused() {
        for attempts in ["0", "101", "-1", "three", ""] {
            assert!(
                TaskLimits::parse(Some(attempts), None).is_err(),
                "{attempts:?}"
            );
        }
        for timeout in ["59", "366d", "1w", "h", "1.5h", "-5m", "", "99999999999d"] {
            assert!(
                TaskLimits::parse(None, Some(timeout)).is_err(),
                "{timeout:?}"
            );
        }
    }
}
