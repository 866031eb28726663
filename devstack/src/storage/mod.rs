//! `/storage/v1`: Supabase Storage's HTTP API for what `@supabase/storage-js` calls — buckets,
//! objects, signed URLs. As the real server does it, every metadata query about objects runs
//! as the caller's role with their JWT claims set, so the project's RLS policies on
//! `storage.objects` decide; the bytes are written under the state directory, only once the
//! row is allowed, and a refused or failed upload leaves neither a row nor a file.

mod buckets;
mod caller;
mod download;
mod error;
mod files;
mod json_body;
mod list;
mod names;
mod objects;
mod signed;
mod upload;

use std::path::PathBuf;

use axum::Router;
use axum::http::{Method, Uri};
use axum::routing::{get, post};

pub use files::FileStore;

use crate::project::SharedProject;
use error::StorageError;

/// The CLI's default global upload limit (`[storage] file_size_limit = "50MiB"`).
pub const GLOBAL_FILE_SIZE_LIMIT: u64 = 50 * 1024 * 1024;

/// Where a project's object bytes live: `<state dir>/storage/<project>`.
pub fn files_dir(state_dir: &std::path::Path, project: &str) -> PathBuf {
    state_dir.join("storage").join(project)
}

pub fn router() -> Router<SharedProject> {
    Router::new()
        .route("/bucket", get(buckets::list).post(buckets::create))
        .route(
            "/bucket/{id}",
            get(buckets::get)
                .put(buckets::update)
                .delete(buckets::delete),
        )
        .route("/bucket/{id}/empty", post(buckets::empty))
        .route(
            "/object/{bucket}/{*name}",
            post(objects::create)
                .put(objects::update)
                .get(download::authenticated)
                .delete(objects::delete_one),
        )
        .route(
            "/object/{bucket}",
            axum::routing::delete(objects::delete_many),
        )
        .route(
            "/object/authenticated/{bucket}/{*name}",
            get(download::authenticated),
        )
        .route("/object/public/{bucket}/{*name}", get(download::public))
        .route("/object/info/{bucket}/{*name}", get(download::info))
        .route(
            "/object/info/authenticated/{bucket}/{*name}",
            get(download::info),
        )
        .route(
            "/object/info/public/{bucket}/{*name}",
            get(download::public_info),
        )
        .route("/object/list/{bucket}", post(list::list))
        .route("/object/move", post(objects::move_object))
        .route("/object/copy", post(objects::copy_object))
        .route(
            "/object/sign/{bucket}/{*name}",
            post(signed::sign_one).get(signed::download),
        )
        .route("/object/sign/{bucket}", post(signed::sign_many))
        .route(
            "/object/upload/sign/{bucket}/{*name}",
            post(signed::sign_upload).put(signed::upload),
        )
        .fallback(not_served)
}

/// Routes devstack does not serve — image transformations (`/render/image`), the S3 protocol
/// (`/s3`), resumable uploads (`/upload/resumable`) and anything unknown — get what a Storage
/// server without those features answers: its not-found handler.
async fn not_served(method: Method, uri: Uri) -> StorageError {
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    StorageError::route_not_found(method.as_str(), path)
}
