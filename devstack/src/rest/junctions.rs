//! Many-to-many embeds through a junction table, by PostgREST's rule: a table holding two
//! different foreign keys, one to the embedding table and one to the embedded one, whose
//! columns all belong to its primary key (`actors?select=films(*)` through `roles`).
//! The embed names the target table; a `!hint` names the junction (`films!roles(*)`).

use serde_json::{Value, json};

use super::ast::Embed;
use super::relationships::{Relationship, pairs};
use super::schema_cache::{ForeignKey, SchemaCache, Table};

pub struct Junction<'a> {
    pub table: &'a Table,
    /// The junction's key to the parent.
    pub to_parent: &'a ForeignKey,
    /// The junction's key to the target.
    pub to_target: &'a ForeignKey,
}

impl Junction<'_> {
    /// (junction column, target column) pairs.
    pub fn target_join(&self) -> Vec<(String, String)> {
        pairs(&self.to_target.columns, &self.to_target.foreign_columns)
    }

    /// PGRST201's detail for this candidate, as PostgREST words it: the junction, then each
    /// of its keys with the junction's own columns.
    pub fn describe(&self, parent: &Table, r: &Relationship) -> Value {
        json!({
            "cardinality": "many-to-many",
            "embedding": format!("{} with {}", parent.name, r.target.name),
            "relationship": format!(
                "{} using {}({}) and {}({})",
                self.table.name,
                self.to_parent.name,
                self.to_parent.columns.join(", "),
                self.to_target.name,
                self.to_target.columns.join(", ")
            ),
        })
    }
}

/// Every junction between `parent` and the table `embed` names (narrowed to the junction a
/// hint names).
pub fn many_to_many<'a>(
    cache: &'a SchemaCache,
    parent: &Table,
    embed: &Embed,
) -> Vec<Relationship<'a>> {
    let mut found = Vec::new();
    for to_parent in &cache.foreign_keys {
        if to_parent.foreign_schema != parent.schema || to_parent.foreign_table != parent.name {
            continue;
        }
        let Some(junction) = cache.table(&to_parent.schema, &to_parent.table) else {
            continue;
        };
        if embed.hint.as_deref().is_some_and(|h| h != junction.name) {
            continue;
        }
        for to_target in &cache.foreign_keys {
            if to_target.name == to_parent.name
                || to_target.schema != junction.schema
                || to_target.table != junction.name
                || to_target.foreign_table != embed.relation
                || !in_primary_key(junction, to_parent, to_target)
            {
                continue;
            }
            let Some(target) = cache.table(&to_target.foreign_schema, &to_target.foreign_table)
            else {
                continue;
            };
            found.push(Relationship {
                target,
                join: pairs(&to_parent.foreign_columns, &to_parent.columns),
                to_one: false,
                junction: Some(Junction {
                    table: junction,
                    to_parent,
                    to_target,
                }),
                fk: Some(to_parent),
                function: None,
            });
        }
    }
    found
}

/// Both keys' columns are part of the junction's primary key.
fn in_primary_key(junction: &Table, a: &ForeignKey, b: &ForeignKey) -> bool {
    a.columns
        .iter()
        .chain(&b.columns)
        .all(|c| junction.primary_key.contains(c))
}
