//! `/auth/v1`: a GoTrue-compatible API. (Being written; see the project README.)

use axum::Router;

use crate::project::SharedProject;

pub fn router() -> Router<SharedProject> {
    Router::new()
}
