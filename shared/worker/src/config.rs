//! What every function needs to reach its Supabase project, read from `Env` once per isolate:
//! an isolate serves one deployment, whose secrets and variables do not change while it lives,
//! and each read is a crossing into JS (measured in bench/HISTORY.md).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::thread::LocalKey;

use edge_crypto::KeyRing;
use edge_http::ApiError;
use worker::Env;

use crate::respond::internal_error;

/// The project's URL and keys, under the names Supabase gives its Edge Functions.
#[derive(Clone)]
pub struct SupabaseConfig {
    /// `SUPABASE_URL`, without a trailing slash.
    pub url: String,
    /// `SUPABASE_ANON_KEY`, else `SUPABASE_PUBLISHABLE_KEY`: sent as `apikey` with a caller's
    /// token.
    pub anon_key: String,
    /// `SUPABASE_SERVICE_ROLE_KEY`, else `SUPABASE_SECRET_KEY`: for the steps a caller's rights
    /// do not cover.
    pub service_role_key: String,
    /// `SUPABASE_JWT_SECRET`: verifies HS256 access tokens; without it only JWKS-signed ones.
    pub jwt_secret: Option<String>,
}

impl std::fmt::Debug for SupabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupabaseConfig")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl SupabaseConfig {
    pub fn from_env(env: &Env) -> Result<Self, ApiError> {
        Ok(Self {
            url: required_secret(env, "SUPABASE_URL")?
                .trim_end_matches('/')
                .to_owned(),
            anon_key: project_key(env, "SUPABASE_ANON_KEY", "SUPABASE_PUBLISHABLE_KEY")?,
            service_role_key: project_key(env, "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_SECRET_KEY")?,
            jwt_secret: optional_setting(env, "SUPABASE_JWT_SECRET"),
        })
    }
}

/// A project API key: the legacy JWT key if set, else the new opaque key (a project created
/// with only `sb_publishable_…`/`sb_secret_…` keys has no legacy ones).
fn project_key(env: &Env, legacy: &str, opaque: &str) -> Result<String, ApiError> {
    match optional_setting(env, legacy) {
        Some(key) => Ok(key),
        None => optional_setting(env, opaque).ok_or_else(|| {
            internal_error(
                "configuration",
                format!("neither {legacy} nor {opaque} is set"),
            )
        }),
    }
}

/// A secret or variable that must be set; its absence is the operator's error (500), logged
/// by name only.
pub fn required_secret(env: &Env, name: &str) -> Result<String, ApiError> {
    optional_setting(env, name)
        .ok_or_else(|| internal_error("configuration", format!("{name} is not set")))
}

thread_local! {
    /// Settings read so far in this isolate, set or not.
    static SETTINGS: RefCell<HashMap<String, Option<String>>> = RefCell::new(HashMap::new());
    /// `ENCRYPTION_KEY_RING`, parsed on first use.
    static KEY_RING: RefCell<Option<Rc<KeyRing>>> = const { RefCell::new(None) };
}

/// A secret (`wrangler secret put`, `.dev.vars`) or a plain variable (`[vars]`), if set and
/// not empty.
pub fn optional_setting(env: &Env, name: &str) -> Option<String> {
    if let Some(known) = SETTINGS.with(|s| s.borrow().get(name).cloned()) {
        return known;
    }
    let value = env
        .secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .filter(|v| !v.trim().is_empty());
    SETTINGS.with(|s| s.borrow_mut().insert(name.to_owned(), value.clone()));
    value
}

/// The server's key ring (`ENCRYPTION_KEY_RING`), parsed once per isolate; a missing or
/// malformed ring is the operator's error (500).
pub fn key_ring(env: &Env) -> Result<Rc<KeyRing>, ApiError> {
    once_per_isolate(&KEY_RING, || {
        KeyRing::parse(&required_secret(env, "ENCRYPTION_KEY_RING")?)
            .map_err(|e| internal_error("reading ENCRYPTION_KEY_RING", e))
    })
}

/// What `build` makes from settings, made on first use and kept in `cell` for the isolate's
/// life: an isolate serves one deployment, whose settings do not change while it lives. A
/// failed build is not kept (the next request tries again).
pub fn once_per_isolate<T>(
    cell: &'static LocalKey<RefCell<Option<Rc<T>>>>,
    build: impl FnOnce() -> Result<T, ApiError>,
) -> Result<Rc<T>, ApiError> {
    if let Some(made) = cell.with(|c| c.borrow().clone()) {
        return Ok(made);
    }
    let made = Rc::new(build()?);
    cell.with(|c| *c.borrow_mut() = Some(made.clone()));
    Ok(made)
}
