//! The reference inference backend (`cargo run -p inference-worker`): what an ML engineer copies
//! and puts a model in. It long-polls process-webhook's `claim`, downloads each task's image,
//! computes a mask (see `mask.rs`: Otsu's threshold and connected components, no weights),
//! uploads it as a PNG to the claim's signed URL and reports `done` with labels and metadata, or
//! `error` for an image it cannot decode. While it works it extends the lease at half its
//! length; on SIGTERM or Ctrl-C it stops claiming (a claim already waiting is answered and its
//! task worked on), finishes the tasks it holds and exits 0.
#![forbid(unsafe_code)]

mod backend;
mod mask;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinSet;

use backend::{Backend, ClaimedTask, Extended, Report};

#[derive(Parser, Debug)]
#[command(about = "Reference inference backend: claims segmentation tasks and reports masks")]
struct Args {
    /// The functions' base URL.
    #[arg(
        long,
        env = "FUNCTIONS_URL",
        default_value = "http://127.0.0.1:54321/functions/v1"
    )]
    functions_url: String,
    /// One of process-webhook's WEBHOOK_API_KEYS.
    #[arg(long, env = "WEBHOOK_API_KEY", conflicts_with = "dev_vars")]
    api_key: Option<String>,
    /// Take the key from this .dev.vars file (the first of WEBHOOK_API_KEYS).
    #[arg(long)]
    dev_vars: Option<String>,
    /// Tasks worked on at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10))]
    concurrency: u32,
    /// The lease asked for each task (30-3600 s); it is extended at half its length.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(30..=3600))]
    lease_seconds: u32,
    /// How long one claim waits for a task (0-20 s).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=20))]
    wait_seconds: u32,
    /// Extra work per task, to watch leases being extended (a model's time).
    #[arg(long, default_value_t = 0)]
    extra_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let api_key = match (&args.api_key, &args.dev_vars) {
        (Some(key), _) => key.clone(),
        (None, Some(path)) => api_key_from_dev_vars(path)?,
        (None, None) => anyhow::bail!("give --api-key (or WEBHOOK_API_KEY) or --dev-vars"),
    };
    let backend = Arc::new(Backend::new(&args.functions_url, api_key)?);
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        tracing::info!("stopping: no new claims; finishing the tasks held");
        let _ = stop_tx.send(true);
    });
    tracing::info!(url = %args.functions_url, concurrency = args.concurrency, "inference worker started");

    let args = Arc::new(args);
    let mut lanes = JoinSet::new();
    for _ in 0..args.concurrency {
        lanes.spawn(lane(backend.clone(), args.clone(), stop.clone()));
    }
    while lanes.join_next().await.is_some() {}
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// One task at a time: claim, work, repeat. A claim in flight when the stop comes is awaited
/// and its task worked on: the function may hand out a task until its wait is over, even to a
/// client that went away, and that task would otherwise sit out its lease.
async fn lane(backend: Arc<Backend>, args: Arc<Args>, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(500);
    while !*stop.borrow() {
        let claimed = backend
            .claim(1, args.lease_seconds, args.wait_seconds)
            .await;
        match claimed {
            Ok(tasks) => {
                backoff = Duration::from_millis(500);
                for task in tasks {
                    work(&backend, &args, task).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "claim failed; retrying in {backoff:?}");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => break,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Processes a task while its lease is extended; drops the work if the lease is lost.
async fn work(backend: &Backend, args: &Args, task: ClaimedTask) {
    let started = Instant::now();
    let id = task.task_id;
    tracing::info!(%id, attempt = task.attempt, prompt = ?task.text_prompt, lease_until = %task.lease_expires_at, "claimed");
    let keep_lease = async {
        let every = Duration::from_secs(u64::from(args.lease_seconds) / 2);
        loop {
            tokio::time::sleep(every).await;
            match backend.extend(&task, args.lease_seconds).await {
                Ok(Extended::Yes) => tracing::debug!(%id, "lease extended"),
                Ok(Extended::LeaseLost) => return,
                Err(e) => {
                    tracing::warn!(%id, error = %format!("{e:#}"), "extending the lease failed")
                }
            }
        }
    };
    let outcome = tokio::select! {
        report = process(backend, args, &task, started) => report,
        () = keep_lease => {
            tracing::warn!(%id, "lease lost (expired, cancelled or finished elsewhere): work dropped");
            return;
        }
    };
    let report = match outcome {
        Ok(report) => report,
        Err(e) => {
            // Not the image's fault (network, Storage): leave the task to its lease, which puts
            // it back in the queue for another attempt.
            tracing::warn!(%id, error = %format!("{e:#}"), "task failed; it will be retried when its lease runs out");
            return;
        }
    };
    let key = format!("{id}-attempt-{}", task.attempt);
    match backend.report(&report, &key).await {
        Ok(answer) => {
            tracing::info!(%id, attempt = task.attempt, ms = started.elapsed().as_millis() as u64, %answer, "reported")
        }
        Err(e) => tracing::warn!(%id, error = %format!("{e:#}"), "the report was refused"),
    }
}

/// Download, mask, upload: the report to send, or an error that is not the image's.
async fn process(
    backend: &Backend,
    args: &Args,
    task: &ClaimedTask,
    started: Instant,
) -> anyhow::Result<Report> {
    let url = task
        .image_url
        .as_deref()
        .context("the task has no image_url")?;
    let computed = match backend.download(url).await? {
        Ok(bytes) => tokio::task::spawn_blocking(move || {
            let mask = mask::mask_of_encoded(&bytes).map_err(|e| e.to_string())?;
            let png = mask.to_png();
            Ok::<_, String>((mask, png))
        })
        .await
        .context("the mask computation panicked")?,
        Err(why) => Err(why),
    };
    if args.extra_ms > 0 {
        tokio::time::sleep(Duration::from_millis(args.extra_ms)).await;
    }
    let (mask, png) = match computed {
        Ok(done) => done,
        Err(e) => {
            return Ok(Report::Error {
                task_id: task.task_id,
                error: e,
                metadata: json!({ "algorithm": mask::ALGORITHM, "ms": started.elapsed().as_millis() as u64 }),
            });
        }
    };
    let mask_path = match &task.mask_upload_url {
        Some(upload) => {
            backend.upload_mask(upload, png).await?;
            Some(task.mask_path.clone())
        }
        None => {
            tracing::warn!(id = %task.task_id, "no mask_upload_url: the mask is not stored");
            None
        }
    };
    Ok(Report::Done {
        task_id: task.task_id,
        labels: serde_json::to_value(&mask.regions)?,
        metadata: json!({
            "algorithm": mask::ALGORITHM,
            "width": mask.width,
            "height": mask.height,
            "threshold": mask.threshold,
            "foreground": if mask.foreground_is_dark { "dark" } else { "bright" },
            "regions": mask.regions.len(),
            "ms": started.elapsed().as_millis() as u64,
            "attempt": task.attempt,
        }),
        mask_path,
    })
}

/// The first key of `WEBHOOK_API_KEYS="k1,k2"` in a .dev.vars file.
fn api_key_from_dev_vars(path: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    text.lines()
        .find_map(|line| line.strip_prefix("WEBHOOK_API_KEYS="))
        .map(|v| v.trim().trim_matches('"'))
        .and_then(|v| v.split(',').next())
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .with_context(|| format!("{path} has no WEBHOOK_API_KEYS"))
}
