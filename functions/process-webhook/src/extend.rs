//! `POST /process-webhook/extend`: the backend keeps a task it is still working on. 409
//! `lease_lost` when the lease is no longer this task's current one (it ran out, the task was
//! cancelled, finished or handed to another attempt): the backend should stop and drop its work.

use edge_http::{ApiError, BodyLimit, parse_json_object};
use edge_worker::{Answer, RequestContext, Rest, json_response, refusals};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::sender_request::authenticated_body;

const BODY_LIMIT: BodyLimit = BodyLimit::new(4 * 1024);

refusals! {
    /// What `extend_segmentation_lease` refuses on purpose (`PT404`, `PT409`).
    enum ExtendRefusal {
        TaskNotFound = "task_not_found",
        LeaseLost = "lease_lost",
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendInput {
    task_id: Uuid,
    lease_seconds: Option<i64>,
    /// The attempt the backend claimed (the claim's `attempt`): another attempt's lease is lost.
    attempt: Option<i64>,
}

#[derive(Debug, PartialEq)]
struct ValidExtend {
    task_id: Uuid,
    lease_seconds: i64,
    attempt: Option<i64>,
}

fn parse(body: &[u8]) -> Result<ValidExtend, ApiError> {
    let input: ExtendInput = parse_json_object(body)?;
    let lease_seconds = input.lease_seconds.unwrap_or(300);
    if !(30..=3600).contains(&lease_seconds) {
        return Err(ApiError::bad_request(
            "invalid_lease_seconds",
            format!("lease_seconds must be an integer from 30 to 3600, not {lease_seconds}"),
        ));
    }
    if let Some(attempt) = input.attempt.filter(|a| !(1..=100).contains(a)) {
        return Err(ApiError::bad_request(
            "invalid_attempt",
            format!("attempt must be the claim's attempt (1 to 100), not {attempt}"),
        ));
    }
    Ok(ValidExtend {
        task_id: input.task_id,
        lease_seconds,
        attempt: input.attempt,
    })
}

pub async fn extend(mut ctx: RequestContext) -> Result<Answer, ApiError> {
    let (body, _) = authenticated_body(&mut ctx, BODY_LIMIT).await?;
    let request = parse(&body)?;
    let args = json!({
        "p_task_id": request.task_id,
        "p_lease_seconds": request.lease_seconds,
        "p_attempt": request.attempt,
    });
    let answer: Value =
        Rest::run(Rest::as_service(&ctx.config).rpc("extend_segmentation_lease", &args))
            .await?
            .map_err(|e| e.into_api_error::<ExtendRefusal>("extending a lease"))?;
    json_response(200, &answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = "6f1c1c43-2b0a-4d8e-9a51-7f1e0c7a9b10";

    #[test]
    fn a_task_id_and_bounded_numbers() {
        let body = format!(r#"{{"task_id":"{TASK}","lease_seconds":60,"attempt":2}}"#);
        assert_eq!(
            parse(body.as_bytes()).unwrap(),
            ValidExtend {
                task_id: TASK.parse().unwrap(),
                lease_seconds: 60,
                attempt: Some(2)
            }
        );
        let bare = format!(r#"{{"task_id":"{TASK}"}}"#);
        assert_eq!(parse(bare.as_bytes()).unwrap().lease_seconds, 300);
        for (body, code) in [
            (
                format!(r#"{{"task_id":"{TASK}","lease_seconds":10}}"#),
                "invalid_lease_seconds",
            ),
            (
                format!(r#"{{"task_id":"{TASK}","attempt":0}}"#),
                "invalid_attempt",
            ),
        ] {
            assert_eq!(parse(body.as_bytes()).unwrap_err().code(), code, "{body}");
        }
        for body in ["{}", r#"{"task_id":"nope"}"#, r#"{"task_id":null}"#] {
            assert_eq!(parse(body.as_bytes()).unwrap_err().status(), 400, "{body}");
        }
    }
}
