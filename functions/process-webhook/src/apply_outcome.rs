//! What `public.apply_segmentation_webhook` answers, and its refusals as this API's errors.

use edge_http::ApiError;
use edge_worker::{RestError, refusals};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The function's answer, passed on to the sender as the 200 body: `API.md`'s
/// `{task_id, status, charged, credits_remaining}` plus what a sender may want to log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookOutcome {
    pub task_id: Uuid,
    pub status: String,
    /// `applied` (the status moved forward) or `unchanged` (the task already had it).
    pub outcome: String,
    /// Whether this delivery (or, for a replay, its first arrival) charged the task.
    pub charged: bool,
    pub credits_charged: i32,
    /// What the owner's balance could not cover (recorded for billing; the result is kept).
    pub credits_shortfall: i32,
    pub credits_remaining: i32,
    /// The delivery id was seen before: this is the first answer again, nothing was written.
    pub replayed: bool,
}

refusals! {
    /// What `apply_segmentation_webhook` refuses on purpose (`PT404`, `PT409`, `PT400`).
    pub enum WebhookRefusal {
        TaskNotFound = "task_not_found",
        StatusConflict = "status_conflict",
        DeliveryIdReused = "delivery_id_reused",
        TaskCancelled = "task_cancelled",
        InvalidMaskPath = "invalid_mask_path",
    }
}

/// The refusals the function raises on purpose, as 4xx answers that tell a sender to stop
/// retrying. `None` for anything else, which the caller treats as the server's fault.
pub fn known_refusal(error: &RestError) -> Option<ApiError> {
    error.refusal_answer::<WebhookRefusal>().or_else(|| {
        // The body was validated before the call, so this is a rule the validation missed;
        // the database's own message (constraint names) stays in the log.
        (error.status == 400).then(|| {
            ApiError::bad_request(
                "invalid_body",
                "The database refused one of the webhook's values",
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rest_error(status: u16, code: &str, hint: Option<&str>) -> RestError {
        RestError {
            status,
            code: code.into(),
            message: "from the database".into(),
            details: None,
            hint: hint.map(str::to_owned),
        }
    }

    #[test]
    fn hints_map_to_statuses_and_codes() {
        let cases = [
            (
                rest_error(404, "PT404", Some("task_not_found")),
                404,
                "task_not_found",
            ),
            (
                rest_error(409, "PT409", Some("status_conflict")),
                409,
                "status_conflict",
            ),
            (
                rest_error(409, "PT409", Some("delivery_id_reused")),
                409,
                "delivery_id_reused",
            ),
            (rest_error(400, "23514", None), 400, "invalid_body"),
            (rest_error(400, "22023", None), 400, "invalid_body"),
        ];
        for (error, status, code) in cases {
            let mapped = known_refusal(&error).unwrap();
            assert_eq!(
                (mapped.status(), mapped.code()),
                (status, code),
                "{error:?}"
            );
        }
        assert_eq!(
            known_refusal(&rest_error(409, "PT409", Some("status_conflict")))
                .unwrap()
                .message(),
            "from the database"
        );
        assert!(
            !known_refusal(&rest_error(400, "23514", None))
                .unwrap()
                .message()
                .contains("from the database")
        );
    }

    #[test]
    fn everything_else_is_unexpected() {
        for error in [
            rest_error(401, "PGRST301", None),
            rest_error(403, "42501", None),
            rest_error(404, "PGRST202", None),
            rest_error(409, "23505", None),
            rest_error(404, "PT404", Some("other")),
        ] {
            assert!(known_refusal(&error).is_none(), "{error:?}");
        }
    }

    #[test]
    fn the_database_answer_round_trips() {
        let answer = json!({
            "task_id": "6f1c1c43-2b0a-4d8e-9a51-7f1e0c7a9b10", "status": "done",
            "outcome": "applied", "charged": true, "credits_charged": 1,
            "credits_shortfall": 0, "credits_remaining": 9, "replayed": false,
        });
        let outcome: WebhookOutcome = serde_json::from_value(answer.clone()).unwrap();
        assert!(outcome.charged);
        assert_eq!(serde_json::to_value(&outcome).unwrap(), answer);
    }
}
