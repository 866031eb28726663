//! The real Postgres server from the system's binaries, in a data directory inside the project.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// Superuser password set at `initdb`, as on `supabase start` (`postgres`/`postgres`).
pub const SUPERUSER_PASSWORD: &str = "postgres";

/// Every statement's limit unless a role or function sets its own: 2 minutes, as on Supabase.
pub const GLOBAL_STATEMENT_TIMEOUT_MS: u64 = 120_000;

pub struct PostgresCluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    /// Whether this process started the server (and so stops it on exit).
    started_here: bool,
}

impl PostgresCluster {
    pub fn new(data_dir: PathBuf, port: u16) -> anyhow::Result<Self> {
        Ok(Self {
            bin_dir: find_bin_dir()?,
            data_dir,
            port,
            started_here: false,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// One of the server's client programs (`pg_dump`, …), from the same installation.
    pub fn tool(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// Deletes the data directory (the server must be stopped).
    pub fn wipe(&self) -> anyhow::Result<()> {
        if self.data_dir.exists() {
            std::fs::remove_dir_all(&self.data_dir)
                .with_context(|| format!("removing {}", self.data_dir.display()))?;
        }
        Ok(())
    }

    /// Creates the cluster if it does not exist yet, then starts it unless it already runs.
    pub fn start(&mut self) -> anyhow::Result<()> {
        if !self.data_dir.join("PG_VERSION").exists() {
            self.init()?;
        }
        if self.is_running() {
            tracing::info!(data_dir = %self.data_dir.display(), "Postgres already running; adopting it");
            self.started_here = true;
            return Ok(());
        }
        let log = self.data_dir.join("postgres.log");
        // `statement_timeout`: the global 2 minutes of Supabase's platform defaults
        // (postgresql-platform-defaults.conf); the API roles have shorter ones of their own.
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_connections=200 -c fsync=off -c statement_timeout={GLOBAL_STATEMENT_TIMEOUT_MS}",
            self.port,
            self.data_dir.display()
        );
        self.run_as_owner(
            Command::new(self.bin_dir.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data_dir)
                .arg("-l")
                .arg(&log)
                .arg("-o")
                .arg(options)
                .args(["-w", "-t", "60", "start"]),
        )
        .with_context(|| format!("starting Postgres (log: {})", log.display()))?;
        self.started_here = true;
        Ok(())
    }

    /// Stops the server if this process started or adopted it.
    pub fn stop(&mut self) {
        if !self.started_here {
            return;
        }
        let result = self.run_as_owner(
            Command::new(self.bin_dir.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-m", "fast", "-w", "stop"]),
        );
        if let Err(e) = result {
            tracing::warn!("stopping Postgres: {e:#}");
        }
        self.started_here = false;
    }

    fn is_running(&self) -> bool {
        self.run_as_owner(
            Command::new(self.bin_dir.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data_dir)
                .arg("status"),
        )
        .is_ok()
    }

    fn init(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir)?;
        chown_to_postgres(&self.data_dir)?;
        let pwfile = self.data_dir.with_extension("pwfile");
        std::fs::write(&pwfile, SUPERUSER_PASSWORD)?;
        chown_to_postgres(&pwfile)?;
        let result = self.run_as_owner(
            Command::new(self.bin_dir.join("initdb"))
                .arg("-D")
                .arg(&self.data_dir)
                .args([
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ])
                .arg(format!("--pwfile={}", pwfile.display())),
        );
        let _ = std::fs::remove_file(&pwfile);
        result.context("initdb")
    }

    /// Postgres refuses to run as root; when we are root, run its tools as the `postgres` user.
    fn run_as_owner(&self, cmd: &mut Command) -> anyhow::Result<()> {
        let output = if is_root() {
            let program = cmd.get_program().to_owned();
            let args: Vec<_> = cmd.get_args().map(ToOwned::to_owned).collect();
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(program)
                .args(args)
                .output()?
        } else {
            cmd.output()?
        };
        if !output.status.success() {
            bail!(
                "{} exited with {}: {}{}",
                cmd.get_program().to_string_lossy(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

fn chown_to_postgres(path: &Path) -> anyhow::Result<()> {
    if !is_root() {
        return Ok(());
    }
    let status = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(path)
        .status()?;
    if !status.success() {
        bail!(
            "chown postgres {} failed; is the `postgres` system user present?",
            path.display()
        );
    }
    Ok(())
}

/// `DEVSTACK_PG_BIN`, else the newest `/usr/lib/postgresql/<major>/bin`, else `pg_config --bindir`.
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("DEVSTACK_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    candidates.sort();
    if let Some((_, dir)) = candidates.pop() {
        return Ok(dir);
    }
    let output = Command::new("pg_config").arg("--bindir").output();
    if let Ok(out) = output {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    bail!("no Postgres server binaries found (apt-get install postgresql, or set DEVSTACK_PG_BIN)")
}
