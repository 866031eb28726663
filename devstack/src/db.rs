//! Connection pools, the Supabase bootstrap and the migrations runner for one project database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::postgres::SUPERUSER_PASSWORD;

const BOOTSTRAP_SQL: &str = include_str!("../sql/bootstrap.sql");
/// Auth's MFA tables, idempotent, applied on every start (see the file).
const AUTH_MFA_SQL: &str = include_str!("../sql/auth_mfa.sql");
/// Auth's PKCE flow states, idempotent, applied on every start (see the file).
const AUTH_FLOW_STATE_SQL: &str = include_str!("../sql/auth_flow_state.sql");
/// The `storage` schema, a part of the bootstrap kept in its own file so that it also reaches
/// databases bootstrapped before devstack served Storage.
const STORAGE_SQL: &str = include_str!("../sql/storage.sql");
/// Realtime's `realtime.messages` and `realtime.topic()`, which private channels are
/// authorized with; like Storage's schema, it also reaches databases bootstrapped before.
const REALTIME_SQL: &str = include_str!("../sql/realtime.sql");
/// `storage.search`, in a file of its own so that it also reaches databases whose storage
/// schema an earlier devstack made.
const STORAGE_SEARCH_SQL: &str = include_str!("../sql/storage_search.sql");
/// The trigger that refuses DELETEs on the storage tables outside the Storage API.
const STORAGE_PROTECT_SQL: &str = include_str!("../sql/storage_protect.sql");

/// How long opening (or checking) a connection may take. Without it a server that accepts the
/// TCP connection but never answers — one that is stuck, or a port something else holds —
/// would hold every request that needs a new connection forever.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a pooled connection before it fails (PostgREST's PGRST003,
/// after its `db-pool-acquisition-timeout`, 10 s by default).
pub const POOL_WAIT: Duration = Duration::from_secs(10);

/// The two ways devstack reaches a project database.
#[derive(Clone)]
pub struct Pools {
    /// As `postgres`: what Supabase Auth and the migrations runner use.
    pub admin: Pool,
    /// As `authenticator`, which only becomes `anon`/`authenticated`/`service_role` per request,
    /// exactly as PostgREST connects.
    pub api: Pool,
}

pub fn pg_config(port: u16, db: &str, user: &str) -> tokio_postgres::Config {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host("127.0.0.1")
        .port(port)
        .dbname(db)
        .user(user)
        .password(SUPERUSER_PASSWORD);
    cfg.application_name("devstack");
    cfg.connect_timeout(CONNECT_TIMEOUT);
    cfg
}

/// A pool that fails fast when the database is down or stuck (every wait is bounded) and
/// reconnects by itself when it is back: a closed connection is dropped at its next checkout
/// and a new one opened.
fn pool(
    cfg: tokio_postgres::Config,
    size: usize,
    connect_timeout: Duration,
    recycling_method: RecyclingMethod,
) -> anyhow::Result<Pool> {
    let manager = Manager::from_config(cfg, NoTls, ManagerConfig { recycling_method });
    Ok(Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(connect_timeout))
        .recycle_timeout(Some(connect_timeout))
        .wait_timeout(Some(POOL_WAIT))
        .build()?)
}

impl Pools {
    pub fn new(port: u16, db: &str) -> anyhow::Result<Self> {
        Ok(Self {
            admin: pool(
                pg_config(port, db, "postgres"),
                8,
                CONNECT_TIMEOUT,
                RecyclingMethod::Fast,
            )?,
            // Each API connection is reset (`RESET ALL`, `DISCARD TEMP`, …) before it is lent
            // again, so nothing a request's SQL set for the session (`SET`, `set_config(…,
            // false)`, temporary tables) reaches the next request on that connection.
            api: pool(
                pg_config(port, db, "authenticator"),
                16,
                CONNECT_TIMEOUT,
                RecyclingMethod::Clean,
            )?,
        })
    }
}

/// Creates the project's database when missing (connecting to `postgres` to do so).
pub async fn ensure_database(port: u16, db: &str) -> anyhow::Result<()> {
    if db == "postgres" {
        return Ok(());
    }
    let (client, conn) = pg_config(port, "postgres", "postgres")
        .connect(NoTls)
        .await?;
    tokio::spawn(conn);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&db])
        .await?
        .is_some();
    if !exists {
        let quoted = db.replace('"', "\"\"");
        client
            .batch_execute(&format!("CREATE DATABASE \"{quoted}\""))
            .await?;
    }
    Ok(())
}

/// Runs the Supabase bootstrap on a new database, then every migration not yet recorded.
pub async fn prepare(pools: &Pools, migration_dirs: &[PathBuf]) -> anyhow::Result<Vec<String>> {
    let mut client = pools.admin.get().await?;
    bootstrap_once(&mut client).await?;
    client
        .batch_execute(AUTH_MFA_SQL)
        .await
        .context("creating Auth's MFA tables")?;
    client
        .batch_execute(AUTH_FLOW_STATE_SQL)
        .await
        .context("creating Auth's flow states")?;
    storage_schema_once(&mut client).await?;
    apply_unless(
        &mut client,
        Marker::Table("realtime.messages"),
        REALTIME_SQL,
        "creating Realtime's messages table",
    )
    .await?;
    let mut applied = Vec::new();
    for dir in migration_dirs {
        for (version, name, path) in migration_files(dir)? {
            let done = client
                .query_opt(
                    "SELECT 1 FROM supabase_migrations.schema_migrations WHERE version = $1",
                    &[&version],
                )
                .await?
                .is_some();
            if done {
                continue;
            }
            let sql = std::fs::read_to_string(&path)?;
            let tx = client.transaction().await?;
            tx.batch_execute(&sql)
                .await
                .with_context(|| format!("migration {} failed", path.display()))?;
            tx.execute(
                "INSERT INTO supabase_migrations.schema_migrations (version, name, statements) VALUES ($1, $2, ARRAY[$3])",
                &[&version, &name, &sql],
            )
            .await?;
            tx.commit().await?;
            applied.push(format!("{version}_{name}"));
        }
    }
    client
        .batch_execute("NOTIFY pgrst, 'reload schema'")
        .await?;
    Ok(applied)
}

/// Runs the bootstrap in one transaction unless the database already has it. Like the init
/// scripts of Supabase's image it runs once per database: its grants and role settings are a
/// starting point that migrations change, and running it again on every start would undo
/// their REVOKEs. The table it creates last, `supabase_migrations.schema_migrations`, marks it
/// done (a database bootstrapped by an older devstack has it too).
async fn bootstrap_once(client: &mut deadpool_postgres::Client) -> anyhow::Result<()> {
    apply_unless(
        client,
        Marker::Table("supabase_migrations.schema_migrations"),
        BOOTSTRAP_SQL,
        "applying the Supabase bootstrap",
    )
    .await
}

/// What a once-per-database script leaves behind, so that it is not run again.
enum Marker {
    /// A table (`schema.name`).
    Table(&'static str),
    /// A function (`schema.name(argument types)`).
    Function(&'static str),
}

/// Runs `sql` in one transaction unless `marker` exists.
async fn apply_unless(
    client: &mut deadpool_postgres::Client,
    marker: Marker,
    sql: &str,
    context: &'static str,
) -> anyhow::Result<()> {
    let (query, name) = match marker {
        Marker::Table(name) => ("SELECT to_regclass($1) IS NOT NULL", name),
        Marker::Function(name) => ("SELECT to_regprocedure($1) IS NOT NULL", name),
    };
    let done: bool = client.query_one(query, &[&name]).await?.get(0);
    if done {
        return Ok(());
    }
    let tx = client.transaction().await?;
    tx.batch_execute(sql).await.context(context)?;
    tx.commit().await?;
    Ok(())
}

/// Creates the `storage` schema unless `storage.objects` exists, then `storage.search` and
/// `storage.protect_delete()` unless they exist (on a new database, right after the bootstrap;
/// on an older one, before its next migration).
async fn storage_schema_once(client: &mut deadpool_postgres::Client) -> anyhow::Result<()> {
    apply_unless(
        client,
        Marker::Table("storage.objects"),
        STORAGE_SQL,
        "creating the storage schema",
    )
    .await?;
    apply_unless(
        client,
        Marker::Function("storage.search(text,text,integer,integer,text,text,text)"),
        STORAGE_SEARCH_SQL,
        "creating storage.search",
    )
    .await?;
    apply_unless(
        client,
        Marker::Function("storage.protect_delete()"),
        STORAGE_PROTECT_SQL,
        "protecting the storage tables from direct deletes",
    )
    .await
}

/// `supabase/migrations/*.sql` named `<version>_<name>.sql`, in version order.
fn migration_files(dir: &Path) -> anyhow::Result<Vec<(String, String, PathBuf)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".sql"))
        else {
            continue;
        };
        let Some((version, name)) = stem.split_once('_') else {
            anyhow::bail!(
                "migration {} is not named <version>_<name>.sql",
                path.display()
            );
        };
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
            anyhow::bail!(
                "migration {} does not start with a numeric version",
                path.display()
            );
        }
        files.push((version.to_owned(), name.to_owned(), path));
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use deadpool_postgres::PoolError;
    use tokio::net::TcpListener;

    use super::*;

    #[tokio::test]
    async fn a_database_that_accepts_but_never_answers_fails_the_pool_fast() {
        // Accepts connections and keeps them open without a word, like a stuck server.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let timeout = Duration::from_millis(300);
        let pool = pool(
            pg_config(port, "postgres", "authenticator"),
            2,
            timeout,
            RecyclingMethod::Fast,
        )
        .expect("pool");
        for _ in 0..2 {
            let started = Instant::now();
            let err = pool
                .get()
                .await
                .expect_err("no connection from a silent server");
            assert!(
                matches!(err, PoolError::Timeout(_)),
                "a timeout, not {err:?}"
            );
            assert!(started.elapsed() < timeout * 4, "{:?}", started.elapsed());
        }
        holder.abort();
    }

    #[tokio::test]
    async fn a_database_that_is_down_fails_the_pool_at_once() {
        // A port nobody listens on: bound, then released.
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            listener.local_addr().expect("address").port()
        };
        let pool = pool(
            pg_config(port, "postgres", "authenticator"),
            2,
            CONNECT_TIMEOUT,
            RecyclingMethod::Fast,
        )
        .expect("pool");
        let started = Instant::now();
        let err = pool.get().await.expect_err("nothing listens");
        assert!(matches!(err, PoolError::Backend(_)), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
}
