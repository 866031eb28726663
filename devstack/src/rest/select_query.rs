//! The SELECT part every response shares: the select list (columns, aliases, casts, JSON
//! paths, embedded resources as correlated subqueries), the conditions and the ordering and
//! paging of each level.

use std::collections::HashSet;

use axum::http::StatusCode;

use super::ast::{Aggregate, EmbedPath, SelectItem};
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
    /// PostgREST's `db-aggregates-enabled` (`--db-aggregates-enabled`).
    aggregates_enabled: bool,
}

/// PostgREST's CSV, built by Postgres over the rows `_pgrst_t`: a header of the first row's
/// keys, then each row as its record text without the parentheses, so every value is printed
/// and quoted as Postgres prints a record (`t`/`f`, jsonb's own spacing, `""` for a quote).
const CSV_BODY: &str = "coalesce((SELECT string_agg(_pgrst_k, ',') \
     FROM json_object_keys((array_agg(row_to_json(_pgrst_t)))[1]) AS _pgrst_k), '') \
     || E'\\n' || coalesce(string_agg(substring(_pgrst_t::text, 2, length(_pgrst_t::text) - 2), E'\\n'), '')";

impl<'a> SelectBuilder<'a> {
    pub fn new(
        cache: &'a SchemaCache,
        params: &'a QueryParams,
        media: MediaType,
        aggregates_enabled: bool,
    ) -> Self {
        Self {
            cache,
            params,
            media,
            next_alias: 0,
            embedded: HashSet::new(),
            aggregates_enabled,
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

    /// The select list of one level, with the lateral joins of its spread embeds and its
    /// `GROUP BY` when it aggregates. `table` is what `reference` names, when it is a table or
    /// view (embedding needs its foreign keys).
    pub fn select_list(
        &mut self,
        table: Option<&Table>,
        reference: &str,
        items: &[SelectItem],
        path: &EmbedPath,
    ) -> Result<SelectList, ApiError> {
        let level = self.level(table, reference, items, path, false)?;
        Ok(level.into_list())
    }

    /// One level of the select: `spread` when it is lifted into its parent, which then applies
    /// its aggregates (PostgREST's hoisting), so they aggregate over the parent's rows.
    fn level(
        &mut self,
        table: Option<&Table>,
        reference: &str,
        items: &[SelectItem],
        path: &EmbedPath,
        spread: bool,
    ) -> Result<Level, ApiError> {
        let has_aggregate = |items: &[SelectItem]| {
            items.iter().any(|item| {
                matches!(
                    item,
                    SelectItem::Column {
                        aggregate: Some(_),
                        ..
                    }
                )
            })
        };
        if !self.aggregates_enabled && has_aggregate(items) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST123",
                "Use of aggregate functions is not allowed",
                None,
                None,
            ));
        }
        // Aggregated: by its own aggregates, or by those its spread embeds hoist into it.
        let aggregated = (!spread && has_aggregate(items))
            || items.iter().any(
                |item| matches!(item, SelectItem::Embed(e) if e.spread && has_aggregate(&e.items)),
            );
        let mut level = Level {
            aggregated,
            ..Level::default()
        };
        let mut embed_names: Vec<&str> = Vec::new();
        for item in items {
            match item {
                // With aggregates, `*` is its columns, each a grouping term (as PostgREST).
                SelectItem::Star if aggregated && table.is_some() => {
                    for column in table.map(|t| t.columns.as_slice()).unwrap_or_default() {
                        let sql = format!("{reference}.{}", ident(&column.name));
                        level.columns.push(sql.clone());
                        level.groups.push(sql);
                        level.lifted.push(Lifted::plain(&column.name));
                    }
                }
                SelectItem::Star => {
                    level.columns.push(format!("{reference}.*"));
                    level.lifted.push(Lifted::plain("*"));
                }
                SelectItem::Column {
                    field,
                    alias,
                    cast,
                    aggregate,
                } => {
                    let star = field.name == "*" && field.json_path.is_empty();
                    let mut sql = if star {
                        format!("{reference}.*")
                    } else {
                        field_sql(reference, field)
                    };
                    if let Some(cast) = cast {
                        // As PostgREST writes it; the parser let only a type name through.
                        sql = format!("CAST({sql} AS {cast})");
                    }
                    let name = alias.as_deref().unwrap_or_else(|| field.output_name());
                    match aggregate {
                        None => {
                            level.columns.push(format!("{sql} AS {}", ident(name)));
                            // An aliased (or JSON path) column is grouped by its output name.
                            level
                                .groups
                                .push(if alias.is_some() || !field.json_path.is_empty() {
                                    ident(name)
                                } else {
                                    field_sql(reference, field)
                                });
                            level.lifted.push(Lifted::plain(name));
                        }
                        Some(aggregate) if spread => {
                            // Hoisted: the column as it is, the parent aggregates it.
                            level.columns.push(if star {
                                sql
                            } else {
                                format!("{sql} AS {}", ident(name))
                            });
                            level.lifted.push(Lifted {
                                name: name.to_owned(),
                                aggregate: Some((aggregate.clone(), alias.clone())),
                            });
                        }
                        Some(aggregate) => {
                            let name = alias.as_deref().unwrap_or(aggregate.function.name());
                            level.columns.push(format!(
                                "{} AS {}",
                                aggregate_sql(aggregate, &sql),
                                ident(name)
                            ));
                            level.lifted.push(Lifted::plain(name));
                        }
                    }
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
                    if embed.spread && !rel.to_one {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "PGRST119",
                            format!("A spread operation on '{}' is not possible", embed.relation),
                            Some(&format!(
                                "'{}' and '{}' do not form a many-to-one or one-to-one relationship",
                                parent.name, embed.relation
                            )),
                            None,
                        ));
                    }
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
                    let (from, conditions) = self.embed_source(
                        &rel,
                        &alias,
                        (parent, reference),
                        &embed.items,
                        &child_path,
                    )?;
                    let inner = self.level(
                        Some(rel.target),
                        &alias,
                        &embed.items,
                        &child_path,
                        embed.spread,
                    )?;
                    if embed.spread {
                        self.lift(&mut level, &rel, inner, &from, &conditions);
                        continue;
                    }
                    let lifted = inner.into_list();
                    let list = &lifted.columns;
                    let source = format!(
                        "{from}{} WHERE {conditions}{}",
                        lifted.joins, lifted.group_by
                    );
                    let mut value = if rel.to_one {
                        format!(
                            "(SELECT row_to_json(_pgrst_e) FROM (SELECT {list} FROM {source}) _pgrst_e)"
                        )
                    } else {
                        let paging = self.paging(&alias, &child_path)?;
                        format!(
                            "COALESCE((SELECT json_agg(_pgrst_e) FROM (SELECT {list} FROM {source}{paging}) _pgrst_e), '[]')"
                        )
                    };
                    let name = ident(embed.output_name());
                    if aggregated {
                        // A grouping term, so comparable: jsonb, as PostgREST embeds it.
                        value = format!("({value})::jsonb");
                        level.groups.push(name.clone());
                    }
                    level.columns.push(format!("{value} AS {name}"));
                    level.lifted.push(Lifted::plain(embed.output_name()));
                }
            }
        }
        Ok(level)
    }

    /// A spread embed: its level joined laterally (one row at most: to-one), its columns
    /// lifted into `level`, and the aggregates it hoists applied here.
    fn lift(
        &mut self,
        level: &mut Level,
        rel: &Relationship,
        inner: Level,
        from: &str,
        conditions: &str,
    ) {
        let joined = self.alias(rel);
        let group_by = inner.group_by();
        level.joins.push(format!(
            " LEFT JOIN LATERAL (SELECT {} FROM {from}{} WHERE {conditions}{group_by}) AS {joined} ON TRUE",
            inner.columns.join(", "),
            inner.joins.concat(),
        ));
        for lifted in inner.lifted {
            let sql = if lifted.name == "*" {
                format!("{joined}.*")
            } else {
                format!("{joined}.{}", ident(&lifted.name))
            };
            match lifted.aggregate {
                Some((aggregate, alias)) => {
                    let name = alias.unwrap_or_else(|| aggregate.function.name().to_owned());
                    level.columns.push(format!(
                        "{} AS {}",
                        aggregate_sql(&aggregate, &sql),
                        ident(&name)
                    ));
                    level.lifted.push(Lifted::plain(&name));
                }
                None => {
                    level.columns.push(if lifted.name == "*" {
                        sql.clone()
                    } else {
                        format!("{sql} AS {}", ident(&lifted.name))
                    });
                    level.groups.push(sql);
                    // A spread inside a spread passes the column on as it is.
                    level.lifted.push(lifted);
                }
            }
        }
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
                let (from, inner) = self.embed_source(
                    &rel,
                    &alias,
                    (parent, reference),
                    &embed.items,
                    &child_path,
                )?;
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
        (parent, parent_reference): (&Table, &str),
        items: &[SelectItem],
        path: &EmbedPath,
    ) -> Result<(String, String), ApiError> {
        self.embedded.insert(path.clone());
        // A computed relationship's rows come from its function, called with the parent's row.
        let mut from = match rel.function {
            Some(function) => format!(
                "{}({}) AS {alias}",
                qualified(&function.schema, &function.name),
                row_reference(parent, parent_reference)
            ),
            None => format!(
                "{} AS {alias}",
                qualified(&rel.target.schema, &rel.target.name)
            ),
        };
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
        let mut conditions = Vec::new();
        if !rel.join.is_empty() {
            conditions.push(equalities(parent_reference, &joined, &rel.join));
        }
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

/// What one level of the select yields.
#[derive(Default)]
struct Level {
    /// `expression AS name`, in order.
    columns: Vec<String>,
    /// The lateral joins of its spread embeds.
    joins: Vec<String>,
    /// What it groups by, when it aggregates.
    groups: Vec<String>,
    aggregated: bool,
    /// What a parent lifts when this level is spread: its output names.
    lifted: Vec<Lifted>,
}

impl Level {
    fn group_by(&self) -> String {
        if self.aggregated && !self.groups.is_empty() {
            format!(" GROUP BY {}", self.groups.join(", "))
        } else {
            String::new()
        }
    }

    fn into_list(self) -> SelectList {
        SelectList {
            group_by: self.group_by(),
            // An empty list is valid SQL (`SELECT FROM t`): empty objects, one per row.
            columns: self.columns.join(", "),
            joins: self.joins.concat(),
        }
    }
}

/// A column a spread embed lifts into its parent: `*` for all of them; with the aggregate
/// (and the alias) the parent applies.
#[derive(Clone)]
struct Lifted {
    name: String,
    aggregate: Option<(Aggregate, Option<String>)>,
}

impl Lifted {
    fn plain(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            aggregate: None,
        }
    }
}

/// A level's select list: `SELECT {columns} FROM <source>{joins} WHERE … {group_by}`.
pub struct SelectList {
    pub columns: String,
    /// ` LEFT JOIN LATERAL (…) AS … ON TRUE` for each spread embed.
    pub joins: String,
    /// ` GROUP BY …` when the level aggregates, else empty.
    pub group_by: String,
}

impl SelectList {
    /// A list of plain columns, nothing joined or grouped.
    pub fn plain(columns: String) -> Self {
        Self {
            columns,
            joins: String::new(),
            group_by: String::new(),
        }
    }
}

/// `FUNC(expression)`, cast as asked: `CAST(SUM(x) AS text)`. The function is one of five
/// names the parser knows, the cast a type name it let through.
fn aggregate_sql(aggregate: &Aggregate, expression: &str) -> String {
    let sql = format!("{}({expression})", aggregate.function.name());
    match &aggregate.cast {
        Some(cast) => format!("CAST({sql} AS {cast})"),
        None => sql,
    }
}

/// `right.b = left.a AND …` for the (a, b) column pairs, `left` and `right` already aliases.
/// The parent's row as a value: its alias, or at the top level (`FROM schema.table` without
/// one) the table's own name, which Postgres exposes for it.
fn row_reference(parent: &Table, reference: &str) -> String {
    if reference == qualified(&parent.schema, &parent.name) {
        ident(&parent.name)
    } else {
        reference.to_owned()
    }
}

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
