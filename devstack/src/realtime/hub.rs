//! Who is subscribed to what, across all sockets of one project: the registry the change
//! dispatcher reads and the sockets write.

use std::sync::{Arc, RwLock};

use tokio::sync::mpsc::UnboundedSender;

use super::protocol::Frame;
use super::subscription::{Action, Binding};
use super::token::Credentials;

/// One binding of one joined channel, with the tables it resolved to at join time.
pub struct Subscriber {
    pub connection: u64,
    pub topic: String,
    /// The id the join reply gave the client for this binding.
    pub id: u32,
    pub binding: Binding,
    /// `(schema, table)` of the publication's tables the binding matched.
    pub tables: Vec<(String, String)>,
    pub credentials: Credentials,
    pub out: UnboundedSender<Frame>,
}

impl Subscriber {
    /// The same binding acting with other credentials (a refreshed token).
    pub fn with_credentials(&self, credentials: Credentials) -> Self {
        Self {
            connection: self.connection,
            topic: self.topic.clone(),
            id: self.id,
            binding: self.binding.clone(),
            tables: self.tables.clone(),
            credentials,
            out: self.out.clone(),
        }
    }
}

#[derive(Default)]
pub struct Hub {
    subscribers: RwLock<Vec<Arc<Subscriber>>>,
}

impl Hub {
    pub fn add(&self, subscribers: impl IntoIterator<Item = Arc<Subscriber>>) {
        self.write().extend(subscribers);
    }

    /// Drops a channel's subscribers, or all of a connection's when `topic` is `None`.
    pub fn remove(&self, connection: u64, topic: Option<&str>) {
        self.write()
            .retain(|s| s.connection != connection || topic.is_some_and(|t| t != s.topic));
    }

    /// The subscribers that want `action` on `schema.table`.
    pub fn matching(&self, schema: &str, table: &str, action: Action) -> Vec<Arc<Subscriber>> {
        self.subscribers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|s| {
                s.binding.action.wants(action)
                    && s.tables.iter().any(|(sc, t)| sc == schema && t == table)
            })
            .cloned()
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.subscribers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<Subscriber>>> {
        self.subscribers.write().unwrap_or_else(|p| p.into_inner())
    }
}
