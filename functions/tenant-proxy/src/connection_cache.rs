//! Stored connections kept per isolate for a bounded time, so a user's run of requests through
//! one connection costs one round trip to the origin each (the tenant's) instead of two.
//!
//! What is kept is the row as `connection_for_relay` returned it: URL, write switch and the
//! *sealed* service key (opened again for every request). The price is staleness: for up to
//! the cache's time a revoked or edited connection, or a blocked or deleted owner, is still
//! relayed by an isolate that looked it up before. An entry is keyed by the verified caller and
//! the connection's name, so nobody reaches another user's entry.

use std::collections::HashMap;
use std::rc::Rc;

use uuid::Uuid;

/// How long an isolate relays with a connection it looked up, unless
/// `TENANT_CONNECTION_CACHE_MS` says otherwise (`0`: look it up on every request). Five seconds
/// turns a page's burst of reads into one lookup, and bounds how long a revocation or a block
/// takes to reach every isolate (docs/tenant-proxy.md, "The connection cache").
pub const DEFAULT_TTL_MS: u64 = 5_000;

/// Entries an isolate keeps at most; when full, expired ones go first, then all.
const MAX_ENTRIES: usize = 512;

/// Connections by owner and name, each with the time it was looked up.
pub struct ConnectionCache<T> {
    entries: HashMap<(Uuid, String), (Rc<T>, u64)>,
}

impl<T> Default for ConnectionCache<T> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

impl<T> ConnectionCache<T> {
    /// The connection if it was looked up less than `ttl_ms` before `now_ms`.
    pub fn get(&mut self, owner: Uuid, name: &str, now_ms: u64, ttl_ms: u64) -> Option<Rc<T>> {
        let key = (owner, name.to_owned());
        let (value, stored_at) = self.entries.get(&key)?;
        if now_ms.saturating_sub(*stored_at) < ttl_ms && now_ms >= *stored_at {
            return Some(value.clone());
        }
        self.entries.remove(&key);
        None
    }

    /// Keeps `value`, looked up at `now_ms`.
    pub fn put(&mut self, owner: Uuid, name: &str, value: Rc<T>, now_ms: u64, ttl_ms: u64) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries
                .retain(|_, (_, at)| now_ms.saturating_sub(*at) < ttl_ms);
            if self.entries.len() >= MAX_ENTRIES {
                self.entries.clear();
            }
        }
        self.entries
            .insert((owner, name.to_owned()), (value, now_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: Uuid = Uuid::from_u128(1);

    #[test]
    fn an_entry_serves_for_its_time_and_no_longer() {
        let mut cache = ConnectionCache::default();
        cache.put(OWNER, "shop", Rc::new("row"), 1_000, 5_000);
        assert_eq!(
            cache.get(OWNER, "shop", 1_000, 5_000).as_deref(),
            Some(&"row")
        );
        assert_eq!(
            cache.get(OWNER, "shop", 5_999, 5_000).as_deref(),
            Some(&"row")
        );
        assert_eq!(
            cache.get(OWNER, "shop", 6_000, 5_000),
            None,
            "expired at 5 s"
        );
        assert_eq!(cache.get(OWNER, "shop", 1_500, 5_000), None, "and gone");
    }

    #[test]
    fn entries_are_per_owner_and_name() {
        let mut cache = ConnectionCache::default();
        cache.put(OWNER, "shop", Rc::new(1), 0, 5_000);
        assert_eq!(cache.get(Uuid::from_u128(2), "shop", 1, 5_000), None);
        assert_eq!(cache.get(OWNER, "Shop", 1, 5_000), None);
        assert_eq!(cache.get(OWNER, "shop", 1, 5_000).as_deref(), Some(&1));
    }

    #[test]
    fn a_clock_gone_back_or_a_shorter_time_does_not_serve_an_entry() {
        let mut cache = ConnectionCache::default();
        cache.put(OWNER, "shop", Rc::new(1), 10_000, 5_000);
        assert_eq!(cache.get(OWNER, "shop", 9_000, 5_000), None);
        cache.put(OWNER, "shop", Rc::new(1), 10_000, 5_000);
        assert_eq!(cache.get(OWNER, "shop", 10_500, 0), None, "0 keeps nothing");
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first_and_never_grows_past_its_bound() {
        let mut cache = ConnectionCache::default();
        for i in 0..MAX_ENTRIES - 1 {
            cache.put(OWNER, &format!("old{i}"), Rc::new(i), 0, 5_000);
        }
        cache.put(OWNER, "fresh", Rc::new(0), 4_000, 5_000);
        assert_eq!(cache.entries.len(), MAX_ENTRIES);
        cache.put(OWNER, "newer", Rc::new(0), 6_000, 5_000);
        assert_eq!(cache.entries.len(), 2, "the expired ones went");
        for i in 0..2 * MAX_ENTRIES {
            cache.put(OWNER, &format!("n{i}"), Rc::new(i), 6_000, 5_000);
        }
        assert!(cache.entries.len() <= MAX_ENTRIES);
    }
}
