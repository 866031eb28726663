//! Writing objects through the API: upload (`POST`) and update (`PUT`, an upsert), remove one
//! or many, move and copy. Every statement runs as the caller, so RLS on `storage.objects`
//! decides what each may touch; files follow their rows.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::caller::Caller;
use super::error::{StorageError, StorageResult};
use super::json_body::JsonBody;
use super::names;
use super::upload::{self, Target};
use crate::gateway::header_str;
use crate::project::SharedProject;

pub async fn create(
    state: State<SharedProject>,
    path: Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> StorageResult<Json<Value>> {
    let upsert = header_str(&headers, "x-upsert") == Some("true");
    put_object(state, path, headers, body, upsert).await
}

/// `PUT`: Storage's update, an upload that replaces the object if it exists.
pub async fn update(
    state: State<SharedProject>,
    path: Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> StorageResult<Json<Value>> {
    put_object(state, path, headers, body, true).await
}

async fn put_object(
    State(project): State<SharedProject>,
    Path((bucket, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
    upsert: bool,
) -> StorageResult<Json<Value>> {
    let checked = Caller::from_headers(&headers, &project)
        .and_then(|caller| names::object_name(&name).map(|_| caller));
    let caller = match checked {
        Ok(caller) => caller,
        Err(e) => return upload::refuse(body, e).await,
    };
    let target = Target {
        bucket: &bucket,
        name: &name,
        upsert,
        owner: caller.owner.clone(),
    };
    let uploaded = upload::upload(&project, &caller, &target, &headers, body).await?;
    Ok(Json(
        json!({"Id": uploaded.id, "Key": format!("{bucket}/{name}")}),
    ))
}

/// Deletes the rows `names` names that the caller may delete (RLS), returning them; their
/// files go once the deletion is committed.
async fn delete_rows(
    project: &SharedProject,
    caller: &Caller,
    bucket: &str,
    names: &[String],
) -> StorageResult<Vec<Value>> {
    let mut client = caller.connect(project).await?;
    let tx = caller.begin(&mut client).await?;
    let rows = tx
        .query(
            "DELETE FROM storage.objects WHERE bucket_id = $1 AND name = ANY($2) \
             RETURNING coalesce(version, ''), to_jsonb(objects.*) - 'path_tokens'",
            &[&bucket, &names],
        )
        .await?;
    tx.commit().await?;
    let mut deleted = Vec::with_capacity(rows.len());
    for row in rows {
        project.storage.remove(row.get::<_, &str>(0)).await;
        deleted.push(row.get(1));
    }
    Ok(deleted)
}

pub async fn delete_one(
    State(project): State<SharedProject>,
    Path((bucket, name)): Path<(String, String)>,
    caller: Caller,
) -> StorageResult<Json<Value>> {
    let deleted = delete_rows(&project, &caller, &bucket, &[name]).await?;
    if deleted.is_empty() {
        return Err(StorageError::no_such_key());
    }
    Ok(Json(json!({"message": "Successfully deleted"})))
}

#[derive(Deserialize)]
pub struct DeleteMany {
    prefixes: Option<Vec<String>>,
}

/// Storage's own cap on one removal.
const MAX_OBJECTS_PER_REQUEST: usize = 1000;

pub async fn delete_many(
    State(project): State<SharedProject>,
    Path(bucket): Path<String>,
    caller: Caller,
    JsonBody(request): JsonBody<DeleteMany>,
) -> StorageResult<Json<Value>> {
    let prefixes = request.prefixes.ok_or_else(|| {
        StorageError::invalid_request("body must have required property 'prefixes'")
    })?;
    if prefixes.is_empty() || prefixes.len() > MAX_OBJECTS_PER_REQUEST {
        return Err(StorageError::invalid_request(format!(
            "body/prefixes must have between 1 and {MAX_OBJECTS_PER_REQUEST} items"
        )));
    }
    let deleted = delete_rows(&project, &caller, &bucket, &prefixes).await?;
    Ok(Json(Value::Array(deleted)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoveOrCopy {
    bucket_id: Option<String>,
    source_key: Option<String>,
    destination_key: Option<String>,
    destination_bucket: Option<String>,
}

struct Transfer {
    from_bucket: String,
    from: String,
    to_bucket: String,
    to: String,
}

impl MoveOrCopy {
    fn resolve(self) -> StorageResult<Transfer> {
        let required = |v: Option<String>, name: &str| {
            v.ok_or_else(|| {
                StorageError::invalid_request(format!("body must have required property '{name}'"))
            })
        };
        let from_bucket = required(self.bucket_id, "bucketId")?;
        let from = required(self.source_key, "sourceKey")?;
        let to = required(self.destination_key, "destinationKey")?;
        names::object_name(&to)?;
        Ok(Transfer {
            to_bucket: self
                .destination_bucket
                .unwrap_or_else(|| from_bucket.clone()),
            from_bucket,
            from,
            to,
        })
    }
}

/// Renames the row in place (the bytes stay where they are: files are named by version). RLS
/// must let the caller update the row, from its old name to its new one.
pub async fn move_object(
    State(project): State<SharedProject>,
    caller: Caller,
    JsonBody(request): JsonBody<MoveOrCopy>,
) -> StorageResult<Json<Value>> {
    let t = request.resolve()?;
    let mut client = caller.connect(&project).await?;
    let tx = caller.begin(&mut client).await?;
    let moved = tx
        .execute(
            "UPDATE storage.objects SET bucket_id = $3, name = $4, owner = $5, owner_id = $6 \
             WHERE bucket_id = $1 AND name = $2",
            &[
                &t.from_bucket,
                &t.from,
                &t.to_bucket,
                &t.to,
                &caller
                    .owner
                    .as_deref()
                    .and_then(|o| uuid::Uuid::parse_str(o).ok()),
                &caller.owner,
            ],
        )
        .await
        .map_err(|e| match e.as_db_error().map(|d| d.code().code()) {
            Some("23505") => StorageError::key_already_exists(),
            _ => StorageError::from_db(&e),
        })?;
    if moved == 0 {
        return Err(StorageError::no_such_key());
    }
    tx.commit().await?;
    Ok(Json(json!({"message": "Successfully moved"})))
}

/// A new object with the source's bytes and metadata: the caller must be able to read the
/// source and insert the destination (RLS), as with an upload.
pub async fn copy_object(
    State(project): State<SharedProject>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(request): JsonBody<MoveOrCopy>,
) -> StorageResult<Json<Value>> {
    let upsert = header_str(&headers, "x-upsert") == Some("true");
    let t = request.resolve()?;
    let source = super::download::find_object(&project, &caller, &t.from_bucket, &t.from).await?;
    let version = project
        .storage
        .duplicate(source.version())
        .await
        .map_err(|e| StorageError::internal("copying an object file", e))?;
    let target = Target {
        bucket: &t.to_bucket,
        name: &t.to,
        upsert,
        owner: caller.owner.clone(),
    };
    let row = upload::ObjectRow {
        metadata: source.metadata().clone(),
        user_metadata: source.user_metadata().cloned(),
        version: version.clone(),
    };
    match upload::insert_as(&project, &caller, &target, &row).await {
        Ok((id, replaced)) => {
            if let Some(old) = replaced {
                project.storage.remove(&old).await;
            }
            Ok(Json(
                json!({"Id": id, "Key": format!("{}/{}", t.to_bucket, t.to)}),
            ))
        }
        Err(e) => {
            project.storage.remove(&version).await;
            Err(e)
        }
    }
}
