//! The tables a binding may follow: those of the `supabase_realtime` publication that match its
//! schema and table (`*` for any), as Realtime's subscription insert selects them.

use super::subscription::Binding;
use crate::project::Project;

pub const PUBLICATION: &str = "supabase_realtime";

/// `(schema, table)` pairs, or Realtime's error when there are none or a filter names a column
/// the table lacks.
pub async fn tables_for(
    project: &Project,
    binding: &Binding,
) -> Result<Vec<(String, String)>, String> {
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::error!("realtime: reading the publication: {e}");
        "Realtime was unable to connect to the project database".to_owned()
    };
    let client = project
        .pools
        .admin
        .get()
        .await
        .map_err(|e| unavailable(&e))?;
    // LIKE without an escape character, with `*` as `%`: Realtime's own matching.
    let rows = client
        .query(
            "SELECT p.schemaname::text, p.tablename::text, \
                    array(SELECT a.attname::text FROM pg_attribute a \
                          WHERE a.attrelid = format('%I.%I', p.schemaname, p.tablename)::regclass \
                            AND a.attnum > 0 AND NOT a.attisdropped) \
             FROM pg_publication_tables p \
             WHERE p.pubname = $1 \
               AND p.schemaname LIKE (CASE $2 WHEN '*' THEN '%' ELSE $2 END) ESCAPE '' \
               AND p.tablename LIKE (CASE $3 WHEN '*' THEN '%' ELSE $3 END) ESCAPE ''",
            &[&PUBLICATION, &binding.schema, &binding.table],
        )
        .await
        .map_err(|e| unavailable(&e))?;
    if rows.is_empty() {
        return Err(format!(
            "Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [{}]",
            binding.describe()
        ));
    }
    let mut tables = Vec::new();
    for row in rows {
        let columns: Vec<String> = row.get(2);
        if let Some(f) = binding
            .filters
            .iter()
            .find(|f| !columns.contains(&f.column))
        {
            return Err(format!(
                "Unable to subscribe to changes with given parameters. An exception happened so please check your connect parameters: [{}]. Exception: ERROR P0001 (raise_exception) invalid column for filter {}",
                binding.describe(),
                f.column
            ));
        }
        tables.push((row.get(0), row.get(1)));
    }
    Ok(tables)
}
