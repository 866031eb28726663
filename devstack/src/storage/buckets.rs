//! `/bucket`: list, get, create, update, empty and delete buckets, each statement as the
//! caller (RLS on `storage.buckets`: without a policy only the service role manages buckets).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::caller::Caller;
use super::error::{StorageError, StorageResult};
use super::json_body::JsonBody;
use super::names;
use crate::project::SharedProject;

const BUCKET_JSON: &str = "jsonb_build_object('id', id, 'name', name, 'owner', coalesce(owner_id, owner::text, ''), \
     'public', public, 'file_size_limit', file_size_limit, 'allowed_mime_types', allowed_mime_types, \
     'created_at', created_at, 'updated_at', updated_at)";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    limit: Option<i64>,
    offset: Option<i64>,
    sort_column: Option<String>,
    sort_order: Option<String>,
    search: Option<String>,
}

pub async fn list(
    State(project): State<SharedProject>,
    Query(query): Query<ListQuery>,
    caller: Caller,
) -> StorageResult<Json<Value>> {
    let column = match query.sort_column.as_deref() {
        Some("id") => "id",
        Some("created_at") => "created_at",
        Some("updated_at") => "updated_at",
        _ => "name",
    };
    let order = match query.sort_order.as_deref() {
        Some(o) if o.eq_ignore_ascii_case("desc") => "DESC",
        _ => "ASC",
    };
    let sql = format!(
        "SELECT coalesce(jsonb_agg(b ORDER BY n), '[]') FROM (SELECT {BUCKET_JSON} AS b, \
         row_number() OVER (ORDER BY {column} {order}) AS n FROM storage.buckets \
         WHERE name ILIKE '%' || $1 || '%' ORDER BY {column} {order} LIMIT $2 OFFSET $3) page"
    );
    let search = like_escape(query.search.as_deref().unwrap_or(""));
    let mut client = caller.connect(&project).await?;
    let tx = caller.begin(&mut client).await?;
    let row = tx
        .query_one(
            &sql,
            &[
                &search,
                &query.limit.filter(|l| *l > 0),
                &query.offset.unwrap_or(0).max(0),
            ],
        )
        .await?;
    tx.commit().await?;
    Ok(Json(row.get(0)))
}

/// `text` with the `ILIKE` wildcards `%`, `_` and `\` taken literally.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub async fn get(
    State(project): State<SharedProject>,
    Path(id): Path<String>,
    caller: Caller,
) -> StorageResult<Json<Value>> {
    let mut client = caller.connect(&project).await?;
    let tx = caller.begin(&mut client).await?;
    let row = tx
        .query_opt(
            &format!("SELECT {BUCKET_JSON} FROM storage.buckets WHERE id = $1"),
            &[&id],
        )
        .await?
        .ok_or_else(StorageError::no_such_bucket)?;
    tx.commit().await?;
    Ok(Json(row.get(0)))
}

/// `file_size_limit` as storage-js sends it: bytes, or a string such as `"20MB"` (decimal
/// units, as Storage parses them).
#[derive(Deserialize)]
#[serde(untagged)]
enum SizeLimit {
    Bytes(i64),
    Text(String),
}

fn size_limit(limit: Option<SizeLimit>) -> StorageResult<Option<i64>> {
    let invalid = || {
        StorageError::invalid_request("Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B")
    };
    match limit {
        None => Ok(None),
        Some(SizeLimit::Bytes(b)) if b >= 0 => Ok(Some(b)),
        Some(SizeLimit::Bytes(_)) => Err(invalid()),
        Some(SizeLimit::Text(text)) => {
            let lower = text.trim().to_ascii_lowercase();
            let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let unit = &lower[digits.len()..];
            let value: f64 = digits.parse().map_err(|_| invalid())?;
            let factor = match unit {
                "gb" => 1e9,
                "mb" => 1e6,
                "kb" => 1e3,
                "b" => 1.0,
                _ => return Err(invalid()),
            };
            Ok(Some((value * factor).round() as i64))
        }
    }
}

#[derive(Deserialize)]
pub struct BucketBody {
    id: Option<String>,
    name: Option<String>,
    public: Option<bool>,
    file_size_limit: Option<SizeLimit>,
    allowed_mime_types: Option<Vec<String>>,
}

pub async fn create(
    State(project): State<SharedProject>,
    caller: Caller,
    JsonBody(body): JsonBody<BucketBody>,
) -> StorageResult<Json<Value>> {
    let name = body
        .name
        .ok_or_else(|| StorageError::invalid_request("body must have required property 'name'"))?;
    let id = body.id.unwrap_or_else(|| name.clone());
    names::bucket_name(&id)?;
    let limit = size_limit(body.file_size_limit)?;
    let mut client = caller.connect(&project).await?;
    let tx = caller.begin(&mut client).await?;
    tx.execute(
        "INSERT INTO storage.buckets (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &id,
            &name,
            &caller.owner.as_deref().and_then(|o| uuid::Uuid::parse_str(o).ok()),
            &caller.owner,
            &body.public.unwrap_or(false),
            &limit,
            &body.allowed_mime_types,
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({"name": name})))
}

pub async fn update(
    State(project): State<SharedProject>,
    Path(id): Path<String>,
    caller: Caller,
    JsonBody(body): JsonBody<BucketBody>,
) -> StorageResult<Json<Value>> {
    let limit_given = body.file_size_limit.is_some();
    let limit = size_limit(body.file_size_limit)?;
    let mut client = caller.connect(&project).await?;
    let tx = caller.begin(&mut client).await?;
    let updated = tx
        .execute(
            "UPDATE storage.buckets SET public = coalesce($2, public), \
             file_size_limit = CASE WHEN $3 THEN $4 ELSE file_size_limit END, \
             allowed_mime_types = CASE WHEN $5 THEN $6 ELSE allowed_mime_types END, \
             updated_at = now() WHERE id = $1",
            &[
                &id,
                &body.public,
                &limit_given,
                &limit,
                &body.allowed_mime_types.is_some(),
                &body.allowed_mime_types,
            ],
        )
        .await?;
    if updated == 0 {
        return Err(StorageError::no_such_bucket());
    }
    tx.commit().await?;
    Ok(Json(json!({"message": "Successfully updated"})))
}

/// Deletes every object of the bucket (service role only, as Storage's route is).
pub async fn empty(
    State(project): State<SharedProject>,
    Path(id): Path<String>,
    caller: Caller,
) -> StorageResult<Json<Value>> {
    caller.require_service_role()?;
    let mut client = caller.connect(&project).await?;
    let tx = caller.begin(&mut client).await?;
    tx.query_opt("SELECT 1 FROM storage.buckets WHERE id = $1", &[&id])
        .await?
        .ok_or_else(StorageError::no_such_bucket)?;
    let versions = tx
        .query(
            "DELETE FROM storage.objects WHERE bucket_id = $1 RETURNING coalesce(version, '')",
            &[&id],
        )
        .await?;
    tx.commit().await?;
    for row in versions {
        project.storage.remove(row.get::<_, &str>(0)).await;
    }
    Ok(Json(json!({"message": "Successfully emptied"})))
}

/// Refused while the bucket holds an object (counted as the superuser, as Storage does).
pub async fn delete(
    State(project): State<SharedProject>,
    Path(id): Path<String>,
    caller: Caller,
) -> StorageResult<Json<Value>> {
    let admin = Caller::super_user(None).connect(&project).await?;
    let has_objects = admin
        .query_opt(
            "SELECT 1 FROM storage.objects WHERE bucket_id = $1 LIMIT 1",
            &[&id],
        )
        .await?
        .is_some();
    if has_objects {
        return Err(StorageError::bucket_not_empty());
    }
    let mut client = caller.connect(&project).await?;
    let tx = caller.begin(&mut client).await?;
    let deleted = tx
        .execute("DELETE FROM storage.buckets WHERE id = $1", &[&id])
        .await?;
    if deleted == 0 {
        return Err(StorageError::no_such_bucket());
    }
    tx.commit().await?;
    Ok(Json(json!({"message": "Successfully deleted"})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limits_in_bytes_or_units() {
        let parse = |v: Value| size_limit(Some(serde_json::from_value(v).unwrap()));
        assert_eq!(parse(json!(1024)).unwrap(), Some(1024));
        assert_eq!(parse(json!("20MB")).unwrap(), Some(20_000_000));
        assert_eq!(parse(json!("1.5kb")).unwrap(), Some(1500));
        assert!(parse(json!("10 parsecs")).is_err());
        assert!(parse(json!(-1)).is_err());
    }

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(like_escape(r"a%b_c\d"), r"a\%b\_c\\d");
    }
}
