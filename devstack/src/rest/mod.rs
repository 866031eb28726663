//! `/rest/v1`: a PostgREST-compatible API over the project's Postgres, for the part of
//! PostgREST that clients (supabase-js / postgrest-js v2) use. Every request runs as
//! PostgREST runs it — one transaction, `role` and `request.jwt.claims` set locally — so
//! row-level security is Postgres's own.

mod ast;
mod conditions;
mod error;
mod executor;
mod handlers;
mod junctions;
mod preferences;
mod query_params;
mod query_parser;
mod relationships;
mod response;
mod rpc;
mod schema_cache;
mod schema_listener;
mod select_query;
mod sql_text;
mod statement_timeout;
mod table_statements;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::routing::any;

use crate::db::Pools;
use crate::project::SharedProject;
pub(crate) use executor::{legacy_claim_settings, set_local};
use schema_cache::SchemaCache;

/// What `/rest/v1` keeps between requests: the schema cache, swapped whole on reload.
pub struct RestState {
    cache: RwLock<Arc<SchemaCache>>,
    /// PostgREST's `db-aggregates-enabled` (off by default, as on Supabase): `count()`,
    /// `sum()` … in `select`.
    aggregates_enabled: bool,
}

impl RestState {
    pub async fn load(pools: &Pools, aggregates_enabled: bool) -> anyhow::Result<Self> {
        let client = pools.admin.get().await?;
        let cache = SchemaCache::load(&**client).await?;
        Ok(Self {
            cache: RwLock::new(Arc::new(cache)),
            aggregates_enabled,
        })
    }

    fn cache(&self) -> Arc<SchemaCache> {
        self.cache
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Re-reads the catalogs; on failure the previous cache stays in use.
    async fn reload(&self, pools: &Pools) {
        let loaded = match pools.admin.get().await {
            Ok(client) => SchemaCache::load(&**client).await,
            Err(e) => Err(e.into()),
        };
        match loaded {
            Ok(cache) => {
                *self
                    .cache
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(cache);
                tracing::info!("schema cache reloaded");
            }
            Err(e) => tracing::error!("schema cache reload failed: {e:#}"),
        }
    }
}

pub fn spawn_schema_listener(project: SharedProject, db_port: u16) {
    schema_listener::spawn(project, db_port);
}

pub fn router() -> Router<SharedProject> {
    Router::new()
        .route("/rpc/{function}", any(handlers::rpc))
        .route("/{table}", any(handlers::table))
        .fallback(handlers::invalid_path)
}
