//! Posts a webhook to process-webhook the way the inference backend does, signed per Standard
//! Webhooks (or with an `X-API-Key`), and prints the answer. For trying the function against
//! the local stack:
//!
//! ```sh
//! cargo run -p process-webhook --example send-webhook -- --dev-vars .dev.vars \
//!     --task <segmentation_results id> --status done --mask-url https://masks.example.com/m.png
//! ```
//!
//! `--dev-vars` takes the first secret of `WEBHOOK_SECRETS` from that file; `--secret whsec_…`
//! or `--api-key …` give one directly. `--repeat 3` sends the same delivery (same `webhook-id`,
//! fresh signature) three times, to watch it being charged once. Exits non-zero on a non-2xx.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Parser;
use edge_crypto::WebhookSecret;
use serde_json::{Map, Value, json};

#[derive(Parser)]
#[command(about = "Send a signed segmentation webhook to process-webhook")]
struct Args {
    /// The function's URL.
    #[arg(
        long,
        env = "WEBHOOK_URL",
        default_value = "http://127.0.0.1:54321/functions/v1/process-webhook"
    )]
    url: String,
    /// A `whsec_…` signing secret (one of the function's WEBHOOK_SECRETS).
    #[arg(long, env = "WEBHOOK_SECRET", conflicts_with_all = ["api_key", "dev_vars"])]
    secret: Option<String>,
    /// Authenticate with this X-API-Key (one of WEBHOOK_API_KEYS) instead of a signature.
    #[arg(long, env = "WEBHOOK_API_KEY", conflicts_with = "dev_vars")]
    api_key: Option<String>,
    /// Take the signing secret from this .dev.vars file (the first of WEBHOOK_SECRETS).
    #[arg(long)]
    dev_vars: Option<String>,
    /// The task: a segmentation_results id.
    #[arg(long)]
    task: String,
    /// processing, done or error.
    #[arg(long)]
    status: String,
    #[arg(long)]
    mask_url: Option<String>,
    /// A JSON array.
    #[arg(long)]
    labels: Option<String>,
    /// A JSON object.
    #[arg(long)]
    metadata: Option<String>,
    #[arg(long)]
    credits_used: Option<i64>,
    #[arg(long)]
    error: Option<String>,
    /// The delivery id (`webhook-id`, or `Idempotency-Key` with --api-key); random by default.
    #[arg(long)]
    id: Option<String>,
    /// Send the same delivery this many times.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
}

enum Credential {
    Secret(WebhookSecret),
    ApiKey(String),
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("send-webhook: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let credential = credential(&args)?;
    let body = body(&args)?.to_string();
    let id = args
        .id
        .clone()
        .unwrap_or_else(|| format!("msg_{}", uuid::Uuid::new_v4().simple()));
    let client = reqwest::Client::new();
    let mut all_ok = true;
    for _ in 0..args.repeat {
        let mut request = client
            .post(&args.url)
            .header("content-type", "application/json");
        request = match &credential {
            Credential::Secret(secret) => {
                let timestamp = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_err(|e| e.to_string())?
                    .as_secs() as i64;
                request
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header(
                        "webhook-signature",
                        secret.sign(&id, timestamp, body.as_bytes()),
                    )
            }
            Credential::ApiKey(key) => request
                .header("x-api-key", key)
                .header("idempotency-key", &id),
        };
        let response = request
            .body(body.clone())
            .send()
            .await
            .map_err(|e| format!("POST {} failed: {e}", args.url))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        println!("{id} -> {} {text}", status.as_u16());
        all_ok &= status.is_success();
    }
    Ok(all_ok)
}

fn credential(args: &Args) -> Result<Credential, String> {
    if let Some(key) = &args.api_key {
        return Ok(Credential::ApiKey(key.clone()));
    }
    let secret = match (&args.secret, &args.dev_vars) {
        (Some(secret), _) => secret.clone(),
        (None, Some(path)) => first_secret_in(path)?,
        (None, None) => return Err("give --secret, --api-key or --dev-vars".into()),
    };
    WebhookSecret::parse(&secret)
        .map(Credential::Secret)
        .map_err(|e| e.to_string())
}

/// The first `whsec_…` of the `WEBHOOK_SECRETS="…"` line of a .dev.vars file.
fn first_secret_in(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    text.lines()
        .find_map(|line| line.strip_prefix("WEBHOOK_SECRETS="))
        .map(|value| value.trim().trim_matches('"'))
        .and_then(|list| list.split([',', ' ']).find(|s| !s.is_empty()))
        .map(str::to_owned)
        .ok_or_else(|| format!("{path} has no WEBHOOK_SECRETS line"))
}

fn body(args: &Args) -> Result<Value, String> {
    let mut body = Map::new();
    body.insert("task_id".into(), json!(args.task));
    body.insert("status".into(), json!(args.status));
    let parse = |name: &str, text: &str| {
        serde_json::from_str::<Value>(text).map_err(|e| format!("--{name} is not JSON: {e}"))
    };
    if let Some(url) = &args.mask_url {
        body.insert("mask_url".into(), json!(url));
    }
    if let Some(labels) = &args.labels {
        body.insert("labels".into(), parse("labels", labels)?);
    }
    if let Some(metadata) = &args.metadata {
        body.insert("metadata".into(), parse("metadata", metadata)?);
    }
    if let Some(credits) = args.credits_used {
        body.insert("credits_used".into(), json!(credits));
    }
    if let Some(error) = &args.error {
        body.insert("error".into(), json!(error));
    }
    Ok(Value::Object(body))
}
