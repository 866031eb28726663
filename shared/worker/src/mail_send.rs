//! Sending one e-mail through the configured transport, within its time-out, with an answer
//! that says whether trying again can help.

use serde::Deserialize;
use serde_json::json;
use worker::{AbortSignal, Env, Fetch, Headers, Method, Request, RequestInit};

use crate::mail_config::{MailConfig, MailTransport};
use crate::timed_fetch::abort_after;

/// One message to one recipient, in text and HTML.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The same key on every attempt of one send, so a provider that got an attempt whose
    /// answer was lost delivers it once (Resend keeps keys for 24 hours).
    pub idempotency_key: String,
}

/// The transport took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    pub message_id: Option<String>,
}

/// The transport did not take the message: why, and whether a later attempt can succeed
/// (`permanent`: the provider refused the message itself, e.g. its address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFailure {
    pub reason: String,
    pub permanent: bool,
}

/// Sends `mail` as `config` says, giving up (and aborting the request) after `config.timeout`.
pub async fn send_mail(
    env: &Env,
    config: &MailConfig,
    mail: &OutgoingMail,
) -> Result<SentMail, MailFailure> {
    let attempt = abort_after(config.timeout, |signal| async move {
        match &config.transport {
            MailTransport::HttpApi { base_url, api_key } => {
                send_http(base_url, api_key, &config.from, mail, &signal).await
            }
            MailTransport::Cloudflare { binding } => {
                send_cloudflare(env, binding, &config.from, mail).await
            }
        }
    });
    attempt.await.unwrap_or_else(|| {
        Err(retryable(format!(
            "the mail transport did not answer within {} ms",
            config.timeout.as_millis()
        )))
    })
}

/// `POST {base_url}/emails`, Resend's shape: `{from, to: [..], subject, text, html}` with
/// `Authorization: Bearer` and `Idempotency-Key`; `200 {id}`.
async fn send_http(
    base_url: &str,
    api_key: &str,
    from: &str,
    mail: &OutgoingMail,
    signal: &AbortSignal,
) -> Result<SentMail, MailFailure> {
    let body = json!({
        "from": from,
        "to": [mail.to],
        "subject": mail.subject,
        "text": mail.text,
        "html": mail.html,
    });
    let request = build_request(base_url, api_key, mail, &body.to_string())
        .map_err(|e| retryable(format!("the mail request could not be built: {e}")))?;
    let exchange = async {
        let mut response = Fetch::Request(request).send_with_signal(signal).await?;
        let text = response.text().await?;
        Ok::<_, worker::Error>((response.status_code(), text))
    };
    match exchange.await {
        Ok((status, text)) => http_outcome(status, &text),
        Err(e) => Err(retryable(format!(
            "the mail API at {base_url} could not be reached: {e}"
        ))),
    }
}

fn build_request(
    base_url: &str,
    api_key: &str,
    mail: &OutgoingMail,
    body: &str,
) -> worker::Result<Request> {
    let headers = Headers::new();
    headers.set("authorization", &format!("Bearer {api_key}"))?;
    headers.set("content-type", "application/json")?;
    headers.set("idempotency-key", &mail.idempotency_key)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    Request::new_with_init(&format!("{base_url}/emails"), &init)
}

/// What an HTTP mail API's answer means. 400/422: the provider refused this message (a bad
/// address, a field it does not accept): sending it again cannot help. Everything else that is
/// not 2xx (401/403 a key to fix, 409 a concurrent attempt with the same key, 429, 5xx) may pass
/// later.
pub fn http_outcome(status: u16, body: &str) -> Result<SentMail, MailFailure> {
    #[derive(Deserialize)]
    struct Answer {
        id: Option<String>,
        message: Option<String>,
        name: Option<String>,
    }
    let answer: Option<Answer> = serde_json::from_str(body).ok();
    if (200..300).contains(&status) {
        return Ok(SentMail {
            message_id: answer.and_then(|a| a.id),
        });
    }
    let detail = answer
        .map(|a| match (a.name, a.message) {
            (Some(name), Some(message)) => format!("{name}: {message}"),
            (name, message) => message.or(name).unwrap_or_default(),
        })
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| body.chars().take(200).collect());
    Err(MailFailure {
        reason: format!("the mail API answered {status}: {detail}"),
        permanent: matches!(status, 400 | 422),
    })
}

/// Cloudflare's `send_email` binding with a structured message (Email Service). It takes no
/// idempotency key: an attempt whose answer is lost may be delivered twice on retry.
async fn send_cloudflare(
    env: &Env,
    binding: &str,
    from: &str,
    mail: &OutgoingMail,
) -> Result<SentMail, MailFailure> {
    let sender = env
        .send_email(binding)
        .map_err(|e| retryable(format!("the send_email binding {binding} is missing: {e}")))?;
    let message = worker::SendEmailBuilder::new(from, &mail.to, &mail.subject);
    message.set_text(&mail.text);
    message.set_html(&mail.html);
    match sender.send_with_builder(&message).await {
        Ok(result) => Ok(SentMail {
            message_id: Some(result.message_id()),
        }),
        Err(e) => Err(retryable(format!(
            "the send_email binding refused the message: {}",
            String::from(e.message())
        ))),
    }
}

fn retryable(reason: String) -> MailFailure {
    MailFailure {
        reason,
        permanent: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2xx_answer_is_sent_with_its_id() {
        assert_eq!(
            http_outcome(200, r#"{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}"#),
            Ok(SentMail {
                message_id: Some("49a3999c-0ce1-4ea6-ab68-afcd6dc2e794".into())
            })
        );
    }

    #[test]
    fn a_refused_message_is_a_permanent_failure() {
        let failure = http_outcome(
            422,
            r#"{"statusCode":422,"name":"validation_error","message":"Invalid `to` field."}"#,
        )
        .unwrap_err();
        assert!(failure.permanent);
        assert_eq!(
            failure.reason,
            "the mail API answered 422: validation_error: Invalid `to` field."
        );
    }

    #[test]
    fn outages_keys_and_limits_may_pass_later() {
        for status in [401, 403, 409, 429, 500, 502, 503] {
            let failure = http_outcome(status, "<html>down</html>").unwrap_err();
            assert!(!failure.permanent, "{status}");
            assert!(failure.reason.contains(&status.to_string()));
        }
    }
}
