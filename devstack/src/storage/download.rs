//! Reading objects: the bytes (authenticated, public, and — in `signed` — by token), with the
//! headers Storage's asset renderer sends (type, ETag, cache control, last modified, length,
//! `Content-Disposition` for `download=`), single byte ranges, `If-None-Match`; and `info`.
//! Authenticated reads find the row as the caller (RLS decides); public reads as the
//! superuser, and only from a public bucket.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::caller::Caller;
use super::error::{StorageError, StorageResult};
use crate::gateway::header_str;
use crate::project::SharedProject;

#[derive(Deserialize)]
struct DownloadQuery {
    download: Option<String>,
}

/// An object's row, as the readers need it.
pub struct StoredObject {
    id: uuid::Uuid,
    name: String,
    bucket_id: String,
    version: String,
    metadata: Value,
    user_metadata: Option<Value>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl StoredObject {
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn metadata(&self) -> &Value {
        &self.metadata
    }

    pub fn user_metadata(&self) -> Option<&Value> {
        self.user_metadata.as_ref()
    }
}

/// The object's row as `caller` sees it (RLS), or Storage's `NoSuchKey`.
pub async fn find_object(
    project: &SharedProject,
    caller: &Caller,
    bucket: &str,
    name: &str,
) -> StorageResult<StoredObject> {
    let mut client = caller.connect(project).await?;
    let tx = caller.begin(&mut client).await?;
    let row = tx
        .query_opt(
            "SELECT id, name, bucket_id, coalesce(version, ''), coalesce(metadata, '{}'), user_metadata, \
             coalesce(created_at, now()), coalesce(updated_at, now()) \
             FROM storage.objects WHERE bucket_id = $1 AND name = $2",
            &[&bucket, &name],
        )
        .await?
        .ok_or_else(StorageError::no_such_key)?;
    tx.commit().await?;
    Ok(StoredObject {
        id: row.get(0),
        name: row.get(1),
        bucket_id: row.get(2),
        version: row.get(3),
        metadata: row.get(4),
        user_metadata: row.get(5),
        created_at: row.get(6),
        updated_at: row.get(7),
    })
}

async fn require_public_bucket(project: &SharedProject, bucket: &str) -> StorageResult<()> {
    let client = Caller::super_user(None).connect(project).await?;
    client
        .query_opt(
            "SELECT 1 FROM storage.buckets WHERE id = $1 AND public",
            &[&bucket],
        )
        .await?
        .map(|_| ())
        .ok_or_else(StorageError::no_such_bucket)
}

pub async fn authenticated(
    State(project): State<SharedProject>,
    Path((bucket, name)): Path<(String, String)>,
    caller: Caller,
    asked: AssetRequest,
) -> StorageResult<Response> {
    let object = find_object(&project, &caller, &bucket, &name).await?;
    asked.serve(&project, &object).await
}

pub async fn public(
    State(project): State<SharedProject>,
    Path((bucket, name)): Path<(String, String)>,
    asked: AssetRequest,
) -> StorageResult<Response> {
    require_public_bucket(&project, &bucket).await?;
    let object = find_object(&project, &Caller::super_user(None), &bucket, &name).await?;
    asked.serve(&project, &object).await
}

pub async fn info(
    State(project): State<SharedProject>,
    Path((bucket, name)): Path<(String, String)>,
    caller: Caller,
) -> StorageResult<Response> {
    let object = find_object(&project, &caller, &bucket, &name).await?;
    Ok(info_response(&object))
}

pub async fn public_info(
    State(project): State<SharedProject>,
    Path((bucket, name)): Path<(String, String)>,
) -> StorageResult<Response> {
    require_public_bucket(&project, &bucket).await?;
    let object = find_object(&project, &Caller::super_user(None), &bucket, &name).await?;
    Ok(info_response(&object))
}

fn info_response(object: &StoredObject) -> Response {
    let meta = &object.metadata;
    let mut response = Json(json!({
        "id": object.id,
        "name": object.name,
        "version": object.version,
        "bucket_id": object.bucket_id,
        "size": meta.get("size"),
        "content_type": meta.get("mimetype"),
        "cache_control": meta.get("cacheControl"),
        "etag": meta.get("eTag"),
        "metadata": object.user_metadata,
        "last_modified": object.updated_at,
        "created_at": object.created_at,
    }))
    .into_response();
    set_meta_headers(response.headers_mut(), meta);
    response
}

/// ETag, Cache-Control and Last-Modified from the object's metadata.
fn set_meta_headers(headers: &mut HeaderMap, meta: &Value) {
    let text = |k: &str| meta.get(k).and_then(Value::as_str);
    if let Some(etag) = text("eTag").and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(cache) = text("cacheControl").and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(header::CACHE_CONTROL, cache);
    }
    let modified = text("lastModified")
        .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string()
        });
    if let Some(modified) = modified.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(header::LAST_MODIFIED, modified);
    }
}

/// A requested `bytes=` range, resolved against the object's size.
fn byte_range(range: &str, size: u64) -> StorageResult<Option<(u64, u64)>> {
    let Some(spec) = range.trim().strip_prefix("bytes=") else {
        return Err(StorageError::invalid_range());
    };
    let (start, end) = spec
        .split_once('-')
        .ok_or_else(StorageError::invalid_range)?;
    let parse = |v: &str| {
        v.trim()
            .parse::<u64>()
            .map_err(|_| StorageError::invalid_range())
    };
    let (first, last) = match (start.trim().is_empty(), end.trim().is_empty()) {
        (false, false) => (parse(start)?, parse(end)?.min(size.saturating_sub(1))),
        (false, true) => (parse(start)?, size.saturating_sub(1)),
        (true, false) => {
            let suffix = parse(end)?.min(size);
            (size - suffix, size.saturating_sub(1))
        }
        (true, true) => return Err(StorageError::invalid_range()),
    };
    if size == 0 || first > last || first >= size {
        return Err(StorageError::invalid_range());
    }
    Ok(Some((first, last)))
}

/// How an object is asked for: `GET` or `HEAD` (which `get` routes also answer: the headers
/// without the bytes), `Range`, `If-None-Match`, and `download=`.
pub struct AssetRequest {
    headers: HeaderMap,
    with_body: bool,
    download: Option<String>,
}

impl FromRequestParts<SharedProject> for AssetRequest {
    type Rejection = StorageError;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &SharedProject,
    ) -> Result<Self, Self::Rejection> {
        let Query(query) = Query::<DownloadQuery>::try_from_uri(&parts.uri)
            .map_err(|e| StorageError::invalid_request(e.body_text()))?;
        Ok(Self {
            headers: parts.headers.clone(),
            with_body: parts.method != Method::HEAD,
            download: query.download,
        })
    }
}

impl AssetRequest {
    /// The object's bytes (or only their headers).
    pub async fn serve(
        &self,
        project: &SharedProject,
        object: &StoredObject,
    ) -> StorageResult<Response> {
        serve(
            project,
            object,
            &self.headers,
            self.download.as_deref(),
            self.with_body,
        )
        .await
    }
}

async fn serve(
    project: &SharedProject,
    object: &StoredObject,
    request: &HeaderMap,
    download: Option<&str>,
    with_body: bool,
) -> StorageResult<Response> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};

    let meta = &object.metadata;
    let path = project.storage.path(&object.version);
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| StorageError::no_such_key())?;
    let size = file
        .metadata()
        .await
        .map_err(|e| StorageError::internal("object file", e))?
        .len();
    let etag = meta.get("eTag").and_then(Value::as_str);
    if etag.is_some() && header_str(request, "if-none-match") == etag {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        set_meta_headers(response.headers_mut(), meta);
        return Ok(response);
    }
    let range = match header_str(request, "range") {
        Some(range) => byte_range(range, size)?,
        None => None,
    };
    let (status, first, length) = match range {
        Some((first, last)) => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        None => (StatusCode::OK, 0, size),
    };
    let body = if with_body {
        file.seek(std::io::SeekFrom::Start(first))
            .await
            .map_err(|e| StorageError::internal("object file", e))?;
        Body::from_stream(tokio_util::io::ReaderStream::new(file.take(length)))
    } else {
        Body::empty()
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let mime = meta
        .get("mimetype")
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream");
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert("x-robots-tag", HeaderValue::from_static("none"));
    set_meta_headers(headers, meta);
    if let Some((first, last)) = range {
        let value = format!("bytes {first}-{last}/{size}");
        headers.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&value).expect("ascii"),
        );
    }
    if let Some(name) = download {
        let value = if name.is_empty() {
            "attachment;".to_owned()
        } else {
            let encoded = encode_uri_component(name);
            format!("attachment; filename={encoded}; filename*=UTF-8''{encoded}")
        };
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// JavaScript's `encodeURIComponent`, which Storage applies to `download=` names.
fn encode_uri_component(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_against_the_size() {
        assert_eq!(byte_range("bytes=0-3", 10).unwrap(), Some((0, 3)));
        assert_eq!(byte_range("bytes=5-", 10).unwrap(), Some((5, 9)));
        assert_eq!(byte_range("bytes=-4", 10).unwrap(), Some((6, 9)));
        assert_eq!(byte_range("bytes=8-100", 10).unwrap(), Some((8, 9)));
        for bad in [
            "bytes=10-",
            "bytes=4-2",
            "bytes=-",
            "items=0-1",
            "bytes=a-b",
        ] {
            assert!(byte_range(bad, 10).is_err(), "{bad}");
        }
    }

    #[test]
    fn download_names_are_uri_encoded() {
        assert_eq!(
            encode_uri_component("my file (1).png"),
            "my%20file%20(1).png"
        );
        assert_eq!(encode_uri_component("é"), "%C3%A9");
    }
}
