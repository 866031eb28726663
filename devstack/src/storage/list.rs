//! `POST /object/list/{bucket}`: one level of a bucket under a prefix, as Storage answers it —
//! through `storage.search` (devstack/sql/storage_search.sql), as the real server calls it, so
//! that the listing and the SQL function agree. Run as the caller: RLS decides which objects
//! (and so which folders) exist for them.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;

use super::caller::Caller;
use super::error::StorageResult;
use super::json_body::JsonBody;
use crate::project::SharedProject;

#[derive(Deserialize, Default)]
pub struct SortBy {
    column: Option<String>,
    order: Option<String>,
}

#[derive(Deserialize)]
pub struct ListBody {
    prefix: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    #[serde(rename = "sortBy")]
    sort_by: Option<SortBy>,
    search: Option<String>,
}

pub async fn list(
    State(project): State<SharedProject>,
    Path(bucket): Path<String>,
    caller: Caller,
    JsonBody(body): JsonBody<ListBody>,
) -> StorageResult<Json<Value>> {
    let mut prefix = body.prefix.unwrap_or_default();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    let search = body.search.unwrap_or_default();
    let sort = body.sort_by.unwrap_or_default();
    let column = sort.column.unwrap_or_else(|| "name".to_owned());
    let order = sort.order.unwrap_or_else(|| "asc".to_owned());
    let limit = body.limit.unwrap_or(100).clamp(1, 1500) as i32;
    let offset = body.offset.unwrap_or(0).clamp(0, i32::MAX as i64) as i32;
    let mut client = caller.connect(&project).await?;
    let tx = caller.begin(&mut client).await?;
    let row = tx
        .query_one(
            "SELECT coalesce(jsonb_agg(to_jsonb(entry) - 'n' ORDER BY n), '[]') \
             FROM storage.search($1, $2, $3, $4, $5, $6, $7) WITH ORDINALITY AS entry(name, id, \
               updated_at, created_at, last_accessed_at, metadata, n)",
            &[&prefix, &bucket, &limit, &offset, &search, &column, &order],
        )
        .await?;
    tx.commit().await?;
    Ok(Json(row.get(0)))
}
