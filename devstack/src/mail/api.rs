//! The reading side, in the shape of Mailpit's API v1 (what tests and tools already speak):
//! `GET /api/v1/messages` and `/api/v1/search?query=` (newest first, `start`/`limit`),
//! `GET /api/v1/message/{ID}` (marks it read), `DELETE /api/v1/messages` (`{"IDs": [...]}` or
//! all), `GET`/`PUT /api/v1/chaos`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mail::store::{Chaos, Message};
use crate::project::SharedProject;

/// Mailpit's default page size.
const DEFAULT_LIMIT: usize = 50;

#[derive(Deserialize)]
pub struct Page {
    start: Option<usize>,
    limit: Option<usize>,
    query: Option<String>,
}

pub async fn messages(State(project): State<SharedProject>, Query(page): Query<Page>) -> Response {
    summary_page(project.mail.list(None), &page)
}

pub async fn search(State(project): State<SharedProject>, Query(page): Query<Page>) -> Response {
    let Some(query) = page.query.as_deref().filter(|q| !q.trim().is_empty()) else {
        return (StatusCode::BAD_REQUEST, "Error: no search query").into_response();
    };
    summary_page(project.mail.list(Some(query)), &page)
}

fn summary_page(all: Vec<Message>, page: &Page) -> Response {
    let start = page.start.unwrap_or(0);
    let limit = page.limit.filter(|&l| l > 0).unwrap_or(DEFAULT_LIMIT);
    let unread = all.iter().filter(|m| !m.read).count();
    let shown: Vec<Value> = all.iter().skip(start).take(limit).map(summary).collect();
    Json(json!({
        "total": all.len(),
        "unread": unread,
        "messages_count": all.len(),
        "messages_unread": unread,
        "count": shown.len(),
        "start": start,
        "tags": [],
        "messages": shown,
    }))
    .into_response()
}

pub async fn message(State(project): State<SharedProject>, Path(id): Path<String>) -> Response {
    let found = Uuid::try_parse(&id)
        .ok()
        .and_then(|id| project.mail.open(id));
    let Some(m) = found else {
        return (StatusCode::NOT_FOUND, "Error: message not found").into_response();
    };
    Json(json!({
        "ID": m.id,
        "MessageID": m.message_id(),
        "From": m.from,
        "To": m.to,
        "Cc": m.cc,
        "Bcc": m.bcc,
        "ReplyTo": m.reply_to,
        "ReturnPath": m.from.address,
        "Subject": m.subject,
        "Date": m.created,
        "Tags": [],
        "Text": m.text,
        "HTML": m.html,
        "Size": m.size(),
        "Inline": [],
        "Attachments": [],
    }))
    .into_response()
}

#[derive(Deserialize, Default)]
pub struct DeleteRequest {
    #[serde(rename = "IDs")]
    ids: Option<Vec<Uuid>>,
}

pub async fn delete(State(project): State<SharedProject>, body: axum::body::Bytes) -> Response {
    let request = if body.is_empty() {
        DeleteRequest::default()
    } else {
        match serde_json::from_slice::<DeleteRequest>(&body) {
            Ok(request) => request,
            Err(e) => return (StatusCode::BAD_REQUEST, format!("Error: {e}")).into_response(),
        }
    };
    project
        .mail
        .delete(request.ids.as_deref().filter(|ids| !ids.is_empty()));
    "ok".into_response()
}

pub async fn chaos(State(project): State<SharedProject>) -> Json<Chaos> {
    Json(project.mail.chaos())
}

pub async fn set_chaos(
    State(project): State<SharedProject>,
    Json(chaos): Json<Chaos>,
) -> Json<Chaos> {
    project.mail.set_chaos(chaos);
    Json(chaos)
}

fn summary(m: &Message) -> Value {
    json!({
        "ID": m.id,
        "MessageID": m.message_id(),
        "Read": m.read,
        "From": m.from,
        "To": m.to,
        "Cc": m.cc,
        "Bcc": m.bcc,
        "ReplyTo": m.reply_to,
        "Subject": m.subject,
        "Created": m.created,
        "Tags": [],
        "Size": m.size(),
        "Attachments": 0,
        "Snippet": m.snippet(),
    })
}
