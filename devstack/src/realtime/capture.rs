//! Reads committed row changes from Postgres's logical decoding with wal2json, as Supabase
//! Realtime's replication poller does: a temporary slot on a connection of its own, polled
//! with `pg_logical_slot_get_changes` for the tables of the `supabase_realtime` publication.
//!
//! Nothing is replayed: the slot lives as long as devstack's connection, and while no one is
//! subscribed it is advanced without decoding, so a client sees only the changes committed
//! while it is subscribed.

use std::time::Duration;

use tokio_postgres::{Client, NoTls};

use super::dispatch::{self, WalChange};
use super::messages;
use super::publication::PUBLICATION;
use crate::project::SharedProject;

/// Realtime's default `poll_interval_ms` is 100; half that keeps delivery snappy locally.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const RETRY_AFTER: Duration = Duration::from_secs(5);
const MAX_CHANGES_PER_POLL: i32 = 1000;

/// Captures the project's changes for as long as devstack runs, reconnecting after failures.
pub fn spawn(project: SharedProject, db_port: u16) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = capture(&project, db_port).await {
                tracing::error!(
                    project = %project.config.name,
                    "realtime: change capture stopped: {e:#} (wal2json installed? \
                     apt-get install postgresql-15-wal2json); retrying in {}s",
                    RETRY_AFTER.as_secs()
                );
            }
            tokio::time::sleep(RETRY_AFTER).await;
        }
    });
}

async fn capture(project: &SharedProject, db_port: u16) -> anyhow::Result<()> {
    let db = &project.config.db_name;
    let (client, connection) = crate::db::pg_config(db_port, db, "postgres")
        .connect(NoTls)
        .await?;
    let connection = tokio::spawn(connection);
    let slot = slot_name(db);
    client
        .execute(
            "SELECT pg_create_logical_replication_slot($1, 'wal2json', true)",
            &[&slot],
        )
        .await?;
    tracing::info!(project = %project.config.name, "realtime: capturing changes in slot {slot}");
    let result = poll(project, &client, &slot).await;
    connection.abort();
    result
}

async fn poll(project: &SharedProject, client: &Client, slot: &str) -> anyhow::Result<()> {
    let hub = &project.realtime.hub;
    let rooms = &project.realtime.rooms;
    loop {
        // Read before looking at the hub: whoever subscribes after this point commits later.
        let lsn = client
            .query_one("SELECT pg_current_wal_lsn()::text", &[])
            .await?
            .get::<_, String>(0);
        let tables = publication_tables(client).await?;
        if hub.is_empty() && rooms.is_empty() {
            client
                .execute(
                    "SELECT pg_replication_slot_advance($1, $2::text::pg_lsn) \
                     WHERE $2::text::pg_lsn > (SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1)",
                    &[&slot, &lsn],
                )
                .await?;
            tokio::time::sleep(POLL_INTERVAL).await;
            continue;
        }
        let rows = client
            .query(
                "SELECT data FROM pg_logical_slot_get_changes($1, NULL, $2, \
                   'include-pk', 'true', 'include-transaction', 'false', \
                   'include-timestamp', 'true', 'include-type-oids', 'true', \
                   'format-version', '2', 'actions', 'insert,update,delete', 'add-tables', $3)",
                &[&slot, &MAX_CHANGES_PER_POLL, &tables],
            )
            .await?;
        for row in &rows {
            let data: String = row.get(0);
            match serde_json::from_str::<WalChange>(&data) {
                Ok(change) if messages::is_message(&change) => messages::relay(rooms, &change),
                Ok(change) => {
                    if let Err(e) = dispatch::deliver(project, hub, &change).await {
                        tracing::error!(
                            "realtime: delivering a change to {}.{}: {e:#}",
                            change.schema,
                            change.table
                        );
                    }
                }
                Err(e) => tracing::error!("realtime: unreadable wal2json change ({e}): {data}"),
            }
        }
        if rows.is_empty() {
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

/// The publication's tables in wal2json's `add-tables` syntax, and `realtime.messages` (the
/// database's broadcasts).
async fn publication_tables(client: &Client) -> anyhow::Result<String> {
    let rows = client
        .query(
            "SELECT schemaname::text, tablename::text FROM pg_publication_tables WHERE pubname = $1",
            &[&PUBLICATION],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            format!(
                "{}.{}",
                wal2json_escape(r.get(0)),
                wal2json_escape(r.get(1))
            )
        })
        .chain([messages::TABLE.to_owned()])
        .collect::<Vec<_>>()
        .join(","))
}

/// wal2json splits `add-tables` on `,` and `.` and treats `*` as a wildcard; a backslash
/// keeps any of them (and spaces and quotes) literal.
fn wal2json_escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '\\' | ',' | '.' | '*' | ' ' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Unique per devstack process and database: slot names are cluster-wide.
fn slot_name(db: &str) -> String {
    let db: String = db
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("devstack_realtime_{}_{db}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_escaped_for_wal2json() {
        assert_eq!(
            wal2json_escape("segmentation_results"),
            "segmentation_results"
        );
        assert_eq!(wal2json_escape("a.b,c*d"), "a\\.b\\,c\\*d");
    }

    #[test]
    fn slot_names_are_valid_identifiers() {
        let name = slot_name("tenant_Acme-1");
        assert!(name.ends_with("_tenant_acme_1"), "{name}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        );
    }
}
