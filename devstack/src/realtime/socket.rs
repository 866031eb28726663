//! One WebSocket at `/realtime/v1/websocket`: the Phoenix socket and its channels, answering
//! `phx_join`, `heartbeat`, `access_token`, `broadcast`, `presence` and `phx_leave` as
//! Supabase Realtime does.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::hub::Subscriber;
use super::protocol::{Frame, Vsn};
use super::rooms::Member;
use super::subscription::{Binding, binding_id};
use super::token::{self, Credentials, TokenRefusal};
use crate::gateway::{self, GatewayError};
use crate::project::SharedProject;

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// The gateway checks the project key (the `apikey` query parameter realtime-js sends, or an
/// `x-api-key` header) before the socket opens; `vsn` picks the serializer.
pub async fn upgrade(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    State(project): State<SharedProject>,
) -> Response {
    let api_key = gateway::header_str(&headers, "x-api-key")
        .or(params.get("apikey").map(String::as_str))
        .map(str::to_owned);
    let refusal = match &api_key {
        None => Some(GatewayError::MissingApiKey),
        Some(key) if !gateway::is_project_key(key, &project.config) => {
            Some(GatewayError::InvalidApiKey)
        }
        Some(_) => None,
    };
    if let Some(e) = refusal {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": e.to_string()})),
        )
            .into_response();
    }
    let Some(vsn) = Vsn::from_param(params.get("vsn").map(String::as_str)) else {
        return (
            StatusCode::FORBIDDEN,
            "The client's requested transport version does not match the server's (1.0.0 or 2.0.0)",
        )
            .into_response();
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let (conn, changes) = Connection::new(project, vsn, api_key.unwrap_or_default());
    ws.on_upgrade(move |socket| conn.run(socket, changes))
}

/// A joined channel (`realtime:<name>`).
struct Channel {
    join_ref: Option<String>,
    credentials: Credentials,
    subscribers: Vec<Arc<Subscriber>>,
    private: bool,
    /// `config.broadcast.ack`: each broadcast is answered once relayed.
    ack: bool,
    /// `config.presence.key`, or a fresh UUID when the client gave none (as Realtime).
    presence_key: String,
}

struct Connection {
    project: SharedProject,
    vsn: Vsn,
    /// The project key the socket opened with: a join without its own token acts with it.
    api_key: String,
    id: u64,
    out: mpsc::UnboundedSender<Frame>,
    channels: HashMap<String, Channel>,
}

impl Connection {
    fn new(
        project: SharedProject,
        vsn: Vsn,
        api_key: String,
    ) -> (Self, mpsc::UnboundedReceiver<Frame>) {
        let (out, rx) = mpsc::unbounded_channel();
        let conn = Self {
            project,
            vsn,
            api_key,
            id: NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed),
            out,
            channels: HashMap::new(),
        };
        (conn, rx)
    }
}

impl Connection {
    /// Serves the socket until it closes: client frames, changes the dispatcher routes here,
    /// and the end of each channel's token.
    async fn run(mut self, socket: WebSocket, mut changes: mpsc::UnboundedReceiver<Frame>) {
        let conn = &mut self;
        let (mut sink, mut stream) = socket.split();
        loop {
            let expiry = conn.next_expiry();
            let frames = tokio::select! {
                message = stream.next() => match message {
                    Some(Ok(Message::Text(text))) => conn.handle(text.as_str()).await,
                    Some(Ok(Message::Binary(bytes))) => match Frame::decode_broadcast_push(&bytes) {
                        Ok(frame) => conn.dispatch(frame).await,
                        Err(e) => {
                            tracing::debug!("realtime: ignoring a binary message: {e}");
                            Vec::new()
                        }
                    },
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => Vec::new(),
                },
                Some(frame) = changes.recv() => vec![frame],
                _ = tokio::time::sleep(expiry.unwrap_or(Duration::MAX)), if expiry.is_some() => {
                    conn.end_expired_channels()
                }
            };
            let mut failed = false;
            for frame in frames {
                if sink
                    .send(Message::Text(frame.encode(conn.vsn).into()))
                    .await
                    .is_err()
                {
                    failed = true;
                    break;
                }
            }
            if failed {
                break;
            }
        }
        conn.project.realtime.hub.remove(conn.id, None);
        conn.project.realtime.rooms.leave(conn.id, None);
    }
}

impl Connection {
    async fn handle(&mut self, text: &str) -> Vec<Frame> {
        let frame = match Frame::decode(text, self.vsn) {
            Ok(frame) => frame,
            Err(e) => {
                tracing::debug!("realtime: ignoring a message that is not a Phoenix frame: {e}");
                return Vec::new();
            }
        };
        self.dispatch(frame).await
    }

    async fn dispatch(&mut self, frame: Frame) -> Vec<Frame> {
        match (frame.topic.as_str(), frame.event.as_str()) {
            ("phoenix", "heartbeat") => vec![Frame::reply(&frame, "ok", json!({}))],
            (_, "phx_join") => self.join(&frame).await,
            (topic, _) if !self.channels.contains_key(topic) => {
                vec![Frame::reply(
                    &frame,
                    "error",
                    json!({"reason": "unmatched topic"}),
                )]
            }
            (topic, "phx_leave") => {
                self.drop_channel(topic);
                vec![Frame::reply(&frame, "ok", json!({}))]
            }
            (_, "access_token") => self.refresh_token(&frame),
            (_, "broadcast") => self.broadcast(&frame),
            (_, "presence") => self.presence(&frame),
            // Realtime ignores what it does not know.
            _ => Vec::new(),
        }
    }

    /// A member's broadcast, relayed to the channel's other members (and to itself with
    /// `self`); answered only when the channel asked for acknowledgements.
    fn broadcast(&self, frame: &Frame) -> Vec<Frame> {
        let Some(channel) = self.channels.get(&frame.topic) else {
            return Vec::new();
        };
        self.project.realtime.rooms.broadcast(
            Some(self.id),
            &frame.topic,
            channel.private,
            &frame.payload,
        );
        if channel.ack {
            vec![Frame::reply(frame, "ok", json!({}))]
        } else {
            Vec::new()
        }
    }

    /// `track` and `untrack` under the channel's presence key; every push is answered.
    fn presence(&self, frame: &Frame) -> Vec<Frame> {
        let Some(channel) = self.channels.get(&frame.topic) else {
            return Vec::new();
        };
        let rooms = &self.project.realtime.rooms;
        let event = frame
            .payload
            .get("event")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        match event.as_deref() {
            Some("track") => {
                let payload = frame.payload.get("payload").cloned().unwrap_or(json!({}));
                let Value::Object(payload) = payload else {
                    return vec![Frame::reply(
                        frame,
                        "error",
                        json!({"reason": "Presence track payload must be a map"}),
                    )];
                };
                rooms.track(
                    self.id,
                    &frame.topic,
                    channel.private,
                    &channel.presence_key,
                    payload,
                );
                vec![Frame::reply(frame, "ok", json!({}))]
            }
            Some("untrack") => {
                rooms.untrack(self.id, &frame.topic, &channel.presence_key);
                vec![Frame::reply(frame, "ok", json!({}))]
            }
            // A push without an event is let be; an unknown one is an error.
            None => vec![Frame::reply(frame, "ok", json!({}))],
            Some(_) => vec![Frame::reply(frame, "error", json!({}))],
        }
    }

    async fn join(&mut self, frame: &Frame) -> Vec<Frame> {
        let Some(name) = frame.topic.strip_prefix("realtime:") else {
            return vec![Frame::reply(
                frame,
                "error",
                json!({"reason": "unmatched topic"}),
            )];
        };
        if name.is_empty() {
            return join_error(frame, "TopicNameRequired: You must provide a topic name");
        }
        // Phoenix closes a channel that is joined again and joins it anew.
        self.drop_channel(&frame.topic);
        let token = ["access_token", "user_token"]
            .iter()
            .find_map(|k| frame.payload.get(*k).and_then(Value::as_str))
            .filter(|t| !t.starts_with("sb_"))
            .unwrap_or(self.api_key.as_str())
            .to_owned();
        let credentials = match token::confirm(&self.project, &token) {
            Ok(c) => c,
            Err(refusal) => return join_error(frame, &refusal.join_reason()),
        };
        let config = frame.payload.get("config");
        let flag = |pointer: &str| {
            config
                .and_then(|c| c.pointer(pointer))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let private = flag("/private");
        if private {
            // Private channels are authorized by RLS on `realtime.messages`, which devstack
            // does not keep: every private join is refused as Realtime refuses one the
            // policies do not allow.
            return join_error(
                frame,
                &format!(
                    "Unauthorized: You do not have permissions to read from this Channel topic: {name}"
                ),
            );
        }
        let presence_enabled = flag("/presence/enabled");
        let presence_key = config
            .and_then(|c| c.pointer("/presence/key"))
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        let params: Vec<Value> = frame
            .payload
            .pointer("/config/postgres_changes")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter(|p| !p.is_null()).cloned().collect())
            .unwrap_or_default();
        let reply_changes: Vec<Value> = params
            .iter()
            .map(|p| {
                let mut echoed = p.clone();
                if let Value::Object(map) = &mut echoed {
                    map.insert("id".into(), binding_id(p).into());
                }
                echoed
            })
            .collect();
        // Subscribed before the reply, so that a change the client makes once it sees
        // SUBSCRIBED reaches it.
        let outcome = if params.is_empty() {
            None
        } else {
            Some(self.subscribe(&frame.topic, &params, &credentials).await)
        };
        let subscribers = match &outcome {
            Some(Ok(subs)) => subs.clone(),
            _ => Vec::new(),
        };
        self.project.realtime.hub.add(subscribers.iter().cloned());
        self.project.realtime.rooms.join(Arc::new(Member {
            connection: self.id,
            topic: frame.topic.clone(),
            private,
            self_broadcast: flag("/broadcast/self"),
            out: self.out.clone(),
        }));
        self.channels.insert(
            frame.topic.clone(),
            Channel {
                join_ref: frame.join_ref.clone(),
                credentials,
                subscribers,
                private,
                ack: flag("/broadcast/ack"),
                presence_key,
            },
        );
        let mut frames = vec![Frame::reply(
            frame,
            "ok",
            json!({"postgres_changes": reply_changes}),
        )];
        if let Some(outcome) = outcome {
            let (status, message) = match outcome {
                Ok(_) => ("ok", "Subscribed to PostgreSQL".to_owned()),
                Err(e) => ("error", e),
            };
            frames.push(self.system(&frame.topic, "postgres_changes", status, &message));
        }
        // Realtime syncs a presence-enabled channel right after its join.
        if presence_enabled {
            frames.push(Frame::push(
                frame.join_ref.clone(),
                &frame.topic,
                "presence_state",
                self.project.realtime.rooms.state(&frame.topic, private),
            ));
        }
        frames
    }

    /// Resolves every binding against the `supabase_realtime` publication, all or none, as
    /// Realtime inserts them into `realtime.subscription` in one transaction.
    async fn subscribe(
        &self,
        topic: &str,
        params: &[Value],
        credentials: &Credentials,
    ) -> Result<Vec<Arc<Subscriber>>, String> {
        let mut subscribers = Vec::new();
        for p in params {
            let binding = Binding::parse(p)?;
            let tables = super::publication::tables_for(&self.project, &binding).await?;
            subscribers.push(Arc::new(Subscriber {
                connection: self.id,
                topic: topic.to_owned(),
                id: binding_id(p),
                binding,
                tables,
                credentials: credentials.clone(),
                out: self.out.clone(),
            }));
        }
        Ok(subscribers)
    }

    fn refresh_token(&mut self, frame: &Frame) -> Vec<Frame> {
        let Some(token) = frame.payload.get("access_token").and_then(Value::as_str) else {
            return Vec::new();
        };
        let Some(channel) = self.channels.get(&frame.topic) else {
            return Vec::new();
        };
        if token.starts_with("sb_") || token == channel.credentials.token {
            return Vec::new();
        }
        match token::confirm(&self.project, token) {
            Err(refusal) => self.shut_down(&frame.topic, &refusal.shutdown_message()),
            Ok(credentials) => {
                let hub = &self.project.realtime.hub;
                hub.remove(self.id, Some(&frame.topic));
                let Some(channel) = self.channels.get_mut(&frame.topic) else {
                    return Vec::new();
                };
                channel.subscribers = channel
                    .subscribers
                    .iter()
                    .map(|s| Arc::new(s.with_credentials(credentials.clone())))
                    .collect();
                hub.add(channel.subscribers.iter().cloned());
                channel.credentials = credentials;
                if channel.subscribers.is_empty() {
                    return Vec::new();
                }
                vec![self.system(
                    &frame.topic,
                    "postgres_changes",
                    "ok",
                    "Subscribed to PostgreSQL",
                )]
            }
        }
    }

    /// How long until the first channel's token runs out.
    fn next_expiry(&self) -> Option<Duration> {
        let exp = self
            .channels
            .values()
            .filter_map(|c| c.credentials.exp)
            .min()?;
        Some(Duration::from_secs(
            u64::try_from(exp - token::now()).unwrap_or(0),
        ))
    }

    fn end_expired_channels(&mut self) -> Vec<Frame> {
        let now = token::now();
        let expired: Vec<(String, i64)> = self
            .channels
            .iter()
            .filter_map(|(topic, c)| {
                c.credentials
                    .exp
                    .filter(|&e| e <= now)
                    .map(|e| (topic.clone(), e))
            })
            .collect();
        expired
            .into_iter()
            .flat_map(|(topic, exp)| {
                let refusal = TokenRefusal::Expired {
                    seconds_ago: now - exp,
                };
                self.shut_down(&topic, &refusal.shutdown_message())
            })
            .collect()
    }

    /// Realtime's `shutdown_response`: a `system` error naming why, then the channel closes.
    fn shut_down(&mut self, topic: &str, message: &str) -> Vec<Frame> {
        let system = self.system(topic, "system", "error", message);
        let join_ref = self.channels.get(topic).and_then(|c| c.join_ref.clone());
        self.drop_channel(topic);
        vec![system, Frame::close(join_ref, topic)]
    }

    fn drop_channel(&mut self, topic: &str) {
        if self.channels.remove(topic).is_some() {
            self.project.realtime.hub.remove(self.id, Some(topic));
            self.project.realtime.rooms.leave(self.id, Some(topic));
        }
    }

    fn system(&self, topic: &str, extension: &str, status: &str, message: &str) -> Frame {
        let join_ref = self.channels.get(topic).and_then(|c| c.join_ref.clone());
        Frame::push(
            join_ref,
            topic,
            "system",
            json!({
                "extension": extension,
                "status": status,
                "message": message,
                "channel": topic.strip_prefix("realtime:").unwrap_or(topic),
            }),
        )
    }
}

fn join_error(frame: &Frame, reason: &str) -> Vec<Frame> {
    vec![Frame::reply(frame, "error", json!({"reason": reason}))]
}
