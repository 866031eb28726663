//! JSON request bodies, read as Storage reads them: an empty body is `{}`, and one that does
//! not parse is a 400 naming the problem.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::StorageError;
use crate::project::SharedProject;

pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<SharedProject> for JsonBody<T> {
    type Rejection = StorageError;

    async fn from_request(req: Request, project: &SharedProject) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, project)
            .await
            .map_err(|e| StorageError::invalid_request(e.body_text()))?;
        let body = if bytes.is_empty() {
            b"{}".as_slice()
        } else {
            &bytes
        };
        serde_json::from_slice(body)
            .map(JsonBody)
            .map_err(|e| StorageError::invalid_request(format!("body {e}")))
    }
}
