//! The SELECT part every response shares: the select list (columns, aliases, casts, JSON
//! paths, embedded resources as correlated subqueries), the conditions and the ordering and
//! paging of each level.

use std::collections::HashSet;

use axum::http::StatusCode;

use super::ast::{EmbedPath, SelectItem};
use super::conditions::{field_sql, order_sql, tree_sql};
use super::error::ApiError;
use super::preferences::{MediaType, RowRange};
use super::query_params::QueryParams;
use super::relationships::{Relationship, resolve};
use super::schema_cache::{SchemaCache, Table};
use super::sql_text::{ident, qualified};

pub struct SelectBuilder<'a> {
    cache: &'a SchemaCache,
    params: &'a QueryParams,
    media: MediaType,
    next_alias: usize,
    embedded: HashSet<EmbedPath>,
}

/// PostgREST's CSV, built by Postgres over the rows `_pgrst_t`: a header of the first row's
/// keys, then each row as its record text without the parentheses, so every value is printed
/// and quoted as Postgres prints a record (`t`/`f`, jsonb's own spacing, `""` for a quote).
const CSV_BODY: &str = "coalesce((SELECT string_agg(_pgrst_k, ',') \
     FROM json_object_keys((array_agg(row_to_json(_pgrst_t)))[1]) AS _pgrst_k), '') \
     || E'\\n' || coalesce(string_agg(substring(_pgrst_t::text, 2, length(_pgrst_t::text) - 2), E'\\n'), '')";

impl<'a> SelectBuilder<'a> {
    pub fn new(cache: &'a SchemaCache, params: &'a QueryParams, media: MediaType) -> Self {
        Self {
            cache,
            params,
            media,
            next_alias: 0,
            embedded: HashSet::new(),
        }
    }

    /// The response body over the rows `_pgrst_t`: a JSON array (`json` is how: the array,
    /// or its first element for a function returning one row), without null-valued keys at
    /// any depth for `nulls=stripped` (Postgres's `json_strip_nulls`, as PostgREST), or CSV.
    pub fn rows_body(&self, json: &'static str) -> String {
        if self.media == MediaType::Csv {
            CSV_BODY.to_owned()
        } else if self.media.strips_nulls() {
            format!("json_strip_nulls(({json})::json)::text")
        } else {
            json.to_owned()
        }
    }

    /// The select list of one level. `table` is what `reference` names, when it is a table
    /// or view (embedding needs its foreign keys).
    pub fn select_list(
        &mut self,
        table: Option<&Table>,
        reference: &str,
        items: &[SelectItem],
        path: &EmbedPath,
    ) -> Result<String, ApiError> {
        let mut columns = Vec::new();
        let mut embed_names: Vec<&str> = Vec::new();
        for item in items {
            match item {
                SelectItem::Star => columns.push(format!("{reference}.*")),
                SelectItem::Column { field, alias, cast } => {
                    let mut sql = field_sql(reference, field);
                    if let Some(cast) = cast {
                        // As PostgREST writes it; the parser let only a type name through.
                        sql = format!("CAST({sql} AS {cast})");
                    }
                    let name = alias.as_deref().unwrap_or_else(|| field.output_name());
                    columns.push(format!("{sql} AS {}", ident(name)));
                }
                SelectItem::Embed(embed)
                    if embed.items.is_empty()
                        && matches!(
                            embed.relation.as_str(),
                            "count" | "sum" | "avg" | "min" | "max"
                        ) =>
                {
                    // `count()` and friends: aggregates, which PostgREST has off by default.
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "PGRST123",
                        "Use of aggregate functions is not allowed",
                        None,
                        None,
                    ));
                }
                SelectItem::Embed(embed) => {
                    let Some(parent) = table else {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "PGRST200",
                            format!(
                                "Could not find a relationship for '{}' in the schema cache",
                                embed.relation
                            ),
                            Some("Embedding is only supported on tables and views"),
                            None,
                        ));
                    };
                    let rel = resolve(self.cache, parent, embed)?;
                    if embed_names.contains(&embed.output_name()) {
                        return Err(duplicate_embed(parent, embed.output_name(), path.len()));
                    }
                    embed_names.push(embed.output_name());
                    let mut child_path = path.clone();
                    child_path.push(embed.output_name().to_owned());
                    if embed.items.is_empty() {
                        // `table()`: only to filter by (with `!inner`); no key in the output.
                        self.embedded.insert(child_path);
                        continue;
                    }
                    let alias = self.alias(&rel);
                    let (from, conditions) =
                        self.embed_source(&rel, &alias, reference, &embed.items, &child_path)?;
                    let list =
                        self.select_list(Some(rel.target), &alias, &embed.items, &child_path)?;
                    let value = if rel.to_one {
                        format!(
                            "(SELECT row_to_json(_pgrst_e) FROM (SELECT {list} FROM {from} WHERE {conditions}) _pgrst_e)"
                        )
                    } else {
                        let paging = self.paging(&alias, &child_path)?;
                        format!(
                            "COALESCE((SELECT json_agg(_pgrst_e) FROM (SELECT {list} FROM {from} WHERE {conditions}{paging}) _pgrst_e), '[]')"
                        )
                    };
                    columns.push(format!("{value} AS {}", ident(embed.output_name())));
                }
            }
        }
        // An empty list is valid SQL (`SELECT FROM t`): empty objects, one per row.
        Ok(columns.join(", "))
    }

    /// The WHERE conditions of one level: its filters, and for every `!inner` embed that a
    /// matching row exists. Always at least `TRUE`.
    pub fn conditions(
        &mut self,
        table: Option<&Table>,
        reference: &str,
        items: &[SelectItem],
        path: &EmbedPath,
    ) -> Result<String, ApiError> {
        let mut conditions: Vec<String> = self
            .params
            .filters
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, tree)| tree_sql(reference, tree))
            .collect();
        if let Some(parent) = table {
            for item in items {
                let SelectItem::Embed(embed) = item else {
                    continue;
                };
                if !embed.inner {
                    continue;
                }
                let rel = resolve(self.cache, parent, embed)?;
                let mut child_path = path.clone();
                child_path.push(embed.output_name().to_owned());
                let alias = self.alias(&rel);
                let (from, inner) =
                    self.embed_source(&rel, &alias, reference, &embed.items, &child_path)?;
                conditions.push(format!("EXISTS (SELECT 1 FROM {from} WHERE {inner})"));
            }
        }
        if conditions.is_empty() {
            return Ok("TRUE".to_owned());
        }
        Ok(conditions.join(" AND "))
    }

    /// ` ORDER BY … LIMIT … OFFSET …` for a nested level.
    fn paging(&self, reference: &str, path: &EmbedPath) -> Result<String, ApiError> {
        let mut sql = String::new();
        if let Some(order) = self.params.order(path) {
            sql.push_str(&format!(" ORDER BY {}", order_sql(reference, order)));
        }
        if let Some(limit) = self.params.limit(path) {
            if limit < 0 {
                return Err(ApiError::range_not_satisfiable(
                    "Limit should be greater than or equal to zero.",
                ));
            }
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        if let Some(offset) = self.params.offset(path) {
            sql.push_str(&format!(" OFFSET {}", offset.max(0)));
        }
        Ok(sql)
    }

    /// `FROM target AS alias` and the conditions joining it to its parent.
    fn embed_source(
        &mut self,
        rel: &Relationship,
        alias: &str,
        parent_reference: &str,
        items: &[SelectItem],
        path: &EmbedPath,
    ) -> Result<(String, String), ApiError> {
        self.embedded.insert(path.clone());
        let mut from = format!(
            "{} AS {alias}",
            qualified(&rel.target.schema, &rel.target.name)
        );
        // Through a junction, PostgREST joins it to the target and matches it to the parent.
        let joined = match &rel.junction {
            Some(junction) => {
                self.next_alias += 1;
                let junction_alias = ident(&format!("{}_{}", junction.table.name, self.next_alias));
                from.push_str(&format!(
                    " INNER JOIN {} AS {junction_alias} ON {}",
                    qualified(&junction.table.schema, &junction.table.name),
                    equalities(&junction_alias, alias, &junction.target_join())
                ));
                junction_alias
            }
            None => alias.to_owned(),
        };
        let mut conditions = vec![equalities(parent_reference, &joined, &rel.join)];
        conditions.push(self.conditions(Some(rel.target), alias, items, path)?);
        Ok((from, conditions.join(" AND ")))
    }

    fn alias(&mut self, rel: &Relationship) -> String {
        self.next_alias += 1;
        ident(&format!("{}_{}", rel.target.name, self.next_alias))
    }

    /// PGRST108 for filters, orders or limits naming a resource the `select` does not embed.
    pub fn check_embed_paths(&self) -> Result<(), ApiError> {
        for path in self.params.embed_paths() {
            if !self.embedded.contains(path) {
                let resource = path.last().map(String::as_str).unwrap_or_default();
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "PGRST108",
                    format!("'{resource}' is not an embedded resource in this request"),
                    None,
                    Some(&format!(
                        "Verify that '{resource}' is included in the 'select' query parameter."
                    )),
                ));
            }
        }
        Ok(())
    }
}

/// `right.b = left.a AND …` for the (a, b) column pairs, `left` and `right` already aliases.
fn equalities(left: &str, right: &str, pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(l, r)| format!("{right}.{} = {left}.{}", ident(r), ident(l)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Two embeds under one name at one level: PostgREST names both subqueries
/// `<parent>_<name>_<depth>` and passes on Postgres's refusal of the second.
fn duplicate_embed(parent: &Table, name: &str, parent_depth: usize) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "42712",
        format!(
            "table name \"{}_{name}_{}\" specified more than once",
            parent.name,
            parent_depth + 1
        ),
        None,
        None,
    )
}

/// ` ORDER BY … LIMIT … OFFSET …` for the top level, from the negotiated range.
pub fn top_level_paging(params: &QueryParams, reference: &str, range: RowRange) -> String {
    let mut sql = String::new();
    if let Some(order) = params.order(&[]) {
        sql.push_str(&format!(" ORDER BY {}", order_sql(reference, order)));
    }
    if let Some(limit) = range.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    if range.offset > 0 {
        sql.push_str(&format!(" OFFSET {}", range.offset));
    }
    sql
}
