//! The signed Storage URLs a claimed task's files travel by: a download URL for its image in
//! `images` (valid for the lease and a margin) and an upload URL for its mask in `masks`
//! (`x-upsert`, so a retried attempt replaces what an earlier one left). Made with the service
//! key through Storage's own signing routes, as storage-js's `createSignedUrls` and
//! `createSignedUploadUrl` call them: one request for all the images, one per mask.

use std::time::Duration;

use edge_http::ApiError;
use edge_worker::{SupabaseConfig, fetch_text, internal_error};
use serde::Deserialize;
use serde_json::json;

const STORAGE_TIMEOUT: Duration = Duration::from_secs(9);
/// The image stays downloadable this long past the lease asked for.
const DOWNLOAD_MARGIN_SECS: u32 = 300;

#[derive(Deserialize)]
struct SignedDownload {
    path: Option<String>,
    #[serde(rename = "signedURL")]
    signed_url: Option<String>,
}

#[derive(Deserialize)]
struct SignedUpload {
    url: String,
}

async fn storage_post(
    config: &SupabaseConfig,
    route: &str,
    body: &str,
    upsert: bool,
) -> Result<String, ApiError> {
    let bearer = format!("Bearer {}", config.service_role_key);
    let mut headers = vec![
        ("apikey", config.service_role_key.as_str()),
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    if upsert {
        headers.push(("x-upsert", "true"));
    }
    let (status, text) = fetch_text(
        "POST",
        &format!("{}/storage/v1{route}", config.url),
        headers,
        Some(body),
        STORAGE_TIMEOUT,
    )
    .await
    .map_err(|e| e.into_api_error("Storage"))?;
    if !(200..300).contains(&status) {
        return Err(internal_error(
            "signing a task's Storage URLs",
            format!("Storage answered {status}: {text}"),
        ));
    }
    Ok(text)
}

/// Signed download URLs for `paths` in `images`, in the same order (None where Storage has none).
pub async fn sign_downloads(
    config: &SupabaseConfig,
    paths: &[&str],
    lease_seconds: u32,
) -> Result<Vec<Option<String>>, ApiError> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let body = json!({ "expiresIn": lease_seconds + DOWNLOAD_MARGIN_SECS, "paths": paths });
    let text = storage_post(config, "/object/sign/images", &body.to_string(), false).await?;
    let signed: Vec<SignedDownload> =
        serde_json::from_str(&text).map_err(|e| internal_error("reading signed URLs", e))?;
    Ok(paths
        .iter()
        .map(|path| {
            signed
                .iter()
                .find(|s| s.path.as_deref() == Some(path))
                .and_then(|s| s.signed_url.as_ref())
                .map(|url| format!("{}/storage/v1{url}", config.url))
        })
        .collect())
}

/// A signed upload URL for `path` in `masks`.
pub async fn sign_mask_upload(config: &SupabaseConfig, path: &str) -> Result<String, ApiError> {
    let route = format!("/object/upload/sign/masks/{path}");
    let text = storage_post(config, &route, "{}", true).await?;
    let signed: SignedUpload = serde_json::from_str(&text)
        .map_err(|e| internal_error("reading a signed upload URL", e))?;
    Ok(format!("{}/storage/v1{}", config.url, signed.url))
}
