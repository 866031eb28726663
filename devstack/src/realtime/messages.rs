//! Broadcast from the database (`realtime.send`, `realtime.broadcast_changes`): each row
//! inserted into `realtime.messages` with extension `broadcast` and an event, as logical
//! decoding hands it over, goes to the members of its topic — private rows to private
//! channels (joined under the read policies), public ones to public channels — as Realtime's
//! replication of that table sends them: `{type: "broadcast", event, payload}`.

use serde_json::{Value, json};

use super::dispatch::{WalChange, WalColumn};
use super::rooms::Rooms;

/// The table that carries them, in wal2json's `add-tables` syntax.
pub const TABLE: &str = "realtime.messages";

pub fn is_message(change: &WalChange) -> bool {
    change.schema == "realtime" && change.table == "messages"
}

/// Relays one decoded change of `realtime.messages`: inserts of broadcasts only.
pub fn relay(rooms: &Rooms, change: &WalChange) {
    if change.action != "I" {
        return;
    }
    let column = |name: &str| {
        change
            .columns
            .iter()
            .find(|c| c.name == name)
            .map(|c: &WalColumn| &c.value)
    };
    if column("extension").and_then(Value::as_str) != Some("broadcast") {
        return;
    }
    let (Some(topic), Some(event)) = (
        column("topic").and_then(Value::as_str),
        column("event").and_then(Value::as_str),
    ) else {
        return;
    };
    // wal2json writes jsonb as its text.
    let payload = match column("payload") {
        Some(Value::String(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let private = match column("private") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "t" || s == "true",
        _ => false,
    };
    rooms.broadcast(
        None,
        &format!("realtime:{topic}"),
        private,
        &json!({"type": "broadcast", "event": event, "payload": payload}),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::rooms::Member;
    use std::sync::Arc;
    use tokio::sync::mpsc;

    fn change(action: &str, extension: &str, private: bool) -> WalChange {
        serde_json::from_value(json!({
            "action": action, "schema": "realtime", "table": "messages",
            "columns": [
                {"name": "topic", "typeoid": 25, "value": "room"},
                {"name": "extension", "typeoid": 25, "value": extension},
                {"name": "event", "typeoid": 25, "value": "e"},
                {"name": "payload", "typeoid": 3802, "value": "{\"n\": 1}"},
                {"name": "private", "typeoid": 16, "value": private},
            ]
        }))
        .unwrap()
    }

    #[test]
    fn inserted_broadcasts_reach_the_channels_of_their_kind() {
        let rooms = Rooms::default();
        let (out, mut rx) = mpsc::unbounded_channel();
        rooms.join(Arc::new(Member {
            connection: 1,
            topic: "realtime:room".into(),
            private: true,
            presence_read: true,
            self_broadcast: false,
            out,
        }));
        relay(&rooms, &change("I", "broadcast", true));
        let frame = rx.try_recv().unwrap();
        assert_eq!(
            frame.payload,
            json!({"type": "broadcast", "event": "e", "payload": {"n": 1}})
        );
        relay(&rooms, &change("I", "broadcast", false));
        relay(&rooms, &change("I", "presence", true));
        relay(&rooms, &change("D", "broadcast", true));
        assert!(rx.try_recv().is_err());
    }
}
