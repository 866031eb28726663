//! The caller's stored connection: looked up by owner and name, its URL checked again with
//! save-connection's rules, its service key opened. A row written some other way than by
//! save-connection (an older version, SQL) is refused here, before anything is sent.

use std::cell::RefCell;
use std::rc::Rc;

use edge_crypto::SecretString;
use edge_http::ApiError;
use edge_tenant::{
    ConnectionKeyAad, KeyBinding, KeyRole, LOOPBACK_SWITCH, TenantUrl, loopback_allowed,
};
use edge_worker::{RequestContext, Rest, internal_error, optional_setting};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::connection_cache::{ConnectionCache, DEFAULT_TTL_MS};

thread_local! {
    static CACHE: RefCell<ConnectionCache<StoredConnection>> = RefCell::default();
}

/// What tenant-proxy reads of a stored connection (with the service key: the envelopes are
/// not readable with the caller's token).
#[derive(Deserialize)]
pub struct StoredConnection {
    url: String,
    pub allow_writes: bool,
    service_role_key_encrypted: String,
    key_binding: i16,
}

/// The owner argument is what keeps one user's request away from another's connection;
/// "not yours" and "does not exist" answer the same 404. `connection_for_relay` first refuses a
/// blocked or deleted owner (403 account_blocked), in the same request. A connection found is
/// kept for `TENANT_CONNECTION_CACHE_MS` (see [`crate::connection_cache`]); a miss or a refusal
/// is not kept.
pub async fn find(
    ctx: &RequestContext,
    owner: Uuid,
    name: &str,
) -> Result<Rc<StoredConnection>, ApiError> {
    let ttl = optional_setting(&ctx.env, "TENANT_CONNECTION_CACHE_MS")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_TTL_MS);
    let now = worker::js_sys::Date::now() as u64;
    if ttl > 0
        && let Some(hit) = CACHE.with(|c| c.borrow_mut().get(owner, name, now, ttl))
    {
        return Ok(hit);
    }
    let found = Rc::new(look_up(ctx, owner, name).await?);
    if ttl > 0 {
        CACHE.with(|c| c.borrow_mut().put(owner, name, found.clone(), now, ttl));
    }
    Ok(found)
}

async fn look_up(
    ctx: &RequestContext,
    owner: Uuid,
    name: &str,
) -> Result<StoredConnection, ApiError> {
    let args = json!({ "p_user_id": owner.to_string(), "p_name": name });
    let lookup = Rest::as_service(&ctx.config)
        .rpc("connection_for_relay", &args)
        .select("url,allow_writes,service_role_key_encrypted,key_binding");
    let rows: Vec<StoredConnection> = Rest::run(lookup)
        .await?
        .map_err(|e| e.unexpected("looking up a connection"))?;
    rows.into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("No connection named {name}")))
}

impl StoredConnection {
    /// The stored URL, if save-connection's rules still accept it; else 409
    /// `connection_url_refused`.
    pub fn checked_url(&self, ctx: &RequestContext) -> Result<TenantUrl, ApiError> {
        let allow_loopback = loopback_allowed(optional_setting(&ctx.env, LOOPBACK_SWITCH));
        TenantUrl::parse(&self.url, allow_loopback).map_err(|e| {
            ApiError::conflict(
                "connection_url_refused",
                format!(
                    "This connection's stored URL is refused ({}); save the connection again \
                     with its project URL",
                    e.message()
                ),
            )
        })
    }

    /// The tenant's service key, opened with the binding the row was sealed with; 409
    /// `connection_keys_unreadable` when it does not open (a key gone from the ring, or a URL
    /// other than the one it was sealed for).
    pub fn service_key(
        &self,
        ctx: &RequestContext,
        owner: Uuid,
        name: &str,
        url: &TenantUrl,
    ) -> Result<SecretString, ApiError> {
        let key_ring = edge_worker::key_ring(&ctx.env)?;
        let binding = KeyBinding::from_column(self.key_binding)
            .ok_or_else(|| internal_error("reading a connection", "unknown key_binding"))?;
        let aad = ConnectionKeyAad::new(binding, owner, name, url, KeyRole::ServiceRole);
        key_ring
            .open_str(&self.service_role_key_encrypted, aad.aad())
            .map_err(|e| {
                worker::console_error!("{} opening a connection key failed: {e}", ctx.request_id);
                ApiError::conflict(
                    "connection_keys_unreadable",
                    "The stored keys of this connection cannot be decrypted; save the connection again",
                )
            })
    }
}
