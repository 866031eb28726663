//! An upload, in the real server's order: the bucket's limits (as the superuser), the body's
//! head (raw or `multipart/form-data`: MIME type, cache control, user metadata), the caller's
//! right to write the row (the insert or upsert tried as the caller and rolled back, so RLS
//! decides before any byte is written), the bytes streamed to disk under the limit, and last
//! the row written as the superuser in the same transaction that keeps the file. A refusal at
//! any step leaves neither row nor file; the rest of the body is read and dropped first, so
//! the client (still sending) gets the answer instead of a reset connection.

use std::time::Duration;

use axum::body::Body;
use axum::http::HeaderMap;
use base64::Engine;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use super::GLOBAL_FILE_SIZE_LIMIT;
use super::caller::Caller;
use super::error::{StorageError, StorageResult};
use super::files::{WriteError, Written};
use super::names::is_empty_folder;
use crate::gateway::header_str;
use crate::project::SharedProject;

/// How much of a refused body is read and dropped, at most, before answering.
const DRAIN_LIMIT: u64 = 1 << 30;
const DRAIN_TIME: Duration = Duration::from_secs(60);

/// What is being uploaded where.
pub struct Target<'a> {
    pub bucket: &'a str,
    pub name: &'a str,
    pub upsert: bool,
    pub owner: Option<String>,
}

/// What the upload answers: the object's id.
pub struct Uploaded {
    pub id: uuid::Uuid,
}

/// Uploads `body` to `target`, the right to do so checked as `checker`.
pub async fn upload(
    project: &SharedProject,
    checker: &Caller,
    target: &Target<'_>,
    headers: &HeaderMap,
    body: Body,
) -> StorageResult<Uploaded> {
    let mut incoming = Incoming::Raw(body.into_data_stream());
    let result = upload_from(project, checker, target, headers, &mut incoming).await;
    if result.is_err() {
        incoming.drain().await;
    }
    result
}

/// Answers `error` for an upload refused before it started, once the body is read and dropped.
pub async fn refuse<T>(body: Body, error: StorageError) -> StorageResult<T> {
    Incoming::Raw(body.into_data_stream()).drain().await;
    Err(error)
}

async fn upload_from(
    project: &SharedProject,
    checker: &Caller,
    target: &Target<'_>,
    headers: &HeaderMap,
    incoming: &mut Incoming,
) -> StorageResult<Uploaded> {
    let limits = bucket_limits(project, target.bucket).await?;
    let max_size = if is_empty_folder(target.name) {
        0
    } else {
        limits
            .file_size_limit
            .map_or(GLOBAL_FILE_SIZE_LIMIT, |l| l.min(GLOBAL_FILE_SIZE_LIMIT))
    };
    let head = incoming.head(headers).await?;
    if !limits.allowed_mime_types.is_empty() && !is_empty_folder(target.name) {
        check_mime_type(&head.mime_type, &limits.allowed_mime_types)?;
    }
    if head.declared_length.is_some_and(|len| len > max_size) {
        return Err(StorageError::entity_too_large());
    }
    let check = ObjectRow {
        metadata: json!({"mimetype": head.mime_type, "contentLength": head.declared_length}),
        user_metadata: head.user_metadata.clone(),
        version: String::new(),
    };
    may_write(project, checker, target, &check).await?;

    let written = match project
        .storage
        .write(incoming.file_stream(), max_size)
        .await
    {
        Ok(written) => written,
        Err(WriteError::TooLarge) => return Err(StorageError::entity_too_large()),
        Err(WriteError::Failed(e)) => return Err(StorageError::internal("upload", e)),
    };
    let row = ObjectRow {
        metadata: json!({
            "eTag": written.etag,
            "size": written.size,
            "mimetype": head.mime_type,
            "cacheControl": head.cache_control,
            "lastModified": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "contentLength": written.size,
            "httpStatusCode": 200,
        }),
        user_metadata: head.user_metadata,
        version: written.version.clone(),
    };
    match complete(project, target, &row, &written).await {
        Ok((id, replaced)) => {
            if let Some(old) = replaced {
                project.storage.remove(&old).await;
            }
            Ok(Uploaded { id })
        }
        Err(e) => {
            project.storage.discard(&written).await;
            Err(e)
        }
    }
}

struct BucketLimits {
    file_size_limit: Option<u64>,
    allowed_mime_types: Vec<String>,
}

async fn bucket_limits(project: &SharedProject, bucket: &str) -> StorageResult<BucketLimits> {
    let client = Caller::super_user(None).connect(project).await?;
    let row = client
        .query_opt(
            "SELECT file_size_limit, coalesce(allowed_mime_types, '{}') FROM storage.buckets WHERE id = $1",
            &[&bucket],
        )
        .await?
        .ok_or_else(StorageError::no_such_bucket)?;
    Ok(BucketLimits {
        file_size_limit: row.get::<_, Option<i64>>(0).map(|l| l.max(0) as u64),
        allowed_mime_types: row.get(1),
    })
}

/// Storage's MIME check: `type/subtype` must equal an allowed type, or its type match an
/// allowed `type/*`. The header's whole value is compared (`text/plain;charset=UTF-8` is not
/// `text/plain`), as the real server does.
pub fn check_mime_type(mime: &str, allowed: &[String]) -> StorageResult<()> {
    let refused = || StorageError::invalid_mime_type(mime);
    let mut parts = mime.split('/');
    let (Some(kind), Some(sub)) = (parts.next(), parts.next()) else {
        return Err(refused());
    };
    let ok = allowed.iter().any(|a| {
        let mut allowed = a.split('/');
        match (allowed.next(), allowed.next()) {
            (Some(t), Some(s)) => t == kind && (s == "*" || s == sub),
            _ => false,
        }
    });
    if ok { Ok(()) } else { Err(refused()) }
}

/// The columns an upload writes.
pub struct ObjectRow {
    pub metadata: Value,
    pub user_metadata: Option<Value>,
    pub version: String,
}

fn owner_uuid(owner: &Option<String>) -> Option<uuid::Uuid> {
    owner.as_deref().and_then(|o| uuid::Uuid::parse_str(o).ok())
}

/// The insert (or upsert) of an upload. An upsert replaces the row's bytes and metadata and
/// makes the uploader its owner.
fn write_statement(upsert: bool) -> String {
    let insert = "INSERT INTO storage.objects (bucket_id, name, owner, owner_id, metadata, user_metadata, version) \
                  VALUES ($1, $2, $3, $4, $5, $6, $7)";
    if upsert {
        format!(
            "{insert} ON CONFLICT (bucket_id, name) DO UPDATE SET owner = excluded.owner, \
             owner_id = excluded.owner_id, metadata = excluded.metadata, \
             user_metadata = excluded.user_metadata, version = excluded.version, \
             last_accessed_at = now() RETURNING id"
        )
    } else {
        format!("{insert} RETURNING id")
    }
}

/// Tries the row as `checker` and rolls back: RLS (and the unique name) decide.
pub async fn may_write(
    project: &SharedProject,
    checker: &Caller,
    target: &Target<'_>,
    row: &ObjectRow,
) -> StorageResult<()> {
    let mut client = checker.connect(project).await?;
    let tx = checker.begin(&mut client).await?;
    insert_row(&tx, target, row).await?;
    tx.rollback().await?;
    Ok(())
}

async fn insert_row(
    tx: &deadpool_postgres::Transaction<'_>,
    target: &Target<'_>,
    row: &ObjectRow,
) -> StorageResult<uuid::Uuid> {
    let inserted = tx
        .query_one(
            &write_statement(target.upsert),
            &[
                &target.bucket,
                &target.name,
                &owner_uuid(&target.owner),
                &target.owner,
                &row.metadata,
                &row.user_metadata,
                &row.version,
            ],
        )
        .await
        .map_err(|e| match e.as_db_error().map(|d| d.code().code()) {
            Some("23505") => StorageError::key_already_exists(),
            _ => StorageError::from_db(&e),
        })?;
    Ok(inserted.get(0))
}

/// Writes the row as the superuser and keeps the file in one transaction; returns the id and
/// the version the upload replaced.
async fn complete(
    project: &SharedProject,
    target: &Target<'_>,
    row: &ObjectRow,
    written: &Written,
) -> StorageResult<(uuid::Uuid, Option<String>)> {
    let admin = Caller::super_user(None);
    let mut client = admin.connect(project).await?;
    let tx = admin.begin(&mut client).await?;
    let replaced = current_version(&tx, target, " FOR UPDATE").await?;
    let id = insert_row(&tx, target, row).await?;
    project
        .storage
        .keep(written)
        .await
        .map_err(|e| StorageError::internal("keeping the upload", e))?;
    tx.commit().await?;
    Ok((id, replaced))
}

/// Writes the row as `caller` and commits, for bytes already on disk (a copy); returns the id
/// and the version it replaced.
pub async fn insert_as(
    project: &SharedProject,
    caller: &Caller,
    target: &Target<'_>,
    row: &ObjectRow,
) -> StorageResult<(uuid::Uuid, Option<String>)> {
    let mut client = caller.connect(project).await?;
    let tx = caller.begin(&mut client).await?;
    let replaced = current_version(&tx, target, "").await?;
    let id = insert_row(&tx, target, row).await?;
    tx.commit().await?;
    Ok((id, replaced))
}

/// The version of the object an upsert would replace.
async fn current_version(
    tx: &deadpool_postgres::Transaction<'_>,
    target: &Target<'_>,
    lock: &str,
) -> StorageResult<Option<String>> {
    let sql =
        format!("SELECT version FROM storage.objects WHERE bucket_id = $1 AND name = $2{lock}");
    let row = tx.query_opt(&sql, &[&target.bucket, &target.name]).await?;
    Ok(row
        .and_then(|r| r.get::<_, Option<String>>(0))
        .filter(|v| !v.is_empty()))
}

/// The parts of the body's head an upload needs.
struct Head {
    mime_type: String,
    cache_control: String,
    user_metadata: Option<Value>,
    /// A raw body's `Content-Length` (a multipart one counts its boundaries too).
    declared_length: Option<u64>,
}

/// A `multipart/form-data` body whose fields before the file are read.
struct Form {
    form: multer::Multipart<'static>,
    file: Option<multer::Field<'static>>,
}

/// The request body, raw, or as multipart once its head is read (positioned at the file).
enum Incoming {
    Raw(axum::body::BodyDataStream),
    Multipart(Box<Form>),
    Taken,
}

impl Incoming {
    async fn head(&mut self, headers: &HeaderMap) -> StorageResult<Head> {
        let content_type = header_str(headers, "content-type").unwrap_or_default();
        let boundary = multer::parse_boundary(content_type).ok();
        match (std::mem::replace(self, Self::Taken), boundary) {
            (Self::Raw(body), Some(boundary))
                if content_type.starts_with("multipart/form-data") =>
            {
                let mut form = multer::Multipart::new(body, boundary);
                let mut fields = serde_json::Map::new();
                let file = loop {
                    let Some(field) = form
                        .next_field()
                        .await
                        .map_err(|_| StorageError::no_content())?
                    else {
                        break None;
                    };
                    if field.file_name().is_some() || field.name().is_none_or(str::is_empty) {
                        break Some(field);
                    }
                    let name = field.name().unwrap_or_default().to_owned();
                    let value = field.text().await.map_err(|_| StorageError::no_content())?;
                    fields.insert(name, Value::String(value));
                };
                let Some(file) = file else {
                    *self = Self::Multipart(Box::new(Form { form, file: None }));
                    return Err(StorageError::no_content());
                };
                let text = |k: &str| {
                    fields
                        .get(k)
                        .and_then(Value::as_str)
                        .filter(|v| !v.is_empty())
                };
                let head = Head {
                    mime_type: text("contentType")
                        .map(str::to_owned)
                        .or_else(|| file.content_type().map(ToString::to_string))
                        .unwrap_or_else(|| "text/plain".into()),
                    cache_control: text("cacheControl")
                        .map_or_else(|| "no-cache".into(), |v| format!("max-age={v}")),
                    user_metadata: text("metadata")
                        .or_else(|| text("userMetadata"))
                        .and_then(|m| serde_json::from_str(m).ok()),
                    declared_length: None,
                };
                *self = Self::Multipart(Box::new(Form {
                    form,
                    file: Some(file),
                }));
                Ok(head)
            }
            (taken, _) => {
                *self = taken;
                Ok(Head {
                    mime_type: header_str(headers, "content-type")
                        .unwrap_or("application/octet-stream")
                        .to_owned(),
                    cache_control: header_str(headers, "cache-control")
                        .unwrap_or("no-cache")
                        .to_owned(),
                    user_metadata: header_str(headers, "x-metadata").and_then(|m| {
                        let json = base64::engine::general_purpose::STANDARD.decode(m).ok()?;
                        serde_json::from_slice(&json).ok()
                    }),
                    declared_length: header_str(headers, "content-length")
                        .and_then(|l| l.parse().ok()),
                })
            }
        }
    }

    /// The file's bytes (the whole raw body, or the multipart file field).
    fn file_stream(&mut self) -> impl Stream<Item = Result<Bytes, String>> + '_ {
        let stream: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send + '_>> =
            match self {
                Self::Raw(body) => Box::pin(body.map(|c| c.map_err(|e| e.to_string()))),
                Self::Multipart(form) => match &mut form.file {
                    Some(file) => Box::pin(file.map(|c| c.map_err(|e| e.to_string()))),
                    None => Box::pin(futures_util::stream::empty()),
                },
                _ => Box::pin(futures_util::stream::empty()),
            };
        stream
    }

    /// Reads what is left of the body and drops it (bounded), so the answer reaches a client
    /// that is still sending.
    async fn drain(&mut self) {
        let drain = async {
            let mut read = 0u64;
            let mut stream = self.file_stream();
            while let Some(Ok(chunk)) = stream.next().await {
                read += chunk.len() as u64;
                if read > DRAIN_LIMIT {
                    return;
                }
            }
            drop(stream);
            if let Self::Multipart(multipart) = self {
                multipart.file = None;
                while let Ok(Some(mut field)) = multipart.form.next_field().await {
                    while let Ok(Some(_)) = field.chunk().await {}
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn mime_types_match_exactly_or_by_wildcard() {
        let images = allowed(&["image/png", "image/jpeg"]);
        assert!(check_mime_type("image/png", &images).is_ok());
        assert!(check_mime_type("image/gif", &images).is_err());
        assert!(check_mime_type("png", &images).is_err());
        let any_image = allowed(&["image/*"]);
        assert!(check_mime_type("image/webp", &any_image).is_ok());
        assert!(check_mime_type("text/plain", &any_image).is_err());
        let text = allowed(&["text/plain"]);
        assert!(
            check_mime_type("text/plain;charset=UTF-8", &text).is_err(),
            "the whole header value is compared, as Storage does"
        );
        let e = check_mime_type("text/html", &text).unwrap_err();
        assert_eq!(e.status_code(), 415);
    }
}
