//! devstack: a local Supabase-compatible stack with no Docker. See devstack/README.md.
#![forbid(unsafe_code)]

mod admin;
mod auth;
mod config;
mod db;
mod functions_proxy;
mod gateway;
mod jwt;
mod loopback_host;
mod mail;
mod postgres;
mod project;
mod realtime;
mod rest;
mod schema_dump;
mod secret_file;
mod server;
mod signing_keys;
mod status;
mod storage;
mod web_app;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{ProjectConfig, SigningKeysChoice};
use crate::project::Project;
use crate::signing_keys::{KeyAlgorithm, KeyFile};

#[derive(Parser)]
#[command(
    version,
    about = "A local Supabase-compatible stack: Postgres, /rest/v1, /auth/v1, /realtime/v1, /storage/v1, /functions/v1"
)]
struct Cli {
    /// The project directory: `supabase/migrations/` is read from it, `.devstack/` and `.dev.vars` written in it.
    #[arg(long, global = true, default_value = ".")]
    root: PathBuf,
    /// Port of the main project's API (Supabase CLI's default).
    #[arg(long, global = true, default_value_t = 54321)]
    port: u16,
    /// Port of the Postgres server.
    #[arg(long, global = true, default_value_t = 54322)]
    db_port: u16,
    /// Port of the mail catcher (its page, Mailpit's API and the send API), as the Supabase CLI
    /// serves Mailpit on a port of its own.
    #[arg(long, global = true, default_value_t = 54324)]
    mail_port: u16,
    /// Where data and keys live (default `<root>/.devstack`); give the tests their own.
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start Postgres and serve the API until interrupted (the default).
    Start(StartArgs),
    /// Print URLs and keys, like `supabase status`.
    Status {
        #[arg(long, conflicts_with = "env")]
        json: bool,
        #[arg(long)]
        env: bool,
    },
    /// Generate files, like `supabase gen`.
    #[command(subcommand)]
    Gen(GenCommand),
    /// List and rotate a project's asymmetric signing keys; a running stack picks changes up
    /// at once.
    Keys {
        /// The project whose keys to manage (`default`, or a `--tenant` name).
        #[arg(long, default_value = MAIN_PROJECT)]
        project: String,
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Operators' commands against the running stack's database.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Print the schema the migrations give, as `pg_dump --schema-only` does (the project's
    /// schemas, and what the migrations add to auth, storage and realtime), from a throw-away
    /// database; the running stack is not touched.
    SchemaDump {
        /// Migration folders, applied in order (default: `<root>/supabase/migrations`).
        #[arg(long = "migrations")]
        migrations: Vec<PathBuf>,
        /// Write to this file (e.g. `docs/schema.sql`) instead of printing.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum GenCommand {
    /// A private JWK for signing access tokens, in GoTrue's key-file format (a JSON array), like
    /// `supabase gen signing-key`.
    SigningKey {
        #[arg(long, value_enum, default_value = "ES256")]
        algorithm: KeyAlgorithm,
        /// Write to this file (mode 0600) instead of printing.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Add the key to the existing `--output` file as a standby key (published, verify only)
        /// instead of replacing the file.
        #[arg(long, requires = "output")]
        append: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Each key's id, algorithm and state (current, standby, previously used).
    List,
    /// Add a standby key: published in the JWKS at once, signing only after `rotate`.
    Add {
        #[arg(long, value_enum, default_value = "ES256")]
        algorithm: KeyAlgorithm,
    },
    /// Make the standby key (or KID) the one that signs; the previous key keeps verifying.
    Rotate { kid: Option<String> },
    /// Remove a key that no longer signs: tokens it signed stop verifying.
    Revoke { kid: String },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Give an existing account a role, e.g. make the first admin (`public.grant_account_role`).
    Grant {
        /// The account's e-mail (it must have signed up).
        #[arg(long)]
        email: String,
        /// The role to give; `user` takes an admin role back.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(admin::ROLES))]
        role: String,
    },
}

#[derive(clap::Args, Default)]
struct StartArgs {
    /// Delete all data (database and keys) and start clean.
    #[arg(long)]
    reset: bool,
    /// Where `wrangler dev` serves the functions; `/functions/v1/*` is forwarded there.
    #[arg(long, env = "DEVSTACK_FUNCTIONS_URL")]
    functions_url: Option<String>,
    /// Migration folders for the main project, applied in order (default: `<root>/supabase/migrations`, where the Supabase CLI looks).
    #[arg(long = "migrations")]
    migrations: Vec<PathBuf>,
    /// The file `wrangler dev` reads local secrets from (default: `<root>/.dev.vars`).
    #[arg(long)]
    dev_vars: Option<PathBuf>,
    /// An extra isolated project (own database, keys and port) to stand in for a tenant:
    /// `NAME=PORT`, or `NAME=PORT=MIGRATIONS_DIR` to give it tables of its own.
    #[arg(long = "tenant", value_parser = parse_tenant)]
    tenants: Vec<TenantSpec>,
    /// A built web app (a folder with `index.html`) to serve at `/` of the main project's port,
    /// beside the APIs; unknown paths without an extension get `index.html` (client routes).
    #[arg(long, env = "DEVSTACK_WEB_DIR")]
    web_dir: Option<PathBuf>,
    /// Sign the main project's access tokens with the keys in FILE (GoTrue's format, as
    /// `devstack gen signing-key` or `supabase gen signing-key` writes it). Without it, a key file
    /// made once in the state directory (ES256) is used.
    #[arg(long, value_name = "FILE", conflicts_with = "legacy_jwt")]
    signing_keys: Option<PathBuf>,
    /// Sign everything HS256 with the JWT secret, as before Supabase's signing keys (empty JWKS).
    #[arg(long)]
    legacy_jwt: bool,
    /// Sign-up mails a confirmation and returns no session until it is followed, as every hosted
    /// project does (the CLI's `[auth.email] enable_confirmations = true`).
    #[arg(long)]
    email_confirmations: bool,
    /// Serve aggregates in `select` (`count()`, `amount.sum()` …), as PostgREST with
    /// `db-aggregates-enabled = true`; without it they are `400 PGRST123`, PostgREST's default.
    #[arg(long)]
    db_aggregates_enabled: bool,
    #[command(flatten)]
    rate_limits: auth::RateLimits,
}

#[derive(Clone)]
struct TenantSpec {
    name: String,
    port: u16,
    migrations: Vec<PathBuf>,
}

fn parse_tenant(spec: &str) -> Result<TenantSpec, String> {
    let mut parts = spec.splitn(3, '=');
    let name = parts
        .next()
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    let name = name.ok_or("tenant name must be letters, digits or _")?;
    let port = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or("expected NAME=PORT[=MIGRATIONS_DIR]")?;
    Ok(TenantSpec {
        name: name.to_owned(),
        port,
        migrations: parts.next().map(PathBuf::from).into_iter().collect(),
    })
}

const MAIN_PROJECT: &str = "default";
/// Where the Supabase CLI reads migrations from, relative to the project root.
const DEFAULT_MIGRATIONS: &str = "supabase/migrations";
/// The main project's database, as on Supabase.
const MAIN_PROJECT_DB: &str = "postgres";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "devstack=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let root = std::fs::canonicalize(&cli.root)
        .with_context(|| format!("project root {}", cli.root.display()))?;
    let state_dir = match &cli.state_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            std::fs::canonicalize(dir)?
        }
        None => root.join(".devstack"),
    };
    let ports = cli.ports();
    match cli.command {
        Some(Command::Status { json, env }) => print_status(&state_dir, &ports, json, env),
        Some(Command::Start(args)) => start(&root, &state_dir, &ports, args).await,
        Some(Command::Gen(GenCommand::SigningKey {
            algorithm,
            output,
            append,
        })) => gen_signing_key(algorithm, output.as_deref(), append),
        Some(Command::Keys { project, command }) => manage_keys(&state_dir, &project, command),
        Some(Command::Admin(AdminCommand::Grant { email, role })) => {
            let granted = admin::grant_role(cli.db_port, MAIN_PROJECT_DB, &email, &role).await?;
            println!("{}", serde_json::to_string_pretty(&granted)?);
            Ok(())
        }
        Some(Command::SchemaDump { migrations, out }) => {
            schema_dump(&root, migrations, out.as_deref()).await
        }
        None => start(&root, &state_dir, &ports, StartArgs::default()).await,
    }
}

async fn schema_dump(
    root: &Path,
    migrations: Vec<PathBuf>,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let dirs: Vec<PathBuf> = if migrations.is_empty() {
        vec![root.join(DEFAULT_MIGRATIONS)]
    } else {
        migrations.iter().map(|m| root.join(m)).collect()
    };
    let dump = schema_dump::dump(&dirs).await?;
    match out {
        Some(path) => {
            std::fs::write(path, dump).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{dump}"),
    }
    Ok(())
}

/// The main project's ports, from the command line.
struct Ports {
    api: u16,
    db: u16,
    mail: u16,
}

impl Cli {
    fn ports(&self) -> Ports {
        Ports {
            api: self.port,
            db: self.db_port,
            mail: self.mail_port,
        }
    }
}

fn print_status(state_dir: &Path, ports: &Ports, json: bool, env: bool) -> anyhow::Result<()> {
    let path = state_dir.join(format!("project-{MAIN_PROJECT}.json"));
    let bytes = std::fs::read(&path)
        .with_context(|| format!("{} not found: start devstack first", path.display()))?;
    let mut main: ProjectConfig = serde_json::from_slice(&bytes)?;
    main.api_port = ports.api;
    main.mail_port = Some(ports.mail);
    let db_port = ports.db;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status::as_json(&[main], db_port))?
        );
    } else if env {
        for (k, v) in status::as_env(&main, db_port) {
            println!("{k}=\"{v}\"");
        }
    } else {
        print!("{}", status::as_text(&[main], db_port));
    }
    Ok(())
}

fn gen_signing_key(alg: KeyAlgorithm, output: Option<&Path>, append: bool) -> anyhow::Result<()> {
    match output {
        None => println!(
            "{}",
            serde_json::to_string_pretty(&[signing_keys::generate_key(alg, true)?])?
        ),
        Some(path) if append => {
            let kid = KeyFile::load(path)?.add(alg)?;
            eprintln!(
                "standby {} key {kid} appended to {}",
                alg.name(),
                path.display()
            );
        }
        Some(path) => {
            let file = KeyFile::create(path, alg)?;
            let kid = file.key_set()?.current().kid.clone();
            eprintln!(
                "{} signing key {kid} written to {}",
                alg.name(),
                path.display()
            );
        }
    }
    Ok(())
}

fn manage_keys(state_dir: &Path, project: &str, command: KeysCommand) -> anyhow::Result<()> {
    let config_path = ProjectConfig::path(state_dir, project);
    let bytes = std::fs::read(&config_path)
        .with_context(|| format!("{} not found: start devstack first", config_path.display()))?;
    let config: ProjectConfig = serde_json::from_slice(&bytes)?;
    let path = config.signing_keys_path.as_deref().with_context(|| {
        format!(
            "project {project} signs with the legacy JWT secret only (started with --legacy-jwt)"
        )
    })?;
    let mut file = KeyFile::load(path)?;
    match command {
        KeysCommand::List => {}
        KeysCommand::Add { algorithm } => {
            let kid = file.add(algorithm)?;
            println!("added standby key {kid} ({})", algorithm.name());
        }
        KeysCommand::Rotate { kid } => {
            let kid = file.rotate(kid.as_deref())?;
            println!("{kid} signs from now on");
        }
        KeysCommand::Revoke { kid } => {
            file.revoke(&kid)?;
            println!("revoked {kid}");
        }
    }
    for (kid, alg, state) in status::signing_keys(&config) {
        println!("{kid}\t{alg}\t{state}");
    }
    Ok(())
}

async fn start(
    root: &Path,
    state_dir: &Path,
    ports: &Ports,
    args: StartArgs,
) -> anyhow::Result<()> {
    // Signals are caught from the very start, so that an interrupt during start-up still stops
    // the Postgres this process started (the cluster stops itself when dropped).
    let shutdown = shutdown_signal()?;
    let mut cluster = postgres::PostgresCluster::new(state_dir.join("pgdata"), ports.db)?;
    tokio::select! {
        result = serve(root, state_dir, ports, args, &mut cluster) => result?,
        _ = shutdown => tracing::info!("shutting down"),
    }
    cluster.stop();
    Ok(())
}

/// Starts Postgres and every project, then serves until a server fails.
async fn serve(
    root: &Path,
    state_dir: &Path,
    ports: &Ports,
    args: StartArgs,
    cluster: &mut postgres::PostgresCluster,
) -> anyhow::Result<()> {
    if args.reset {
        cluster.stop();
        cluster.wipe()?;
        for entry in std::fs::read_dir(state_dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with("project-") {
                std::fs::remove_file(entry.path())?;
            }
        }
        match std::fs::remove_dir_all(state_dir.join("storage")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        tracing::info!("reset: data, keys and stored objects deleted");
    }
    std::fs::create_dir_all(state_dir)?;
    let web_dir = args.web_dir.as_ref().map(|dir| root.join(dir));
    if let Some(dir) = &web_dir {
        anyhow::ensure!(
            dir.join("index.html").is_file(),
            "--web-dir {}: no index.html there (build the app first)",
            dir.display()
        );
    }
    cluster.start()?;

    let main_migrations = if args.migrations.is_empty() {
        vec![PathBuf::from(DEFAULT_MIGRATIONS)]
    } else {
        args.migrations
    };
    let db_port = ports.db;
    let mut specs = vec![TenantSpec {
        name: MAIN_PROJECT.to_owned(),
        port: ports.api,
        migrations: main_migrations,
    }];
    specs.extend(args.tenants);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut configs = Vec::new();
    let mut ready = Vec::new();
    for spec in specs {
        let db_name = if spec.name == MAIN_PROJECT {
            MAIN_PROJECT_DB.to_owned()
        } else {
            format!("tenant_{}", spec.name)
        };
        let keys = match (&args.signing_keys, args.legacy_jwt) {
            (_, true) => SigningKeysChoice::Legacy,
            (Some(file), false) if spec.name == MAIN_PROJECT => {
                SigningKeysChoice::File(std::path::absolute(root.join(file))?)
            }
            _ => SigningKeysChoice::Generated,
        };
        let mut config =
            ProjectConfig::load_or_create(state_dir, &spec.name, spec.port, &db_name, &keys)
                .with_context(|| format!("project {}", spec.name))?;
        config.mail_port = (spec.name == MAIN_PROJECT).then_some(ports.mail);
        db::ensure_database(cluster.port(), &db_name).await?;
        let pools = db::Pools::new(cluster.port(), &db_name)?;
        let migrations: Vec<PathBuf> = spec.migrations.iter().map(|m| root.join(m)).collect();
        let applied = db::prepare(&pools, &migrations)
            .await
            .with_context(|| format!("preparing project {}", spec.name))?;
        for m in applied {
            tracing::info!(project = %spec.name, "applied migration {m}");
        }
        let rest = rest::RestState::load(&pools, args.db_aggregates_enabled).await?;
        let project = Arc::new(Project {
            jwt: config.jwt_keys()?,
            config: config.clone(),
            pools,
            rest,
            realtime: realtime::RealtimeState::default(),
            functions_url: if spec.name == MAIN_PROJECT {
                args.functions_url.clone()
            } else {
                None
            },
            web_dir: if spec.name == MAIN_PROJECT {
                web_dir.clone()
            } else {
                None
            },
            http: http.clone(),
            mail: mail::Mailbox::default(),
            auth: Arc::new(auth::AuthSettings::for_project(
                args.email_confirmations,
                args.rate_limits,
                &config.api_url(),
            )),
            storage: storage::FileStore::new(storage::files_dir(state_dir, &spec.name)),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", spec.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", spec.port))?;
        ready.push((listener, project));
        configs.push(config);
    }
    let mail_listener = tokio::net::TcpListener::bind(("127.0.0.1", ports.mail))
        .await
        .with_context(|| format!("binding 127.0.0.1:{} (the mail catcher)", ports.mail))?;
    let dev_vars = args
        .dev_vars
        .map(|p| root.join(p))
        .unwrap_or_else(|| root.join(".dev.vars"));
    status::update_dev_vars(
        &dev_vars,
        &status::worker_vars(&configs[0]),
        &status::OPTIONAL_WORKER_VARS,
    )?;
    secret_file::write(
        &state_dir.join("status.json"),
        &serde_json::to_vec_pretty(&status::as_json(&configs, db_port))?,
    )?;

    // Only now, with status.json written, does any port answer: a client that sees the API up
    // can rely on the keys file.
    let mut servers = tokio::task::JoinSet::new();
    let mail_router = server::mail_router(ready[0].1.clone());
    servers.spawn(async move { axum::serve(mail_listener, mail_router).await });
    for (listener, project) in ready {
        rest::spawn_schema_listener(project.clone(), cluster.port());
        realtime::spawn_capture(project.clone(), cluster.port());
        // The peer address is who Auth's rate limits count.
        let app =
            server::router(project).into_make_service_with_connect_info::<std::net::SocketAddr>();
        servers.spawn(async move { axum::serve(listener, app).await });
    }
    println!("{}", status::as_text(&configs, db_port));
    if web_dir.is_some() {
        println!("         Web app: {}/\n", configs[0].api_url());
    }
    if let Some(result) = servers.join_next().await {
        anyhow::bail!("a server stopped: {result:?}");
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; the handlers are installed when this is called.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}
