//! `POST /process-webhook/claim`: the inference backend takes up to `max` pending tasks with a
//! lease of `lease_seconds`, waiting up to `wait_seconds` for one to be filed (long-poll). The
//! database picks the tasks (`claim_segmentation_tasks`: expiry first, then FOR UPDATE SKIP
//! LOCKED), so concurrent claims never share a task.

use std::time::Duration;

use edge_http::{ApiError, BodyLimit, parse_json_object};
use edge_worker::{Answer, RequestContext, Rest, json_response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::sender_request::authenticated_body;
use crate::task_files;
use crate::task_settings::TaskLimits;

/// Three small numbers; anything larger is not a claim.
const BODY_LIMIT: BodyLimit = BodyLimit::new(4 * 1024);
/// How often a waiting claim asks again: a task filed meanwhile is handed out within this, and
/// a 20 s wait costs at most 41 subrequests (under the Workers' limit of 50 per request).
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The request body; every field is optional (`{}` or no body at all claims one task for 300 s).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ClaimInput {
    max: Option<i64>,
    lease_seconds: Option<i64>,
    wait_seconds: Option<i64>,
}

/// A claim within bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimRequest {
    pub max: u32,
    pub lease_seconds: u32,
    pub wait_seconds: u32,
}

/// A task as `claim_segmentation_tasks` hands it out.
#[derive(Debug, Deserialize)]
pub struct LeasedTask {
    pub task_id: Uuid,
    pub text_prompt: Option<String>,
    pub source_image_url: Option<String>,
    /// The image's object in `images`, for a task filed after an upload.
    #[serde(default)]
    pub source_image_path: Option<String>,
    pub lease_expires_at: String,
    pub attempt: u32,
}

/// A task as the backend receives it (the contract in docs/openapi.json).
#[derive(Debug, Serialize)]
pub struct ClaimedTask {
    pub task_id: Uuid,
    pub text_prompt: Option<String>,
    /// Where to download the image.
    pub image_url: Option<String>,
    /// Where to PUT the mask (a signed upload URL in `masks`), when Storage holds the task's files.
    pub mask_upload_url: Option<String>,
    /// The mask's object name in `masks`, to report back as `mask_path`.
    pub mask_path: String,
    pub lease_expires_at: String,
    pub attempt: u32,
}

impl ClaimRequest {
    fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let input = if body.iter().all(u8::is_ascii_whitespace) {
            ClaimInput::default()
        } else {
            parse_json_object::<ClaimInput>(body)?
        };
        Ok(Self {
            max: bounded("max", input.max, 1, 1, 10)?,
            lease_seconds: bounded("lease_seconds", input.lease_seconds, 300, 30, 3600)?,
            wait_seconds: bounded("wait_seconds", input.wait_seconds, 0, 0, 20)?,
        })
    }
}

fn bounded(
    field: &str,
    value: Option<i64>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ApiError> {
    match value {
        None => Ok(default),
        Some(v) if (i64::from(min)..=i64::from(max)).contains(&v) => Ok(v as u32),
        Some(v) => Err(ApiError::bad_request(
            format!("invalid_{field}"),
            format!("{field} must be an integer from {min} to {max}, not {v}"),
        )),
    }
}

/// The object a task's mask goes to: the task's folder of `masks`, which the bucket's policy
/// opens to the task's owner.
pub fn mask_path(task: &LeasedTask) -> String {
    format!("{}/mask.png", task.task_id)
}

pub async fn claim(mut ctx: RequestContext) -> Result<Answer, ApiError> {
    let (body, _) = authenticated_body(&mut ctx, BODY_LIMIT).await?;
    let request = ClaimRequest::parse(&body)?;
    let limits = TaskLimits::from_env(&ctx.env)?;
    let deadline = now_millis() + f64::from(request.wait_seconds) * 1000.0;
    let leased = loop {
        let leased = claim_once(&ctx, request, limits).await?;
        let left = deadline - now_millis();
        if !leased.is_empty() || left <= 0.0 {
            break leased;
        }
        worker::Delay::from(POLL_INTERVAL.min(Duration::from_millis(left as u64))).await;
    };
    let tasks = with_signed_urls(&ctx, leased, request.lease_seconds).await?;
    if !tasks.is_empty() {
        worker::console_log!("{} claimed {} task(s)", ctx.request_id, tasks.len());
    }
    json_response(200, &json!({ "tasks": tasks }))
}

/// The Workers clock in milliseconds (it stands still while the Worker computes, and moves on
/// across awaited I/O and timers, which is all a waiting claim does).
fn now_millis() -> f64 {
    worker::js_sys::Date::now()
}

async fn claim_once(
    ctx: &RequestContext,
    request: ClaimRequest,
    limits: TaskLimits,
) -> Result<Vec<LeasedTask>, ApiError> {
    let args = json!({
        "p_max": request.max,
        "p_lease_seconds": request.lease_seconds,
        "p_max_attempts": limits.max_attempts,
        "p_pending_timeout_seconds": limits.pending_timeout_secs,
    });
    let answer: Value =
        Rest::run(Rest::as_service(&ctx.config).rpc("claim_segmentation_tasks", &args))
            .await?
            .map_err(|e| e.unexpected("claiming tasks"))?;
    serde_json::from_value(answer)
        .map_err(|e| edge_worker::internal_error("reading claimed tasks", e))
}

/// The tasks as handed out: a signed download URL for each uploaded image (one Storage request
/// for all of them) and a signed upload URL for each mask. A task filed with a URL keeps it.
async fn with_signed_urls(
    ctx: &RequestContext,
    leased: Vec<LeasedTask>,
    lease_seconds: u32,
) -> Result<Vec<ClaimedTask>, ApiError> {
    let paths: Vec<&str> = leased
        .iter()
        .filter_map(|t| t.source_image_path.as_deref())
        .collect();
    let mut downloads = task_files::sign_downloads(&ctx.config, &paths, lease_seconds)
        .await?
        .into_iter();
    let mut tasks = Vec::with_capacity(leased.len());
    for task in leased {
        let mask_path = mask_path(&task);
        let image_url = match task.source_image_path {
            Some(_) => downloads.next().flatten(),
            None => task.source_image_url,
        };
        tasks.push(ClaimedTask {
            mask_upload_url: Some(task_files::sign_mask_upload(&ctx.config, &mask_path).await?),
            mask_path,
            task_id: task.task_id,
            text_prompt: task.text_prompt,
            image_url,
            lease_expires_at: task.lease_expires_at,
            attempt: task.attempt,
        });
    }
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<ClaimRequest, (u16, String)> {
        ClaimRequest::parse(body.as_bytes()).map_err(|e| (e.status(), e.code().to_owned()))
    }

    #[test]
    fn defaults_and_bounds() {
        let defaults = ClaimRequest {
            max: 1,
            lease_seconds: 300,
            wait_seconds: 0,
        };
        assert_eq!(parse(""), Ok(defaults));
        assert_eq!(parse("{}"), Ok(defaults));
        assert_eq!(
            parse(r#"{"max":10,"lease_seconds":30,"wait_seconds":20}"#),
            Ok(ClaimRequest {
                max: 10,
                lease_seconds: 30,
                wait_seconds: 20
            })
        );
        for (body, code) in [
            (r#"{"max":0}"#, "invalid_max"),
            (r#"{"max":11}"#, "invalid_max"),
            (r#"{"lease_seconds":29}"#, "invalid_lease_seconds"),
            (r#"{"lease_seconds":3601}"#, "invalid_lease_seconds"),
            (r#"{"wait_seconds":-1}"#, "invalid_wait_seconds"),
            (r#"{"wait_seconds":21}"#, "invalid_wait_seconds"),
        ] {
            assert_eq!(parse(body), Err((400, code.to_owned())), "{body}");
        }
        for body in [
            r#"{"max":"2"}"#,
            r#"{"max":1.5}"#,
            r#"{"limit":2}"#,
            "[1]",
            "not json",
        ] {
            assert_eq!(parse(body).map_err(|(s, _)| s), Err(400), "{body}");
        }
    }

    #[test]
    fn the_mask_goes_to_the_tasks_folder() {
        let task = LeasedTask {
            task_id: Uuid::from_u128(2),
            text_prompt: None,
            source_image_url: None,
            source_image_path: None,
            lease_expires_at: "2026-12-07T00:00:00Z".into(),
            attempt: 1,
        };
        assert_eq!(
            mask_path(&task),
            "00000000-0000-0000-0000-000000000002/mask.png"
        );
    }
}
