//! Which foreign key an embedded resource (`select=*,author(*)`) follows, PostgREST's way:
//! by target table name, foreign key constraint name or column, narrowed by a `!hint`, or
//! through a junction table (see `junctions`); or which function of the parent's row gives
//! its rows (a computed relationship).

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::ast::Embed;
use super::error::ApiError;
use super::junctions::{Junction, many_to_many};
use super::schema_cache::{ForeignKey, Function, SchemaCache, Table};

pub struct Relationship<'a> {
    pub target: &'a Table,
    /// (parent column, target column) pairs that join the two; through a junction,
    /// (parent column, junction column) pairs.
    pub join: Vec<(String, String)>,
    /// The embed is one object (many-to-one, one-to-one) rather than an array.
    pub to_one: bool,
    /// Many-to-many: the junction table and how it joins the target.
    pub junction: Option<Junction<'a>>,
    /// The key followed (through a junction: the junction's key to the parent); none for a
    /// computed relationship.
    pub(super) fk: Option<&'a ForeignKey>,
    /// A computed relationship: the function called with the parent's row (`join` is empty).
    pub function: Option<&'a Function>,
}

pub fn resolve<'a>(
    cache: &'a SchemaCache,
    parent: &Table,
    embed: &Embed,
) -> Result<Relationship<'a>, ApiError> {
    if let Some(computed) = computed(cache, parent, embed) {
        return Ok(computed);
    }
    let wanted = embed.relation.as_str();
    let matches_hint = |fk: &ForeignKey| match embed.hint.as_deref() {
        None => true,
        Some(hint) => fk.name == hint || fk.columns == [hint] || fk.foreign_columns == [hint],
    };
    let mut found = Vec::new();
    for fk in &cache.foreign_keys {
        if fk.schema == parent.schema
            && fk.table == parent.name
            && fk.foreign_schema == fk.schema
            && fk.foreign_table == fk.table
        {
            // A self-reference is one key and two relationships; PostgREST's convention picks
            // the children by the table's name (`family_tree(*)`, or `!fk_column` naming the
            // key), the parent by the key's column (`parent(*)`).
            let children =
                wanted == parent.name && embed.hint.as_deref().is_none_or(|h| fk.columns == [h]);
            let parent_row = embed.hint.is_none() && fk.columns == [wanted];
            if (children || parent_row)
                && let Some(table) = cache.table(&fk.schema, &fk.table)
            {
                found.push(self_relationship(table, fk, children));
            }
            continue;
        }
        // many-to-one: the parent holds the key
        if fk.schema == parent.schema
            && fk.table == parent.name
            && (fk.foreign_table == wanted || fk.name == wanted || fk.columns == [wanted])
            && matches_hint(fk)
            && let Some(target) = cache.table(&fk.foreign_schema, &fk.foreign_table)
        {
            found.push(Relationship {
                target,
                join: pairs(&fk.columns, &fk.foreign_columns),
                to_one: true,
                junction: None,
                fk: Some(fk),
                function: None,
            });
        }
        // one-to-many (one-to-one when the key is unique): the target holds the key
        if fk.foreign_schema == parent.schema
            && fk.foreign_table == parent.name
            && (fk.table == wanted || fk.name == wanted)
            && matches_hint(fk)
            && let Some(target) = cache.table(&fk.schema, &fk.table)
        {
            found.push(Relationship {
                target,
                join: pairs(&fk.foreign_columns, &fk.columns),
                to_one: is_unique(target, &fk.columns),
                junction: None,
                fk: Some(fk),
                function: None,
            });
        }
    }
    found.extend(many_to_many(cache, parent, embed));
    match found.len() {
        1 => Ok(found.pop().expect("one")),
        0 => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "PGRST200",
            format!(
                "Could not find a relationship between '{}' and '{wanted}' in the schema cache",
                parent.name
            ),
            Some(&format!(
                "Searched for a foreign key relationship between '{}' and '{wanted}'{} in the schema '{}', but no matches were found.",
                parent.name,
                embed
                    .hint
                    .as_deref()
                    .map(|h| format!(" using the hint '{h}'"))
                    .unwrap_or_default(),
                parent.schema
            )),
            None,
        )),
        _ => {
            let details: Vec<Value> = found.iter().map(|r| describe(parent, r)).collect();
            let hints: Vec<String> = found
                .iter()
                .map(|r| {
                    let via = match (&r.junction, r.fk) {
                        (Some(junction), _) => junction.table.name.as_str(),
                        (None, Some(fk)) => fk.name.as_str(),
                        (None, None) => r.target.name.as_str(),
                    };
                    format!("'{}!{via}'", r.target.name)
                })
                .collect();
            Err(ApiError::new(
                StatusCode::MULTIPLE_CHOICES,
                "PGRST201",
                format!(
                    "Could not embed because more than one relationship was found for '{}' and '{wanted}'",
                    parent.name
                ),
                None,
                Some(&format!(
                    "Try changing '{wanted}' to one of the following: {}. Find the desired relationship in the 'details' key.",
                    hints.join(", ")
                )),
            )
            .with_details(Value::Array(details)))
        }
    }
}

/// A computed relationship named by the embed: a function of the parent's schema whose one
/// parameter is the parent's row type and which returns a table's rows; to-one when it returns
/// one row (not `SETOF`, or `ROWS 1`). As in PostgREST, it wins over a foreign key of the
/// same name.
fn computed<'a>(cache: &'a SchemaCache, parent: &Table, embed: &Embed) -> Option<Relationship<'a>> {
    let row_type = (parent.schema.clone(), parent.name.clone());
    cache
        .functions(&parent.schema, &embed.relation)
        .iter()
        .find_map(|function| {
            let [param] = function.params.as_slice() else {
                return None;
            };
            if param.row_of.as_ref() != Some(&row_type) {
                return None;
            }
            let (schema, table) = function.returns_table.as_ref()?;
            Some(Relationship {
                target: cache.table(schema, table)?,
                join: Vec::new(),
                to_one: !function.returns_set || function.single_row,
                junction: None,
                fk: None,
                function: Some(function),
            })
        })
}

/// One side of a self-referencing key: the rows pointing at this one (`children`) or the
/// row this one points at.
fn self_relationship<'a>(table: &'a Table, fk: &'a ForeignKey, children: bool) -> Relationship<'a> {
    if children {
        Relationship {
            target: table,
            join: pairs(&fk.foreign_columns, &fk.columns),
            to_one: is_unique(table, &fk.columns),
            junction: None,
            fk: Some(fk),
            function: None,
        }
    } else {
        Relationship {
            target: table,
            join: pairs(&fk.columns, &fk.foreign_columns),
            to_one: true,
            junction: None,
            fk: Some(fk),
            function: None,
        }
    }
}

fn is_unique(table: &Table, columns: &[String]) -> bool {
    table
        .unique_keys
        .iter()
        .any(|k| k.len() == columns.len() && k.iter().all(|c| columns.contains(c)))
}

pub(super) fn pairs(parent_columns: &[String], target_columns: &[String]) -> Vec<(String, String)> {
    parent_columns
        .iter()
        .cloned()
        .zip(target_columns.iter().cloned())
        .collect()
}

/// One candidate of PGRST201's details, as PostgREST words it: the constraint, then the
/// parent's columns and the target's, in the order they join.
fn describe(parent: &Table, r: &Relationship) -> Value {
    if let Some(junction) = &r.junction {
        return junction.describe(parent, r);
    }
    let Some(fk) = r.fk else {
        return json!({"embedding": format!("{} with {}", parent.name, r.target.name)});
    };
    let parent_holds_key = fk.table == parent.name && fk.schema == parent.schema;
    let parent_columns: Vec<&str> = r.join.iter().map(|(p, _)| p.as_str()).collect();
    let cardinality = match (r.to_one, parent_holds_key) {
        (true, true) if is_unique(parent, &fk.columns) => "one-to-one",
        (true, true) => "many-to-one",
        (true, false) => "one-to-one",
        (false, _) => "one-to-many",
    };
    let target_columns: Vec<&str> = r.join.iter().map(|(_, t)| t.as_str()).collect();
    json!({
        "cardinality": cardinality,
        "embedding": format!("{} with {}", parent.name, r.target.name),
        "relationship": format!(
            "{} using {}({}) and {}({})",
            fk.name,
            parent.name,
            parent_columns.join(", "),
            r.target.name,
            target_columns.join(", ")
        ),
    })
}
