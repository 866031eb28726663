//! Phoenix channel frames as realtime-js writes and reads them. Serializer `vsn=2.0.0` (its
//! default) is a JSON array `[join_ref, ref, topic, event, payload]`; `1.0.0` is a JSON object
//! with the same five fields.

use serde_json::{Value, json};

/// The serializer a socket asked for with its `vsn` query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vsn {
    V1,
    V2,
}

impl Vsn {
    /// Phoenix takes a missing `vsn` as `1.0.0` and refuses versions it does not know.
    pub fn from_param(vsn: Option<&str>) -> Option<Self> {
        match vsn {
            None | Some("1.0.0") => Some(Self::V1),
            Some("2.0.0") => Some(Self::V2),
            Some(_) => None,
        }
    }
}

/// One message in either direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub join_ref: Option<String>,
    pub msg_ref: Option<String>,
    pub topic: String,
    pub event: String,
    pub payload: Value,
}

impl Frame {
    /// The answer to a client's push (`phx_reply`), matched by its `ref`.
    pub fn reply(to: &Frame, status: &str, response: Value) -> Self {
        Self {
            join_ref: to.join_ref.clone(),
            msg_ref: to.msg_ref.clone(),
            topic: to.topic.clone(),
            event: "phx_reply".into(),
            payload: json!({"status": status, "response": response}),
        }
    }

    /// A message the server sends on its own to a joined channel (no `ref`).
    pub fn push(join_ref: Option<String>, topic: &str, event: &str, payload: Value) -> Self {
        Self {
            join_ref,
            msg_ref: None,
            topic: topic.to_owned(),
            event: event.to_owned(),
            payload,
        }
    }

    /// `phx_close`: the server ended the channel (Phoenix sends the join ref as its ref).
    pub fn close(join_ref: Option<String>, topic: &str) -> Self {
        Self {
            msg_ref: join_ref.clone(),
            join_ref,
            topic: topic.to_owned(),
            event: "phx_close".into(),
            payload: json!({}),
        }
    }

    pub fn decode(text: &str, vsn: Vsn) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let opt_str = |v: Option<&Value>| -> Result<Option<String>, String> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(other) => Err(format!("expected a string, got {other}")),
            }
        };
        let (join_ref, msg_ref, topic, event, payload) = match (vsn, &value) {
            (Vsn::V2, Value::Array(parts)) if parts.len() == 5 => (
                opt_str(parts.first())?,
                opt_str(parts.get(1))?,
                parts.get(2),
                parts.get(3),
                parts.get(4),
            ),
            (Vsn::V1, Value::Object(map)) => (
                opt_str(map.get("join_ref"))?,
                opt_str(map.get("ref"))?,
                map.get("topic"),
                map.get("event"),
                map.get("payload"),
            ),
            _ => return Err(format!("not a {vsn:?} Phoenix message: {text}")),
        };
        let text_field = |v: Option<&Value>, name: &str| {
            v.and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("message without a {name}"))
        };
        Ok(Self {
            join_ref,
            msg_ref,
            topic: text_field(topic, "topic")?,
            event: text_field(event, "event")?,
            payload: payload.cloned().unwrap_or(Value::Null),
        })
    }

    /// The binary frame realtime-js's `2.0.0` serializer sends a broadcast as (kind 3, a
    /// "user broadcast push"): seven header bytes (kind, the lengths of join ref, ref, topic,
    /// event and metadata, the payload's encoding), those five strings, then the payload. It
    /// becomes the `broadcast` push a JSON client sends; only JSON payloads (encoding 1) are
    /// relayed, and the metadata is not used (Realtime does not use it either).
    pub fn decode_broadcast_push(bytes: &[u8]) -> Result<Self, String> {
        let [
            3,
            join_ref_len,
            ref_len,
            topic_len,
            event_len,
            meta_len,
            encoding,
            rest @ ..,
        ] = bytes
        else {
            return Err("not a user broadcast push".into());
        };
        let mut rest = rest;
        let mut take = |len: u8| -> Result<String, String> {
            let len = usize::from(len);
            if rest.len() < len {
                return Err("truncated user broadcast push".into());
            }
            let (field, tail) = rest.split_at(len);
            rest = tail;
            String::from_utf8(field.to_vec()).map_err(|e| e.to_string())
        };
        let join_ref = take(*join_ref_len)?;
        let msg_ref = take(*ref_len)?;
        let topic = take(*topic_len)?;
        let event = take(*event_len)?;
        take(*meta_len)?;
        if *encoding != 1 {
            return Err("binary broadcast payloads are not relayed".into());
        }
        let payload: Value = serde_json::from_slice(rest).map_err(|e| e.to_string())?;
        let non_empty = |s: String| (!s.is_empty()).then_some(s);
        Ok(Self {
            join_ref: non_empty(join_ref),
            msg_ref: non_empty(msg_ref),
            topic,
            event: "broadcast".into(),
            payload: json!({"type": "broadcast", "event": event, "payload": payload}),
        })
    }

    pub fn encode(&self, vsn: Vsn) -> String {
        let value = match vsn {
            Vsn::V2 => json!([
                self.join_ref,
                self.msg_ref,
                self.topic,
                self.event,
                self.payload
            ]),
            Vsn::V1 => json!({
                "join_ref": self.join_ref,
                "ref": self.msg_ref,
                "topic": self.topic,
                "event": self.event,
                "payload": self.payload,
            }),
        };
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_serializers_round_trip_a_join() {
        let v2 = r#"["1","1","realtime:room","phx_join",{"config":{}}]"#;
        let frame = Frame::decode(v2, Vsn::V2).unwrap();
        assert_eq!(frame.join_ref.as_deref(), Some("1"));
        assert_eq!(frame.topic, "realtime:room");
        assert_eq!(frame.event, "phx_join");
        assert_eq!(
            Frame::decode(&frame.encode(Vsn::V2), Vsn::V2).unwrap(),
            frame
        );

        let v1 = r#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"7"}"#;
        let frame = Frame::decode(v1, Vsn::V1).unwrap();
        assert_eq!(
            (frame.join_ref, frame.msg_ref.as_deref()),
            (None, Some("7"))
        );
        let reply = Frame::reply(
            &Frame::decode(v1, Vsn::V1).unwrap(),
            "ok",
            serde_json::json!({}),
        );
        assert_eq!(
            serde_json::from_str::<Value>(&reply.encode(Vsn::V1)).unwrap(),
            serde_json::json!({"join_ref": null, "ref": "7", "topic": "phoenix", "event": "phx_reply",
                "payload": {"status": "ok", "response": {}}})
        );
    }

    #[test]
    fn a_binary_broadcast_push_becomes_a_broadcast() {
        let mut bytes = vec![3, 1, 1, 13, 2, 0, 1];
        bytes.extend_from_slice(b"47realtime:room");
        bytes.extend_from_slice(b"hi");
        bytes.extend_from_slice(br#"{"n":1}"#);
        let frame = Frame::decode_broadcast_push(&bytes).unwrap();
        assert_eq!(frame.join_ref.as_deref(), Some("4"));
        assert_eq!(frame.msg_ref.as_deref(), Some("7"));
        assert_eq!(frame.topic, "realtime:room");
        assert_eq!(frame.event, "broadcast");
        assert_eq!(
            frame.payload,
            serde_json::json!({"type": "broadcast", "event": "hi", "payload": {"n": 1}})
        );
        assert!(Frame::decode_broadcast_push(&bytes[..10]).is_err());
        assert!(Frame::decode_broadcast_push(&[4, 0, 0, 0, 0, 0, 1]).is_err());
        let mut raw = bytes.clone();
        raw[6] = 0;
        assert!(Frame::decode_broadcast_push(&raw).is_err());
    }

    #[test]
    fn a_frame_in_the_other_serializer_is_refused() {
        assert!(Frame::decode(r#"{"topic":"t","event":"e","payload":{}}"#, Vsn::V2).is_err());
        assert!(Frame::decode(r#"[null,null,"t","e",{}]"#, Vsn::V1).is_err());
        assert!(Frame::decode(r#"[null,null,1,"e",{}]"#, Vsn::V2).is_err());
        assert_eq!(Vsn::from_param(Some("3.0.0")), None);
        assert_eq!(Vsn::from_param(None), Some(Vsn::V1));
    }
}
