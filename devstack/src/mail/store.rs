//! The caught messages, in memory like a fresh Mailpit's: newest first, at most
//! [`MAX_MESSAGES`] (the oldest go), gone when devstack stops.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Mailpit's default `--max` is 500 messages.
pub const MAX_MESSAGES: usize = 500;

/// A mailbox as Mailpit writes one: `{"Name": "…", "Address": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    pub name: String,
    pub address: String,
}

impl Address {
    /// `addr@example.com` or `Name <addr@example.com>` (the display name may be quoted); `None`
    /// when it is not an address.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let (name, address) = match (value.rfind('<'), value.strip_suffix('>')) {
            (Some(open), Some(inner)) => {
                (value[..open].trim().trim_matches('"'), &inner[open + 1..])
            }
            (None, None) => ("", value),
            _ => return None,
        };
        let (local, domain) = address.split_once('@')?;
        let plausible = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !address.contains(|c: char| c.is_whitespace() || "<>,;\"".contains(c));
        plausible.then(|| Self {
            name: name.to_owned(),
            address: address.to_owned(),
        })
    }
}

/// One caught message.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: Uuid,
    pub from: Address,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created: DateTime<Utc>,
    pub read: bool,
}

impl Message {
    pub fn message_id(&self) -> String {
        format!("{}@devstack.local", self.id)
    }

    /// Bytes of the parts a person reads, standing in for Mailpit's raw message size.
    pub fn size(&self) -> usize {
        self.subject.len() + self.text.len() + self.html.len()
    }

    pub fn snippet(&self) -> String {
        let source = if self.text.is_empty() {
            &self.html
        } else {
            &self.text
        };
        let words: Vec<&str> = source.split_whitespace().collect();
        words.join(" ").chars().take(250).collect()
    }

    /// Mailpit's search, its most used terms: `to:`, `from:`, `subject:` and bare words
    /// (in the subject or text), all of which must match, case-insensitively.
    pub fn matches(&self, query: &str) -> bool {
        let has = |haystack: &str, needle: &str| haystack.to_lowercase().contains(needle);
        let any_address = |list: &[Address], needle: &str| {
            list.iter()
                .any(|a| has(&a.address, needle) || has(&a.name, needle))
        };
        query.split_whitespace().all(|term| {
            let term = term.to_lowercase();
            if let Some(v) = term.strip_prefix("to:") {
                any_address(&self.to, v) || any_address(&self.cc, v) || any_address(&self.bcc, v)
            } else if let Some(v) = term.strip_prefix("from:") {
                any_address(std::slice::from_ref(&self.from), v)
            } else if let Some(v) = term.strip_prefix("subject:") {
                has(&self.subject, v)
            } else {
                has(&self.subject, &term) || has(&self.text, &term)
            }
        })
    }
}

/// One of Mailpit's chaos triggers: answer `error_code` with `probability` percent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Trigger {
    pub error_code: u16,
    pub probability: u8,
}

/// Mailpit's chaos triggers, for the HTTP send API: `Authentication` fails the key check,
/// `Sender` the sender, `Recipient` the recipients, each with its HTTP status. `DelayMs` holds
/// the answer to every accepted send that long, the message already kept (a transport that
/// times out after taking the message); devstack's own addition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Chaos {
    pub authentication: Trigger,
    pub sender: Trigger,
    pub recipient: Trigger,
    pub delay_ms: u32,
}

#[derive(Default)]
struct Inner {
    messages: VecDeque<Message>,
    /// Idempotency key → (payload fingerprint, message id), as the provider keeps them.
    idempotency: HashMap<String, (String, Uuid)>,
    chaos: Chaos,
}

/// What a send with an idempotency key finds.
#[derive(Debug, PartialEq, Eq)]
pub enum Stored {
    New(Uuid),
    /// The same key with the same payload: the first answer again, nothing stored.
    Replayed(Uuid),
    /// The same key with another payload.
    KeyReused,
}

#[derive(Default)]
pub struct Mailbox {
    inner: Mutex<Inner>,
}

impl Mailbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `message` unless `key` was used before (see [`Stored`]).
    pub fn store(&self, message: Message, key: Option<(&str, String)>) -> Stored {
        let mut inner = self.lock();
        if let Some((key, fingerprint)) = &key
            && let Some((seen, id)) = inner.idempotency.get(*key)
        {
            return if seen == fingerprint {
                Stored::Replayed(*id)
            } else {
                Stored::KeyReused
            };
        }
        let id = message.id;
        if let Some((key, fingerprint)) = key {
            inner.idempotency.insert(key.to_owned(), (fingerprint, id));
        }
        inner.messages.push_front(message);
        inner.messages.truncate(MAX_MESSAGES);
        Stored::New(id)
    }

    /// Newest first, those matching `query` (all without one).
    pub fn list(&self, query: Option<&str>) -> Vec<Message> {
        let inner = self.lock();
        inner
            .messages
            .iter()
            .filter(|m| query.is_none_or(|q| m.matches(q)))
            .cloned()
            .collect()
    }

    /// The message, now marked read, as opening it in Mailpit does.
    pub fn open(&self, id: Uuid) -> Option<Message> {
        let mut inner = self.lock();
        let message = inner.messages.iter_mut().find(|m| m.id == id)?;
        message.read = true;
        Some(message.clone())
    }

    /// Deletes the given messages, or all.
    pub fn delete(&self, ids: Option<&[Uuid]>) {
        let mut inner = self.lock();
        match ids {
            Some(ids) => inner.messages.retain(|m| !ids.contains(&m.id)),
            None => inner.messages.clear(),
        }
    }

    pub fn chaos(&self) -> Chaos {
        self.lock().chaos
    }

    pub fn set_chaos(&self, chaos: Chaos) {
        self.lock().chaos = chaos;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(to: &str, subject: &str) -> Message {
        Message {
            id: Uuid::new_v4(),
            from: Address::parse("Invites <invites@example.com>").unwrap(),
            to: vec![Address::parse(to).unwrap()],
            cc: vec![],
            bcc: vec![],
            reply_to: vec![],
            subject: subject.into(),
            text: "Open this link".into(),
            html: String::new(),
            created: Utc::now(),
            read: false,
        }
    }

    #[test]
    fn addresses_with_and_without_names() {
        assert_eq!(
            Address::parse("\"Ada L.\" <ada@example.com>"),
            Some(Address {
                name: "Ada L.".into(),
                address: "ada@example.com".into()
            })
        );
        assert_eq!(Address::parse("ada@example.com").unwrap().name, "");
        for bad in [
            "",
            "ada",
            "ada@localhost",
            "<ada@example.com",
            "a b@example.com",
            "a@b.co>",
        ] {
            assert_eq!(Address::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn search_terms_must_all_match() {
        let m = message("ada@example.com", "Grace invited you");
        assert!(m.matches("to:ada@example.com"));
        assert!(m.matches("TO:ADA@example.com subject:invited"));
        assert!(m.matches("from:invites link"));
        assert!(!m.matches("to:bob@example.com"));
        assert!(!m.matches("to:ada@example.com subject:accepted"));
    }

    #[test]
    fn an_idempotency_key_stores_once() {
        let mailbox = Mailbox::default();
        let first = message("ada@example.com", "one");
        let id = first.id;
        assert_eq!(
            mailbox.store(first, Some(("k", "p1".into()))),
            Stored::New(id)
        );
        assert_eq!(
            mailbox.store(message("ada@example.com", "one"), Some(("k", "p1".into()))),
            Stored::Replayed(id)
        );
        assert_eq!(
            mailbox.store(message("ada@example.com", "two"), Some(("k", "p2".into()))),
            Stored::KeyReused
        );
        assert_eq!(mailbox.list(None).len(), 1);
    }

    #[test]
    fn newest_first_and_bounded() {
        let mailbox = Mailbox::default();
        for i in 0..MAX_MESSAGES + 3 {
            mailbox.store(message("ada@example.com", &format!("m{i}")), None);
        }
        let all = mailbox.list(None);
        assert_eq!(all.len(), MAX_MESSAGES);
        assert_eq!(all[0].subject, format!("m{}", MAX_MESSAGES + 2));
        let read = mailbox.open(all[0].id).unwrap();
        assert!(read.read);
        mailbox.delete(Some(&[all[0].id]));
        assert_eq!(mailbox.list(None).len(), MAX_MESSAGES - 1);
        mailbox.delete(None);
        assert!(mailbox.list(None).is_empty());
    }
}
