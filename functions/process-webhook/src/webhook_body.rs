//! The body of a webhook delivery, checked completely before anything reaches the database.

use edge_http::{ApiError, parse_json};
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;
use uuid::Uuid;

/// Longest `mask_url` (the column's check constraint allows the same).
pub const MAX_MASK_URL_LEN: usize = 2048;
/// Longest `mask_path` (the column's check constraint allows the same).
pub const MAX_MASK_PATH_LEN: usize = 1024;
/// Longest `error` message, in characters (the column's check constraint allows the same).
pub const MAX_ERROR_CHARS: usize = 2000;
/// Highest `credits_used` one task may cost.
pub const MAX_CREDITS_USED: i64 = 1000;
/// Most entries in `labels` (one per detected object or class).
pub const MAX_LABELS: usize = 1000;
/// Largest `labels`, serialized.
pub const MAX_LABELS_BYTES: usize = 128 * 1024;
/// Most keys in `metadata`.
pub const MAX_METADATA_KEYS: usize = 100;
/// Largest `metadata`, serialized (it is merged into the stored metadata on every delivery).
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Deepest nesting of arrays and objects inside `labels` or `metadata`.
pub const MAX_JSON_DEPTH: usize = 8;

/// The task status a delivery reports. `pending` is the state a task is filed in, never a report.
///
/// Read through a string (not serde's enum support, which makes serde_json call a number in
/// its place a JSON syntax error), so every wrong value is a 400 naming the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ReportedStatus {
    Processing,
    Done,
    Error,
}

impl ReportedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Error => "error",
        }
    }
}

impl TryFrom<String> for ReportedStatus {
    type Error = String;

    fn try_from(status: String) -> Result<Self, String> {
        match status.as_str() {
            "processing" => Ok(Self::Processing),
            "done" => Ok(Self::Done),
            "error" => Ok(Self::Error),
            _ => Err(format!(
                "unknown status `{status}`, expected one of `processing`, `done`, `error`"
            )),
        }
    }
}

/// What the inference backend sends. Unknown fields are refused, so a misspelt field
/// (`maskUrl`) is a 400 the sender sees, not a result silently stored without its mask.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub task_id: Uuid,
    pub status: ReportedStatus,
    pub mask_url: Option<String>,
    /// The mask's object name in the `masks` bucket (what `/claim` handed out as `mask_path`).
    pub mask_path: Option<String>,
    pub labels: Option<Value>,
    pub metadata: Option<Value>,
    pub credits_used: Option<i64>,
    pub error: Option<String>,
}

/// A delivery whose every field is within bounds, ready for `apply_segmentation_webhook`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidWebhook {
    pub task_id: Uuid,
    pub status: ReportedStatus,
    pub mask_url: Option<String>,
    pub mask_path: Option<String>,
    pub labels: Option<Vec<Value>>,
    pub metadata: Option<Map<String, Value>>,
    pub credits_used: Option<i32>,
    pub error: Option<String>,
}

/// Parses and validates a delivery's body: 400 naming the problem, or a [`ValidWebhook`].
pub fn parse_webhook(body: &[u8]) -> Result<ValidWebhook, ApiError> {
    // serde reads a struct from a JSON array too (fields by position); a webhook is an object.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object, not an array",
        ));
    }
    parse_json::<WebhookInput>(body)?.validate()
}

impl WebhookInput {
    pub fn validate(self) -> Result<ValidWebhook, ApiError> {
        if let Some(url) = &self.mask_url {
            check_mask_url(url)?;
        }
        if let Some(path) = &self.mask_path {
            check_mask_path(path)?;
        }
        let labels = self.labels.map(check_labels).transpose()?;
        let metadata = self.metadata.map(check_metadata).transpose()?;
        let credits_used = self
            .credits_used
            .map(|credits| check_credits(credits, self.status))
            .transpose()?;
        if let Some(error) = &self.error {
            check_error(error, self.status)?;
        }
        Ok(ValidWebhook {
            task_id: self.task_id,
            status: self.status,
            mask_url: self.mask_url,
            mask_path: self.mask_path,
            labels,
            metadata,
            credits_used,
            error: self.error,
        })
    }
}

fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("invalid_{field}"), message.to_string())
}

/// An absolute `https` URL with a host and no credentials, at most [`MAX_MASK_URL_LEN`] bytes.
fn check_mask_url(raw: &str) -> Result<(), ApiError> {
    if raw.len() > MAX_MASK_URL_LEN {
        return Err(invalid(
            "mask_url",
            format_args!("mask_url is longer than {MAX_MASK_URL_LEN} characters"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(invalid(
            "mask_url",
            "mask_url must not contain control characters",
        ));
    }
    let url = Url::parse(raw).map_err(|e| invalid("mask_url", format_args!("mask_url: {e}")))?;
    // Stored as sent, so it must read `https://` literally too: the parser alone also takes
    // `HTTPS://…`, `https:/…`, `https:\\…` and leading spaces, which the column's check refuses.
    if url.scheme() != "https" || !raw.starts_with("https://") {
        return Err(invalid("mask_url", "mask_url must be an https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("mask_url", "mask_url must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("mask_url", "mask_url must not carry credentials"));
    }
    Ok(())
}

/// An object name as Storage keeps it: `/`-separated non-empty segments, none `.` or `..`, no
/// backslash or control character, at most [`MAX_MASK_PATH_LEN`] bytes. Whose folder it is
/// (the task's) the database checks.
fn check_mask_path(path: &str) -> Result<(), ApiError> {
    if path.len() > MAX_MASK_PATH_LEN {
        return Err(invalid(
            "mask_path",
            format_args!("mask_path is longer than {MAX_MASK_PATH_LEN} bytes"),
        ));
    }
    let clean_segments = path
        .split('/')
        .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    if !clean_segments || path.contains('\\') || path.chars().any(char::is_control) {
        return Err(invalid(
            "mask_path",
            "mask_path must be an object name in masks, such as <task id>/mask.png \
             (no empty, `.` or `..` segments, backslashes or control characters)",
        ));
    }
    Ok(())
}

fn check_labels(labels: Value) -> Result<Vec<Value>, ApiError> {
    let Value::Array(items) = labels else {
        return Err(invalid("labels", "labels must be a JSON array"));
    };
    if items.len() > MAX_LABELS {
        return Err(invalid(
            "labels",
            format_args!("labels has more than {MAX_LABELS} entries"),
        ));
    }
    check_bounded_json("labels", &items, MAX_LABELS_BYTES)?;
    Ok(items)
}

fn check_metadata(metadata: Value) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(map) = metadata else {
        return Err(invalid("metadata", "metadata must be a JSON object"));
    };
    if map.len() > MAX_METADATA_KEYS {
        return Err(invalid(
            "metadata",
            format_args!("metadata has more than {MAX_METADATA_KEYS} keys"),
        ));
    }
    check_bounded_json("metadata", &map, MAX_METADATA_BYTES)?;
    Ok(map)
}

/// Size and nesting bounds for free-form JSON that is stored as it came.
fn check_bounded_json<T: serde::Serialize>(
    field: &str,
    value: &T,
    max_bytes: usize,
) -> Result<(), ApiError> {
    let value = serde_json::to_value(value).map_err(|e| invalid(field, e))?;
    if holds_nul(&value) {
        return Err(invalid(
            field,
            format_args!("{field} must not contain U+0000 (Postgres cannot store it)"),
        ));
    }
    if depth(&value) > MAX_JSON_DEPTH {
        return Err(invalid(
            field,
            format_args!("{field} is nested deeper than {MAX_JSON_DEPTH} levels"),
        ));
    }
    let size = value.to_string().len();
    if size > max_bytes {
        return Err(invalid(
            field,
            format_args!("{field} is larger than {max_bytes} bytes"),
        ));
    }
    Ok(())
}

/// Whether any string or key holds U+0000, which `jsonb` and `text` refuse.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, v)| key.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// Levels of arrays/objects: a scalar is 0, `[]` is 1, `[{}]` is 2.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Credits are charged only when a task reaches `done`; on another status the field would be
/// ignored, so it is refused instead of silently dropped.
fn check_credits(credits: i64, status: ReportedStatus) -> Result<i32, ApiError> {
    if status != ReportedStatus::Done {
        return Err(invalid(
            "credits_used",
            "credits_used is only accepted with status done (only finished tasks are charged)",
        ));
    }
    if !(0..=MAX_CREDITS_USED).contains(&credits) {
        return Err(invalid(
            "credits_used",
            format_args!("credits_used must be an integer from 0 to {MAX_CREDITS_USED}"),
        ));
    }
    i32::try_from(credits).map_err(|e| invalid("credits_used", e))
}

/// An error message belongs to a failed task only (it is stored only then).
fn check_error(error: &str, status: ReportedStatus) -> Result<(), ApiError> {
    if status != ReportedStatus::Error {
        return Err(invalid("error", "error is only accepted with status error"));
    }
    if error.contains('\0') {
        return Err(invalid(
            "error",
            "error must not contain U+0000 (Postgres cannot store it)",
        ));
    }
    if error.chars().count() > MAX_ERROR_CHARS {
        return Err(invalid(
            "error",
            format_args!("error is longer than {MAX_ERROR_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TASK: &str = "6f1c1c43-2b0a-4d8e-9a51-7f1e0c7a9b10";

    fn parse(body: Value) -> Result<ValidWebhook, ApiError> {
        parse_webhook(body.to_string().as_bytes())
    }

    fn refusal(body: Value) -> (u16, String, String) {
        let err = parse(body).unwrap_err();
        (
            err.status(),
            err.code().to_owned(),
            err.message().to_owned(),
        )
    }

    #[test]
    fn a_complete_done_delivery_is_accepted() {
        let valid = parse(json!({
            "task_id": TASK,
            "status": "done",
            "mask_url": "https://masks.example.com/a/b.png?sig=1",
            "labels": [{"label": "cat", "score": 0.97}],
            "metadata": {"model": "sam2", "ms": 812},
            "credits_used": 3,
        }))
        .unwrap();
        assert_eq!(valid.task_id.to_string(), TASK);
        assert_eq!(valid.status, ReportedStatus::Done);
        assert_eq!(valid.credits_used, Some(3));
        assert_eq!(valid.labels.unwrap().len(), 1);
        assert_eq!(valid.metadata.unwrap()["model"], "sam2");
    }

    #[test]
    fn minimal_deliveries_are_accepted() {
        for status in ["processing", "done", "error"] {
            let valid = parse(json!({"task_id": TASK, "status": status})).unwrap();
            assert_eq!(valid.status.as_str(), status);
            assert_eq!(valid.mask_url, None);
        }
        let failed = parse(json!({"task_id": TASK, "status": "error", "error": "CUDA OOM"}));
        assert_eq!(failed.unwrap().error.as_deref(), Some("CUDA OOM"));
        let free = parse(json!({"task_id": TASK, "status": "done", "credits_used": 0}));
        assert_eq!(free.unwrap().credits_used, Some(0));
    }

    #[test]
    fn shape_errors_name_the_field() {
        let cases = [
            (json!({"status": "done"}), "missing field `task_id`"),
            (
                json!({"task_id": "42", "status": "done"}),
                "field `task_id`: UUID parsing failed",
            ),
            (
                json!({"task_id": TASK, "status": "pending"}),
                "field `status`: unknown status `pending`, expected one of `processing`, `done`, `error`",
            ),
            (
                json!({"task_id": TASK, "status": 1}),
                "field `status`: invalid type: integer `1`",
            ),
            (
                json!({"task_id": TASK, "status": "done", "credits_used": 1.5}),
                "field `credits_used`: invalid type: floating point `1.5`",
            ),
            (
                json!({"task_id": TASK, "status": "done", "credits_used": "2"}),
                "field `credits_used`: invalid type: string",
            ),
            (
                json!({"task_id": TASK, "status": "done", "maskUrl": "https://x.io/m.png"}),
                "unknown field `maskUrl`",
            ),
            (json!([TASK, "done"]), "the body must be a JSON object"),
            (
                json!([TASK, "done", null, null, null, null, null]),
                "the body must be a JSON object",
            ),
            (json!("done"), "invalid type: string"),
        ];
        for (body, message) in cases {
            let (status, code, actual) = refusal(body.clone());
            assert_eq!((status, code.as_str()), (400, "invalid_body"), "{body}");
            assert!(actual.starts_with(message), "{body}: {actual}");
        }
    }

    #[test]
    fn mask_paths_are_clean_object_names() {
        let valid = parse(json!({"task_id": TASK, "status": "done", "mask_path": "u1/t1.png"}));
        assert_eq!(valid.unwrap().mask_path.as_deref(), Some("u1/t1.png"));
        for bad in [
            "",
            "/u1/t1.png",
            "u1//t1.png",
            "u1/../u2/t.png",
            "./t.png",
            "u1/t1.png/",
            "u1\\t.png",
            "u1/t\u{1}.png",
        ] {
            let (status, code, _) =
                refusal(json!({"task_id": TASK, "status": "done", "mask_path": bad}));
            assert_eq!(
                (status, code.as_str()),
                (400, "invalid_mask_path"),
                "{bad:?}"
            );
        }
        let long = format!("u1/{}", "a".repeat(MAX_MASK_PATH_LEN));
        let (_, code, _) = refusal(json!({"task_id": TASK, "status": "done", "mask_path": long}));
        assert_eq!(code, "invalid_mask_path");
    }

    #[test]
    fn mask_urls_must_be_https_with_a_host() {
        let long = format!("https://masks.example.com/{}", "a".repeat(MAX_MASK_URL_LEN));
        for bad in [
            "http://masks.example.com/m.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "/relative/m.png",
            "https://user:pw@masks.example.com/m.png",
            "not a url",
            long.as_str(),
        ] {
            let (status, code, _) =
                refusal(json!({"task_id": TASK, "status": "done", "mask_url": bad}));
            assert_eq!((status, code.as_str()), (400, "invalid_mask_url"), "{bad}");
        }
        let at_limit = format!(
            "https://m.io/{}",
            "a".repeat(MAX_MASK_URL_LEN - "https://m.io/".len())
        );
        assert!(parse(json!({"task_id": TASK, "status": "done", "mask_url": at_limit})).is_ok());
    }

    #[test]
    fn labels_and_metadata_are_bounded() {
        let nested = (0..MAX_JSON_DEPTH).fold(json!(1), |inner, _| json!([inner]));
        let cases = [
            (json!({"labels": {"cat": 1}}), "invalid_labels"),
            (json!({"labels": "cat"}), "invalid_labels"),
            (
                json!({"labels": vec![json!(1); MAX_LABELS + 1]}),
                "invalid_labels",
            ),
            (
                json!({"labels": [ "x".repeat(MAX_LABELS_BYTES) ]}),
                "invalid_labels",
            ),
            (json!({"labels": [nested.clone()]}), "invalid_labels"),
            (json!({"metadata": [1]}), "invalid_metadata"),
            (
                json!({"metadata": {"blob": "x".repeat(MAX_METADATA_BYTES)}}),
                "invalid_metadata",
            ),
            (
                json!({"metadata": (0..=MAX_METADATA_KEYS).map(|i| (i.to_string(), json!(i))).collect::<Map<_, _>>()}),
                "invalid_metadata",
            ),
            (json!({"metadata": {"deep": nested}}), "invalid_metadata"),
        ];
        for (fields, code) in cases {
            let mut body = json!({"task_id": TASK, "status": "done"});
            body.as_object_mut()
                .unwrap()
                .extend(fields.as_object().unwrap().clone());
            let (status, actual, _) = refusal(body);
            assert_eq!((status, actual.as_str()), (400, code), "{fields}");
        }
        // `null` is the same as leaving an optional field out.
        let nulls =
            parse(json!({"task_id": TASK, "status": "done", "labels": null, "metadata": null}));
        assert_eq!(nulls.unwrap().metadata, None);
        let deep_enough = (1..MAX_JSON_DEPTH).fold(json!(1), |inner, _| json!([inner]));
        assert!(parse(json!({"task_id": TASK, "status": "done", "labels": deep_enough})).is_ok());
    }

    #[test]
    fn credits_and_errors_belong_to_their_status() {
        let cases = [
            (
                json!({"status": "done", "credits_used": -1}),
                "invalid_credits_used",
            ),
            (
                json!({"status": "done", "credits_used": MAX_CREDITS_USED + 1}),
                "invalid_credits_used",
            ),
            (
                json!({"status": "error", "credits_used": 1}),
                "invalid_credits_used",
            ),
            (
                json!({"status": "processing", "credits_used": 1}),
                "invalid_credits_used",
            ),
            (json!({"status": "done", "error": "oops"}), "invalid_error"),
            (
                json!({"status": "error", "error": "é".repeat(MAX_ERROR_CHARS + 1)}),
                "invalid_error",
            ),
        ];
        for (mut body, code) in cases {
            body["task_id"] = json!(TASK);
            let (status, actual, _) = refusal(body.clone());
            assert_eq!((status, actual.as_str()), (400, code), "{body}");
        }
        let at_limit = "é".repeat(MAX_ERROR_CHARS);
        assert!(parse(json!({"task_id": TASK, "status": "error", "error": at_limit})).is_ok());
        assert!(
            parse(json!({"task_id": TASK, "status": "done", "credits_used": MAX_CREDITS_USED}))
                .is_ok()
        );
    }

    /// Found by `fuzz/fuzz_targets/process_webhook_body.rs` (fuzz/regressions/): values the
    /// URL parser or serde accepted but the `segmentation_results` columns refuse, which made
    /// the database call fail (500, retried by the sender) after validation had passed.
    #[test]
    fn refuses_what_the_columns_cannot_hold() {
        let cases = [
            json!({"status": "done", "mask_url": "https:Q/masks.example.com/@mg"}),
            json!({"status": "done", "mask_url": "HTTPS://masks.example.com/m.png"}),
            json!({"status": "done", "mask_url": " https://masks.example.com/m.png"}),
            json!({"status": "done", "mask_url": "https:\\\\masks.example.com/m.png"}),
            json!({"status": "done", "mask_url": "https://masks.example.com/\u{0}.png"}),
            json!({"status": "error", "error": "out of\u{0}memory"}),
            json!({"status": "done", "labels": [{"label": "c\u{0}t"}]}),
            json!({"status": "done", "metadata": {"k\u{0}": 1}}),
        ];
        for mut body in cases {
            body["task_id"] = json!(TASK);
            let (status, code, _) = refusal(body.clone());
            assert_eq!(status, 400, "{body}");
            assert!(code.starts_with("invalid_"), "{body}: {code}");
        }
    }

    #[test]
    fn depth_counts_containers() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!([])), 1);
        assert_eq!(depth(&json!([{"a": [1]}])), 3);
    }
}
