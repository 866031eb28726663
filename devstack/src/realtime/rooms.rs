//! Broadcast and Presence: who has joined which channel topic, the messages members send one
//! another, and who is present there, as Supabase Realtime relays them (its `BroadcastHandler`
//! and `PresenceHandler`, and Phoenix.Presence's `presence_state` and `presence_diff`). A
//! public and a private channel of one name are two topics, as in Realtime.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedSender;

use super::protocol::Frame;

/// One joined channel of one socket.
pub struct Member {
    pub connection: u64,
    /// `realtime:<name>`, as the client wrote it.
    pub topic: String,
    pub private: bool,
    /// `config.broadcast.self`: the sender receives its own broadcasts too.
    pub self_broadcast: bool,
    pub out: UnboundedSender<Frame>,
}

/// One tracked presence: a member's key and the payload it tracked, with its `phx_ref`.
struct Presence {
    connection: u64,
    topic: String,
    private: bool,
    key: String,
    /// The tracked payload with `phx_ref` (Phoenix.Presence's meta).
    meta: Map<String, Value>,
    /// The payload as the client sent it, to tell an unchanged track from a new one.
    payload: Map<String, Value>,
}

static NEXT_REF: AtomicU64 = AtomicU64::new(1);

/// Phoenix's opaque presence ref: unique per track.
fn phx_ref() -> String {
    format!("F{:x}", NEXT_REF.fetch_add(1, Ordering::Relaxed))
}

#[derive(Default)]
pub struct Rooms {
    members: RwLock<Vec<Arc<Member>>>,
    presences: Mutex<Vec<Presence>>,
}

impl Rooms {
    pub fn join(&self, member: Arc<Member>) {
        self.members
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(member);
    }

    /// A socket leaves one channel (or, with `None`, all of them): its presences there end,
    /// which the members that remain see as `leaves`.
    pub fn leave(&self, connection: u64, topic: Option<&str>) {
        let here = |c: u64, t: &str| c == connection && topic.is_none_or(|wanted| wanted == t);
        self.members
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|m| !here(m.connection, &m.topic));
        let gone: Vec<Presence> = {
            let mut presences = self.presences.lock().unwrap_or_else(|p| p.into_inner());
            let (gone, kept) = presences
                .drain(..)
                .partition(|p| here(p.connection, &p.topic));
            *presences = kept;
            gone
        };
        for p in gone {
            self.send_diff(&p.topic, p.private, None, Some((&p.key, &p.meta)));
        }
    }

    /// Relays a broadcast (`{type, event, payload}`) to the topic's members; the sender
    /// (`from`, none for the REST API) only when it asked for its own messages.
    pub fn broadcast(&self, from: Option<u64>, topic: &str, private: bool, payload: &Value) {
        for m in self.members_of(topic, private) {
            if Some(m.connection) == from && !m.self_broadcast {
                continue;
            }
            let _ = m
                .out
                .send(Frame::push(None, topic, "broadcast", payload.clone()));
        }
    }

    /// Phoenix.Presence's state of a topic: each key with its metas.
    pub fn state(&self, topic: &str, private: bool) -> Value {
        let presences = self.presences.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = Map::new();
        for p in presences
            .iter()
            .filter(|p| p.topic == topic && p.private == private)
        {
            let entry = state
                .entry(p.key.clone())
                .or_insert_with(|| json!({"metas": []}));
            if let Some(metas) = entry.get_mut("metas").and_then(Value::as_array_mut) {
                metas.push(Value::Object(p.meta.clone()));
            }
        }
        Value::Object(state)
    }

    /// `track`: a new presence is a join; tracking again with another payload updates it (a
    /// join of the new meta, which names the old ref, and a leave of the old one); the same
    /// payload again changes nothing.
    pub fn track(
        &self,
        connection: u64,
        topic: &str,
        private: bool,
        key: &str,
        payload: Map<String, Value>,
    ) {
        let (joined, left) = {
            let mut presences = self.presences.lock().unwrap_or_else(|p| p.into_inner());
            let existing = presences
                .iter_mut()
                .find(|p| p.connection == connection && p.topic == topic && p.key == key);
            let mut meta = payload.clone();
            meta.insert("phx_ref".into(), phx_ref().into());
            match existing {
                Some(p) if p.payload == payload => return,
                Some(p) => {
                    if let Some(old) = p.meta.get("phx_ref").cloned() {
                        meta.insert("phx_ref_prev".into(), old);
                    }
                    let old = std::mem::replace(&mut p.meta, meta.clone());
                    p.payload = payload;
                    (meta, Some(old))
                }
                None => {
                    presences.push(Presence {
                        connection,
                        topic: topic.to_owned(),
                        private,
                        key: key.to_owned(),
                        meta: meta.clone(),
                        payload,
                    });
                    (meta, None)
                }
            }
        };
        self.send_diff(
            topic,
            private,
            Some((key, &joined)),
            left.as_ref().map(|old| (key, old)),
        );
    }

    pub fn untrack(&self, connection: u64, topic: &str, key: &str) {
        let gone = {
            let mut presences = self.presences.lock().unwrap_or_else(|p| p.into_inner());
            let Some(at) = presences
                .iter()
                .position(|p| p.connection == connection && p.topic == topic && p.key == key)
            else {
                return;
            };
            presences.remove(at)
        };
        self.send_diff(topic, gone.private, None, Some((key, &gone.meta)));
    }

    fn members_of(&self, topic: &str, private: bool) -> Vec<Arc<Member>> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|m| m.topic == topic && m.private == private)
            .cloned()
            .collect()
    }

    /// `presence_diff` to every member of the topic, the one that changed included.
    fn send_diff(
        &self,
        topic: &str,
        private: bool,
        joined: Option<(&str, &Map<String, Value>)>,
        left: Option<(&str, &Map<String, Value>)>,
    ) {
        let side = |entry: Option<(&str, &Map<String, Value>)>| {
            let mut map = Map::new();
            if let Some((key, meta)) = entry {
                map.insert(key.to_owned(), json!({"metas": [meta]}));
            }
            Value::Object(map)
        };
        let diff = json!({"joins": side(joined), "leaves": side(left)});
        for m in self.members_of(topic, private) {
            let _ = m
                .out
                .send(Frame::push(None, topic, "presence_diff", diff.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    fn member(
        rooms: &Rooms,
        connection: u64,
        self_broadcast: bool,
    ) -> mpsc::UnboundedReceiver<Frame> {
        let (out, rx) = mpsc::unbounded_channel();
        rooms.join(Arc::new(Member {
            connection,
            topic: "realtime:room".into(),
            private: false,
            self_broadcast,
            out,
        }));
        rx
    }

    fn drain(rx: &mut mpsc::UnboundedReceiver<Frame>) -> Vec<Frame> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    #[test]
    fn broadcasts_reach_the_others_and_the_sender_only_with_self() {
        let rooms = Rooms::default();
        let mut a = member(&rooms, 1, false);
        let mut b = member(&rooms, 2, true);
        let message = json!({"type": "broadcast", "event": "hi", "payload": {"n": 1}});
        rooms.broadcast(Some(1), "realtime:room", false, &message);
        assert!(drain(&mut a).is_empty());
        let got = drain(&mut b);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event, "broadcast");
        assert_eq!(got[0].payload, message);
        rooms.broadcast(Some(2), "realtime:room", false, &message);
        assert_eq!(drain(&mut a).len(), 1);
        assert_eq!(drain(&mut b).len(), 1);
        // A private channel of the same name is another topic.
        rooms.broadcast(None, "realtime:room", true, &message);
        assert!(drain(&mut a).is_empty());
    }

    #[test]
    fn presence_joins_updates_and_leaves_as_diffs() {
        let rooms = Rooms::default();
        let mut a = member(&rooms, 1, false);
        let payload = |v: i64| {
            let mut m = Map::new();
            m.insert("v".into(), v.into());
            m
        };
        rooms.track(1, "realtime:room", false, "k", payload(1));
        let diff = drain(&mut a).remove(0).payload;
        assert_eq!(diff["joins"]["k"]["metas"][0]["v"], 1);
        assert_eq!(diff["leaves"], json!({}));
        let first_ref = diff["joins"]["k"]["metas"][0]["phx_ref"].clone();
        // The same payload again: nothing.
        rooms.track(1, "realtime:room", false, "k", payload(1));
        assert!(drain(&mut a).is_empty());
        rooms.track(1, "realtime:room", false, "k", payload(2));
        let diff = drain(&mut a).remove(0).payload;
        assert_eq!(diff["joins"]["k"]["metas"][0]["phx_ref_prev"], first_ref);
        assert_eq!(diff["leaves"]["k"]["metas"][0]["v"], 1);
        let state = rooms.state("realtime:room", false);
        assert_eq!(state["k"]["metas"].as_array().map(Vec::len), Some(1));
        assert_eq!(state["k"]["metas"][0]["v"], 2);

        let mut b = member(&rooms, 2, false);
        rooms.leave(1, None);
        let diff = drain(&mut b).remove(0).payload;
        assert_eq!(diff["leaves"]["k"]["metas"][0]["v"], 2);
        assert_eq!(rooms.state("realtime:room", false), json!({}));
    }
}
