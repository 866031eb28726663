//! One running project: its config, keys, pools and the state its APIs keep.

use std::sync::Arc;

use crate::config::ProjectConfig;
use crate::db::Pools;
use crate::jwt::JwtKeys;

pub type SharedProject = Arc<Project>;

pub struct Project {
    pub config: ProjectConfig,
    /// Signs access tokens and verifies every bearer token (`JwtKeys::verify`).
    pub jwt: JwtKeys,
    pub pools: Pools,
    pub rest: crate::rest::RestState,
    pub realtime: crate::realtime::RealtimeState,
    /// Where `/functions/v1/*` is forwarded (`wrangler dev`), if anywhere.
    pub functions_url: Option<String>,
    /// The built web app served at `/` (`--web-dir`), main project only.
    pub web_dir: Option<std::path::PathBuf>,
    pub http: reqwest::Client,
    /// The mail catcher's messages (served on the mail port, main project only).
    pub mail: crate::mail::Mailbox,
    /// How `/auth/v1` behaves (GoTrue's settings).
    pub auth: std::sync::Arc<crate::auth::AuthSettings>,
    /// Where `/storage/v1` keeps the objects' bytes.
    pub storage: crate::storage::FileStore,
}
