//! An in-memory JWKS cache that refetches on an unknown `kid`, at most once per interval.

use std::future::Future;
use std::sync::{Mutex, PoisonError};

use thiserror::Error;

use crate::jwks::{JwkSet, KeyBackend, VerifyingKey};
use crate::{AuthError, UnixTime};

/// Fetching the JWKS failed; the message is for logs only.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("JWKS fetch failed: {0}")]
pub struct FetchError(pub String);

/// Fetches the project's JWKS document (the body of `GET <SUPABASE_URL>/auth/v1/.well-known/jwks.json`).
///
/// The caller supplies it per call, so the cache itself stays free of any HTTP stack: a Worker
/// passes a closure around `worker::Fetch`, tests pass a closure returning a fixed document.
/// Closures `Fn() -> impl Future<Output = Result<String, FetchError>>` implement it.
pub trait JwksFetcher {
    /// Returns the JWKS JSON text.
    fn fetch_jwks(&self) -> impl Future<Output = Result<String, FetchError>>;
}

impl<F, Fut> JwksFetcher for F
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<String, FetchError>>,
{
    fn fetch_jwks(&self) -> impl Future<Output = Result<String, FetchError>> {
        self()
    }
}

/// A fetcher for deployments that only use HS256: there is no JWKS to fetch.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoJwks;

impl JwksFetcher for NoJwks {
    async fn fetch_jwks(&self) -> Result<String, FetchError> {
        Err(FetchError("no JWKS source configured".to_owned()))
    }
}

/// When to go back to the JWKS endpoint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefreshPolicy {
    /// A successfully fetched set is trusted this long before it is refreshed (so a key removed
    /// from the JWKS stops being accepted).
    pub(crate) max_age_secs: i64,
    /// No two fetch attempts closer than this, whatever tokens arrive: a flood of tokens with
    /// made-up `kid`s costs at most one fetch per interval.
    pub(crate) min_refetch_secs: i64,
}

#[derive(Debug, Default)]
struct CacheState {
    keys: JwkSet,
    fetched_at: Option<i64>,
    last_attempt: Option<i64>,
}

impl CacheState {
    /// The key for `kid` if the set holding it was fetched less than `max_age_secs` ago.
    fn fresh_key(&self, kid: &str, now: i64, max_age_secs: i64) -> Option<VerifyingKey> {
        let fresh = self.fetched_at.is_some_and(|at| now - at < max_age_secs);
        fresh.then(|| self.keys.get(kid).cloned()).flatten()
    }
}

/// Keys by `kid`, shared by all requests an isolate serves.
#[derive(Debug)]
pub(crate) struct JwksCache {
    policy: RefreshPolicy,
    backend: KeyBackend,
    state: Mutex<CacheState>,
    /// Held for the whole of a JWKS fetch, so requests that need a key nobody has yet wait for
    /// the fetch under way instead of being refused by the refetch interval it started (a cold
    /// isolate's first burst of requests would otherwise get 503 but for the first).
    fetching: futures_util::lock::Mutex<()>,
}

/// What the cache decided under its lock, before any await.
enum Lookup {
    Hit(VerifyingKey),
    Fetch {
        stale: Option<VerifyingKey>,
    },
    /// Throttled, and the `kid` is not in the last good set.
    Miss,
    /// Throttled, and no set was ever fetched successfully.
    Unavailable,
}

impl JwksCache {
    pub(crate) fn new(policy: RefreshPolicy, backend: KeyBackend) -> Self {
        Self {
            policy,
            backend,
            state: Mutex::new(CacheState::default()),
            fetching: futures_util::lock::Mutex::new(()),
        }
    }

    /// Returns the key for `kid`, fetching the JWKS when the key is unknown or the set is older
    /// than `max_age`, but never more often than `min_refetch`. A stale key is still used when
    /// the refresh fails or is not yet allowed (Supabase keeps rotated-out keys published for a
    /// while, so a short outage of the JWKS endpoint must not log everyone out).
    pub(crate) async fn key(
        &self,
        kid: &str,
        now: UnixTime,
        fetcher: &impl JwksFetcher,
    ) -> Result<VerifyingKey, AuthError> {
        if let Some(key) = self.fresh(kid, now.as_secs()) {
            return Ok(key);
        }
        let _fetching = match self.fetching.try_lock() {
            Some(guard) => guard,
            // A fetch is under way: a key we already hold (stale) serves meanwhile; a key we do
            // not hold waits for that fetch's outcome.
            None => match self.cached(kid) {
                Some(key) => return Ok(key),
                None => self.fetching.lock().await,
            },
        };
        let stale = match self.decide(kid, now.as_secs()) {
            Lookup::Hit(key) => return Ok(key),
            Lookup::Miss => return Err(AuthError::UnknownKeyId),
            Lookup::Unavailable => return Err(AuthError::KeysUnavailable),
            Lookup::Fetch { stale } => stale,
        };
        // The state's lock is not held across the fetch, only `fetching`; `last_attempt` was
        // already set, so the requests that waited are throttled, not fetching again.
        let fetched = match fetcher.fetch_jwks().await {
            Ok(body) => JwkSet::from_json_for(&body, self.backend).await.ok(),
            Err(_) => None,
        };
        let mut state = self.lock();
        let fetch_failed = fetched.is_none();
        if let Some(keys) = fetched {
            state.keys = keys;
            state.fetched_at = Some(now.as_secs());
        }
        match state.keys.get(kid) {
            Some(key) => Ok(key.clone()),
            None if fetch_failed => match stale {
                Some(key) => Ok(key),
                None if state.fetched_at.is_none() => Err(AuthError::KeysUnavailable),
                None => Err(AuthError::UnknownKeyId),
            },
            None => Err(AuthError::UnknownKeyId),
        }
    }

    /// The key for `kid` if the last good set holds it, fresh or not, without waiting for any
    /// fetch; `true` beside it when the set is past its refresh age and the refetch interval
    /// allows a refresh, which the caller is then to run ([`JwksCache::refresh`]) without
    /// holding the request up. None: the key is unknown, and [`JwksCache::key`] must fetch.
    pub(crate) fn held(&self, kid: &str, now: UnixTime) -> Option<(VerifyingKey, bool)> {
        let now = now.as_secs();
        let mut state = self.lock();
        if let Some(key) = state.fresh_key(kid, now, self.policy.max_age_secs) {
            return Some((key, false));
        }
        let key = state.keys.get(kid).cloned()?;
        let refresh_due = self.may_fetch(&state, now);
        if refresh_due {
            state.last_attempt = Some(now);
        }
        Some((key, refresh_due))
    }

    /// Fetches the set again (the refresh [`JwksCache::held`] asked for) and keeps it if it is a
    /// good one; a failure keeps the set held (its keys stay usable, as in [`JwksCache::key`]).
    /// Nothing happens while another fetch is under way.
    pub(crate) async fn refresh(&self, now: UnixTime, fetcher: &impl JwksFetcher) {
        let Some(_fetching) = self.fetching.try_lock() else {
            return;
        };
        let fetched = match fetcher.fetch_jwks().await {
            Ok(body) => JwkSet::from_json_for(&body, self.backend).await.ok(),
            Err(_) => None,
        };
        if let Some(keys) = fetched {
            let mut state = self.lock();
            state.keys = keys;
            state.fetched_at = Some(now.as_secs());
        }
    }

    /// Whether the refetch interval allows a fetch attempt now (a clock gone back allows one).
    fn may_fetch(&self, state: &CacheState, now: i64) -> bool {
        state
            .last_attempt
            .is_none_or(|at| now - at >= self.policy.min_refetch_secs || now < at)
    }

    /// The key for `kid` if the set holding it is younger than the refresh age.
    fn fresh(&self, kid: &str, now: i64) -> Option<VerifyingKey> {
        self.lock().fresh_key(kid, now, self.policy.max_age_secs)
    }

    fn cached(&self, kid: &str) -> Option<VerifyingKey> {
        self.lock().keys.get(kid).cloned()
    }

    fn decide(&self, kid: &str, now: i64) -> Lookup {
        let mut state = self.lock();
        if let Some(key) = state.fresh_key(kid, now, self.policy.max_age_secs) {
            return Lookup::Hit(key);
        }
        let cached = state.keys.get(kid).cloned();
        if !self.may_fetch(&state, now) {
            return match cached {
                Some(key) => Lookup::Hit(key),
                None if state.fetched_at.is_none() => Lookup::Unavailable,
                None => Lookup::Miss,
            };
        }
        state.last_attempt = Some(now);
        Lookup::Fetch { stale: cached }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // The state is always left consistent, so a panic elsewhere must not disable auth.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
