//! `devstack schema-dump`: the schema the migrations give, as `pg_dump --schema-only` prints it
//! (the repository keeps it as `docs/schema.sql`, and a test compares the two).
//!
//! A throw-away Postgres gets devstack's Supabase bootstrap, is dumped, gets the migrations, and
//! is dumped again. Kept from the second dump, in pg_dump's own order: every object of the
//! project's schemas (`public` and every schema the migrations create), and of the schemas
//! devstack itself creates (`auth`, `storage`, `realtime`, …) only the objects the migrations
//! add or change there (their triggers on `auth.users`, their policies on `storage.objects`, the
//! tables they publish to Realtime). devstack's stand-ins for Supabase's own schemas are not
//! the project's, and on a hosted project they are Supabase's, not these.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::db;
use crate::postgres::{PostgresCluster, SUPERUSER_PASSWORD};

/// Lines of a dump that change with the pg_dump version or on every run: the versions, and
/// the random `\restrict` key that pg_dump 15.14 and later print.
const VOLATILE_PREFIXES: [&str; 4] = [
    "-- Dumped from database version",
    "-- Dumped by pg_dump version",
    "\\restrict ",
    "\\unrestrict ",
];

/// What pg_dump sets before the first entry that needs it (`_selectTablespace`,
/// `_selectTableAccessMethod`).
const ENTRY_SETTINGS: [&str; 2] = [
    "SET default_tablespace = ",
    "SET default_table_access_method = ",
];

const HEADER: &str = "\
-- The database schema the migrations in supabase/migrations give, as `pg_dump --schema-only`
-- prints it: every object of the project's schemas, and of the schemas devstack creates in the
-- place of Supabase's (auth, storage, realtime, …) only what the migrations add or change.
-- Written by `cargo run -q -p devstack -- schema-dump --out docs/schema.sql`; do not edit
-- (tests/schema-snapshot.test.mjs fails when it and the migrations disagree).

";

/// Applies `migration_dirs` to a fresh database and returns the schema dump.
pub async fn dump(migration_dirs: &[PathBuf]) -> anyhow::Result<String> {
    let dir = std::env::temp_dir().join(format!("devstack-schema-dump-{}", std::process::id()));
    // A directory left by an earlier run that had this process id would hold its database.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    // Postgres runs as its own user when we are root, and must reach its data directory.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
    let result = dump_in(&dir, migration_dirs).await;
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    result
}

async fn dump_in(dir: &Path, migration_dirs: &[PathBuf]) -> anyhow::Result<String> {
    let mut cluster = PostgresCluster::new(dir.join("pgdata"), free_port()?)?;
    cluster.start()?;
    let pools = db::Pools::new(cluster.port(), "postgres")?;
    db::prepare(&pools, &[]).await?;
    let schemas_before = schemas(&pools).await?;
    let before = pg_dump(&cluster)?;
    db::prepare(&pools, migration_dirs).await?;
    let mut project_schemas = vec!["public".to_owned()];
    project_schemas.extend(
        schemas(&pools)
            .await?
            .into_iter()
            .filter(|s| !schemas_before.contains(s)),
    );
    let after = pg_dump(&cluster)?;
    cluster.stop();
    Ok(select(&before, &after, &project_schemas))
}

/// A TCP port nobody listens on now, for the throw-away server.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn schemas(pools: &db::Pools) -> anyhow::Result<Vec<String>> {
    let client = pools.admin.get().await?;
    let rows = client
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY 1",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The whole database's schema, as `pg_dump --schema-only` prints it.
fn pg_dump(cluster: &PostgresCluster) -> anyhow::Result<String> {
    let output = Command::new(cluster.tool("pg_dump"))
        .args([
            "--schema-only",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .arg("-p")
        .arg(cluster.port().to_string())
        .env("PGPASSWORD", SUPERUSER_PASSWORD)
        .output()
        .context("running pg_dump")?;
    anyhow::ensure!(
        output.status.success(),
        "pg_dump exited with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

/// One object of a dump: its `-- Name: …; Type: …; Schema: …; Owner: …` header and its SQL.
struct Entry<'a> {
    header: &'a str,
    schema: &'a str,
    /// The settings before it (which entry carries them depends on the rest of the dump) and
    /// the object itself, from its header on.
    text: &'a str,
    object: &'a str,
}

/// A plain-format dump as its preamble (the `SET`s), its entries and its closing comment.
fn entries(dump: &str) -> (&str, Vec<Entry<'_>>, &str) {
    let mut starts: Vec<usize> = dump
        .match_indices("--\n-- Name: ")
        .map(|(i, _)| with_settings_before(dump, i))
        .collect();
    let end = dump
        .find("--\n-- PostgreSQL database dump complete")
        .unwrap_or(dump.len());
    let preamble = &dump[..starts.first().copied().unwrap_or(end)];
    starts.push(end);
    let entries = starts
        .windows(2)
        .map(|w| {
            let text = &dump[w[0]..w[1]];
            let object = &text[text.find("--\n-- Name: ").unwrap_or(0)..];
            let header = object.lines().nth(1).unwrap_or_default();
            let schema = header
                .split("; ")
                .find_map(|part| part.strip_prefix("Schema: "))
                .unwrap_or("-");
            Entry {
                header,
                schema,
                text,
                object,
            }
        })
        .collect();
    (preamble, entries, &dump[end..])
}

/// `start`, or earlier if `ENTRY_SETTINGS` lines stand right before it: pg_dump writes the
/// settings an entry needs before its header, once per change, so they belong to that entry
/// and not to the one before.
fn with_settings_before(dump: &str, mut start: usize) -> usize {
    while let Some(line_start) = dump[..start]
        .strip_suffix(";\n\n")
        .and_then(|before| before.rfind('\n'))
        .map(|i| i + 1)
        .filter(|&i| {
            ENTRY_SETTINGS
                .iter()
                .any(|setting| dump[i..start].starts_with(setting))
        })
    {
        start = line_start;
    }
    start
}

/// The entries of `after` in the project's schemas, and those elsewhere that `before` does not
/// have as they are, without the volatile lines.
fn select(before: &str, after: &str, project_schemas: &[String]) -> String {
    let (_, base, _) = entries(before);
    let (preamble, entries, closing) = entries(after);
    let mut out = String::from(HEADER);
    out.push_str(preamble);
    for entry in entries {
        let project = project_schemas.iter().any(|s| s == entry.schema);
        let unchanged = || {
            base.iter()
                .any(|b| b.header == entry.header && b.object == entry.object)
        };
        if project || !unchanged() {
            out.push_str(entry.text);
        }
    }
    out.push_str(closing);
    without_volatile_lines(&out)
}

/// `dump` without the lines of `VOLATILE_PREFIXES`, each with the blank line after it.
fn without_volatile_lines(dump: &str) -> String {
    let mut text = String::with_capacity(dump.len());
    let mut lines = dump.lines().peekable();
    while let Some(line) = lines.next() {
        if VOLATILE_PREFIXES.iter().any(|p| line.starts_with(p)) {
            lines.next_if(|next| next.is_empty());
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    text.truncate(text.trim_end().len());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n-- Dumped from database version 15.18\n-- Dumped by pg_dump version 15.18\n\nSET x = 0;\n\n--\n-- Name: auth; Type: SCHEMA; Schema: -; Owner: postgres\n--\n\nCREATE SCHEMA auth;\n\n\n--\n-- Name: users; Type: TABLE; Schema: auth; Owner: postgres\n--\n\nCREATE TABLE auth.users ();\n\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n";

    #[test]
    fn keeps_the_project_schemas_and_what_the_migrations_add_elsewhere() {
        let after = BEFORE
            .replace("\\restrict abc", "\\restrict def")
            .replace("\\unrestrict abc", "\\unrestrict def")
            .replace(
                "--\n-- PostgreSQL database dump complete",
                "--\n-- Name: users on_signup; Type: TRIGGER; Schema: auth; Owner: postgres\n--\n\nCREATE TRIGGER on_signup …;\n\n\n--\n-- Name: notes; Type: TABLE; Schema: public; Owner: postgres\n--\n\nCREATE TABLE public.notes ();\n\n\n--\n-- PostgreSQL database dump complete",
            );
        let dump = select(BEFORE, &after, &["public".to_owned()]);
        assert!(dump.starts_with(HEADER), "{dump}");
        assert!(dump.contains("SET x = 0;"), "{dump}");
        assert!(dump.contains("CREATE TRIGGER on_signup"), "{dump}");
        assert!(dump.contains("CREATE TABLE public.notes"), "{dump}");
        assert!(!dump.contains("CREATE TABLE auth.users"), "{dump}");
        assert!(!dump.contains("CREATE SCHEMA auth"), "{dump}");
        assert!(
            !dump.contains("restrict") && !dump.contains("Dumped"),
            "{dump}"
        );
        assert!(dump.contains("--\n\nSET x = 0;"), "{dump}");
        assert!(
            dump.ends_with("-- PostgreSQL database dump complete\n--\n"),
            "{dump}"
        );
    }

    #[test]
    fn the_settings_before_an_entry_belong_to_it() {
        let dump = "SET x = 0;\n\n--\n-- Name: f; Type: FUNCTION; Schema: auth; Owner: postgres\n--\n\nCREATE FUNCTION f;\n\nSET default_tablespace = '';\n\nSET default_table_access_method = heap;\n\n--\n-- Name: t; Type: TABLE; Schema: public; Owner: postgres\n--\n\nCREATE TABLE t;\n\n";
        let (preamble, entries, _) = entries(dump);
        assert_eq!(preamble, "SET x = 0;\n\n");
        assert!(
            entries[0].text.ends_with("CREATE FUNCTION f;\n\n"),
            "{}",
            entries[0].text
        );
        assert!(
            entries[1].text.starts_with("SET default_tablespace"),
            "{}",
            entries[1].text
        );
        assert_eq!(entries[1].schema, "public");
    }

    #[test]
    fn keeps_an_object_the_migrations_change_outside_the_project_schemas() {
        let after = BEFORE.replace(
            "CREATE TABLE auth.users ();",
            "CREATE TABLE auth.users (x int);",
        );
        let dump = select(BEFORE, &after, &["public".to_owned()]);
        assert!(dump.contains("CREATE TABLE auth.users (x int);"), "{dump}");
        assert!(!dump.contains("CREATE SCHEMA auth"), "{dump}");
    }
}
