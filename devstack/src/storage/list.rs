//! `POST /object/list/{bucket}`: one level of a bucket under a prefix, as Storage's
//! `storage.search` shows it — the names relative to the prefix, folders (names that go on
//! past this level) as entries with a null id and metadata, `search` narrowing the names by
//! their start (case-insensitive), sorted, limited and offset. Run as the caller: RLS decides
//! which objects (and so which folders) exist for them.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;

use super::buckets::like_escape;
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

/// The 1-based path levels the listing spans: where the prefix ends, and the level shown.
fn levels(prefix: &str, search: &str) -> (i32, i32) {
    let count = |s: &str| {
        if s.is_empty() {
            1
        } else {
            s.split('/').count() as i32
        }
    };
    (count(prefix), count(&format!("{prefix}{search}")))
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
    let (start, level) = levels(&prefix, &search);
    let sort = body.sort_by.unwrap_or_default();
    let column = match sort.column.as_deref() {
        Some("updated_at") => "updated_at",
        Some("created_at") => "created_at",
        Some("last_accessed_at") => "last_accessed_at",
        _ => "name",
    };
    let order = match sort.order.as_deref() {
        Some(o) if o.eq_ignore_ascii_case("desc") => "DESC",
        _ => "ASC",
    };
    // Sorted by name, folders and files interleave; by a date, folders (which have none)
    // come first, as in Storage.
    let order_by = if column == "name" {
        format!("lower(name) COLLATE \"C\" {order}")
    } else {
        format!("(id IS NOT NULL), {column} {order}, name")
    };
    let sql = format!(
        "WITH matched AS ( \
           SELECT array_to_string(path_tokens[$3:$4], '/') AS name, \
                  array_length(path_tokens, 1) > $4 AS is_folder, \
                  id, updated_at, created_at, last_accessed_at, metadata \
           FROM storage.objects WHERE bucket_id = $1 AND name ILIKE $2 || '%'), \
         entries AS ( \
           SELECT DISTINCT name, NULL::uuid AS id, NULL::timestamptz AS updated_at, \
                  NULL::timestamptz AS created_at, NULL::timestamptz AS last_accessed_at, \
                  NULL::jsonb AS metadata FROM matched WHERE is_folder \
           UNION ALL \
           SELECT name, id, updated_at, created_at, last_accessed_at, metadata \
           FROM matched WHERE NOT is_folder) \
         SELECT coalesce(jsonb_agg(to_jsonb(page) - 'n' ORDER BY n), '[]') FROM ( \
           SELECT *, row_number() OVER (ORDER BY {order_by}) AS n FROM entries \
           ORDER BY {order_by} LIMIT $5 OFFSET $6) page"
    );
    let pattern = like_escape(&format!("{prefix}{search}"));
    let limit = body.limit.unwrap_or(100).clamp(1, 1500);
    let offset = body.offset.unwrap_or(0).max(0);
    let mut client = caller.connect(&project).await?;
    let tx = caller.begin(&mut client).await?;
    let row = tx
        .query_one(&sql, &[&bucket, &pattern, &start, &level, &limit, &offset])
        .await?;
    tx.commit().await?;
    Ok(Json(row.get(0)))
}

#[cfg(test)]
mod tests {
    use super::levels;

    #[test]
    fn levels_start_after_the_prefix() {
        assert_eq!(levels("", ""), (1, 1));
        assert_eq!(levels("u/", ""), (2, 2));
        assert_eq!(levels("u/", "ph"), (2, 2));
        assert_eq!(levels("u/a/", ""), (3, 3));
        assert_eq!(levels("", "u/x"), (1, 2));
    }
}
