//! Realtime's broadcast REST API: `POST /api/broadcast` (a batch of messages, what
//! realtime-js's `send()` falls back to before a channel is joined) and
//! `POST /api/broadcast/<topic>/events/<event>` (one message, `httpSend()`), both answered
//! 202 as Realtime's `BroadcastController` and `BroadcastSingleController` answer. Messages
//! to private channels are authorized by RLS on `realtime.messages` in Realtime; devstack keeps
//! none, so they are dropped as Realtime drops a message the policies refuse.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::gateway;
use crate::project::SharedProject;

pub async fn broadcast(
    State(project): State<SharedProject>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = refused(&project, &headers) {
        return refused;
    }
    let messages = match parse_batch(&body) {
        Ok(messages) => messages,
        Err(errors) => return unprocessable(errors),
    };
    for m in messages.iter().filter(|m| !m.private) {
        relay(&project, &m.topic, &m.event, &m.payload);
    }
    StatusCode::ACCEPTED.into_response()
}

pub async fn broadcast_one(
    State(project): State<SharedProject>,
    Path((topic, event)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = refused(&project, &headers) {
        return refused;
    }
    let is_json = gateway::header_str(&headers, "content-type")
        .is_none_or(|t| t.to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        // Binary payloads go out as binary frames in Realtime, which devstack does not send.
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return unprocessable(json!({"payload": ["is invalid"]}));
    };
    if query.get("private").map(String::as_str) != Some("true") {
        relay(&project, &topic, &event, &payload);
    }
    StatusCode::ACCEPTED.into_response()
}

/// The project key and token, as the gateway checks every request.
fn refused(project: &SharedProject, headers: &HeaderMap) -> Option<Response> {
    let e = gateway::authenticate(headers, &project.config, &project.jwt).err()?;
    Some(
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": e.to_string()})),
        )
            .into_response(),
    )
}

fn relay(project: &SharedProject, topic: &str, event: &str, payload: &Value) {
    project.realtime.rooms.broadcast(
        None,
        &format!("realtime:{topic}"),
        false,
        &json!({"type": "broadcast", "event": event, "payload": payload}),
    );
}

#[derive(Debug, PartialEq)]
struct Message {
    topic: String,
    event: String,
    payload: Value,
    private: bool,
}

/// The batch as Realtime's changeset casts it: `messages` is required, each message needs a
/// `topic`, an `event` and an object `payload`; `private` is false unless given. On failure,
/// the errors in Ecto's shape (one object per message, empty for a valid one).
fn parse_batch(body: &[u8]) -> Result<Vec<Message>, Value> {
    let blank = || json!(["can't be blank"]);
    let invalid = || json!(["is invalid"]);
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let list = match value.get("messages") {
        None | Some(Value::Null) => return Err(json!({"messages": blank()})),
        Some(Value::Array(list)) if list.is_empty() => return Err(json!({"messages": blank()})),
        Some(Value::Array(list)) => list.clone(),
        Some(_) => return Err(json!({"messages": invalid()})),
    };
    let mut messages = Vec::new();
    let mut errors = Vec::new();
    for item in &list {
        let mut error = Map::new();
        let text = |name: &str, error: &mut Map<String, Value>| match item.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                error.insert(name.into(), blank());
                None
            }
            Some(_) => {
                error.insert(name.into(), invalid());
                None
            }
        };
        let topic = text("topic", &mut error);
        let event = text("event", &mut error);
        let payload = match item.get("payload") {
            Some(p @ Value::Object(_)) => Some(p.clone()),
            None | Some(Value::Null) => {
                error.insert("payload".into(), blank());
                None
            }
            Some(_) => {
                error.insert("payload".into(), invalid());
                None
            }
        };
        let private = match item.get("private") {
            None | Some(Value::Null) => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                error.insert("private".into(), invalid());
                None
            }
        };
        if let (Some(topic), Some(event), Some(payload), Some(private)) =
            (topic, event, payload, private)
        {
            messages.push(Message {
                topic,
                event,
                payload,
                private,
            });
        }
        errors.push(Value::Object(error));
    }
    if messages.len() == list.len() {
        Ok(messages)
    } else {
        Err(json!({"messages": errors}))
    }
}

fn unprocessable(errors: Value) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({"errors": errors})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cast_as_realtime_casts_them() {
        let ok = parse_batch(br#"{"messages":[{"topic":"room","event":"e","payload":{"a":1}}]}"#)
            .unwrap();
        assert_eq!(
            ok,
            vec![Message {
                topic: "room".into(),
                event: "e".into(),
                payload: json!({"a": 1}),
                private: false,
            }]
        );
        assert_eq!(
            parse_batch(b"{}").unwrap_err(),
            json!({"messages": ["can't be blank"]})
        );
        assert_eq!(
            parse_batch(br#"{"messages":[]}"#).unwrap_err(),
            json!({"messages": ["can't be blank"]})
        );
        assert_eq!(
            parse_batch(
                br#"{"messages":[{"topic":"r","event":"e","payload":{}},{"event":"e","payload":3}]}"#
            )
            .unwrap_err(),
            json!({"messages": [{}, {"topic": ["can't be blank"], "payload": ["is invalid"]}]})
        );
        assert!(parse_batch(b"not json").is_err());
    }
}
