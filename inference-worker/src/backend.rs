//! process-webhook's contract for an inference backend, as HTTP calls: `claim`, `extend`, the
//! mask upload to the claim's signed URL and the webhook report. Every call carries the
//! backend's `X-API-Key` (one of the function's `WEBHOOK_API_KEYS`).

use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// A task handed out by `POST /process-webhook/claim`.
#[derive(Debug, Clone, Deserialize)]
pub struct ClaimedTask {
    pub task_id: Uuid,
    pub text_prompt: Option<String>,
    pub image_url: Option<String>,
    pub mask_upload_url: Option<String>,
    pub mask_path: String,
    pub lease_expires_at: String,
    pub attempt: u32,
}

#[derive(Deserialize)]
struct Claimed {
    tasks: Vec<ClaimedTask>,
}

/// What the backend reports for a task (`POST /process-webhook`).
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Report {
    Done {
        task_id: Uuid,
        #[serde(skip_serializing_if = "Option::is_none")]
        mask_path: Option<String>,
        labels: Value,
        metadata: Value,
    },
    Error {
        task_id: Uuid,
        error: String,
        metadata: Value,
    },
}

/// How a lease extension went.
#[derive(Debug, PartialEq, Eq)]
pub enum Extended {
    Yes,
    /// 409: the task is no longer this attempt's (expired, cancelled, finished): drop the work.
    LeaseLost,
}

pub struct Backend {
    http: reqwest::Client,
    functions_url: String,
    api_key: String,
}

/// The longest image downloaded (the `images` bucket takes 10 MiB).
const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

impl Backend {
    pub fn new(functions_url: &str, api_key: String) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            http,
            functions_url: functions_url.trim_end_matches('/').to_owned(),
            api_key,
        })
    }

    fn post(&self, route: &str, body: &Value, timeout: Duration) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/process-webhook{route}", self.functions_url))
            .header("x-api-key", &self.api_key)
            .header("content-type", "application/json")
            .timeout(timeout)
            .body(body.to_string())
    }

    /// Long-polls for up to `max` tasks, leased for `lease_seconds`.
    pub async fn claim(
        &self,
        max: u32,
        lease_seconds: u32,
        wait_seconds: u32,
    ) -> anyhow::Result<Vec<ClaimedTask>> {
        let body =
            json!({ "max": max, "lease_seconds": lease_seconds, "wait_seconds": wait_seconds });
        let res = self
            .post(
                "/claim",
                &body,
                Duration::from_secs(u64::from(wait_seconds) + 30),
            )
            .send()
            .await
            .context("claim")?;
        let status = res.status();
        let text = res.text().await.context("reading the claim")?;
        if !status.is_success() {
            bail!("claim answered {status}: {text}");
        }
        Ok(serde_json::from_str::<Claimed>(&text)
            .context("the claim's answer")?
            .tasks)
    }

    pub async fn extend(&self, task: &ClaimedTask, lease_seconds: u32) -> anyhow::Result<Extended> {
        let body = json!({ "task_id": task.task_id, "lease_seconds": lease_seconds, "attempt": task.attempt });
        let res = self
            .post("/extend", &body, Duration::from_secs(30))
            .send()
            .await
            .context("extend")?;
        match res.status().as_u16() {
            200 => Ok(Extended::Yes),
            404 | 409 => Ok(Extended::LeaseLost),
            status => bail!(
                "extend answered {status}: {}",
                res.text().await.unwrap_or_default()
            ),
        }
    }

    /// The task's image, at most [`MAX_IMAGE_BYTES`]; `Ok(Err(why))` when the image itself is
    /// the problem (a 4xx from its URL, too large), which another attempt would not change.
    pub async fn download(&self, url: &str) -> anyhow::Result<Result<Vec<u8>, String>> {
        let mut res = self
            .http
            .get(url)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .context("downloading the image")?;
        if res.status().is_client_error() {
            return Ok(Err(format!(
                "the image could not be downloaded: its URL answered {}",
                res.status()
            )));
        }
        if !res.status().is_success() {
            bail!("the image's URL answered {}", res.status());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = res.chunk().await.context("reading the image")? {
            if bytes.len() + chunk.len() > MAX_IMAGE_BYTES {
                return Ok(Err(format!(
                    "the image is larger than {MAX_IMAGE_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Ok(bytes))
    }

    /// Uploads the mask PNG to the claim's signed upload URL (Storage's `uploadToSignedUrl`:
    /// `PUT` with the bytes as the body).
    pub async fn upload_mask(&self, url: &str, png: Vec<u8>) -> anyhow::Result<()> {
        let res = self
            .http
            .put(url)
            .header("content-type", "image/png")
            .header("x-upsert", "true")
            .timeout(Duration::from_secs(120))
            .body(png)
            .send()
            .await
            .context("uploading the mask")?;
        if !res.status().is_success() {
            bail!(
                "the mask upload answered {}: {}",
                res.status(),
                res.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Reports a result; retried on network errors and 5xx with the same `Idempotency-Key`, so
    /// it is applied (and charged) once. A 409 (cancelled meanwhile, already finished) is final.
    pub async fn report(&self, report: &Report, idempotency_key: &str) -> anyhow::Result<Value> {
        let body = serde_json::to_value(report)?;
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=6 {
            let sent = self
                .post("", &body, Duration::from_secs(30))
                .header("idempotency-key", idempotency_key)
                .send()
                .await;
            match sent {
                Ok(res) if res.status().is_server_error() && attempt < 6 => {
                    tracing::warn!(status = %res.status(), "the report failed; retrying");
                }
                Ok(res) => {
                    let status = res.status();
                    let text = res.text().await.unwrap_or_default();
                    if !status.is_success() {
                        bail!("the report answered {status}: {text}");
                    }
                    return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
                }
                Err(e) if attempt < 6 => {
                    tracing::warn!(error = %e, "the report was not sent; retrying")
                }
                Err(e) => return Err(e).context("report"),
            }
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        unreachable!("the last attempt returns")
    }
}
