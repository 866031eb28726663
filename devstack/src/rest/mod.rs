//! `/rest/v1`: a PostgREST-compatible API. (Being written; see the project README.)

use axum::Router;

use crate::db::Pools;
use crate::project::SharedProject;

pub struct RestState {}

impl RestState {
    pub async fn load(_pools: &Pools) -> anyhow::Result<Self> {
        Ok(Self {})
    }
}

pub fn spawn_schema_listener(_project: SharedProject, _db_port: u16) {}

pub fn router() -> Router<SharedProject> {
    Router::new()
}
