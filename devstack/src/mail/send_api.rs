//! `POST /emails` on the mail port: the sending side, in the shape of Resend's API (`POST /emails`
//! with `Authorization: Bearer <key>` and an optional `Idempotency-Key`; `200 {"id"}`; errors
//! `{"statusCode", "name", "message"}`), so the Workers use the same transport code locally as
//! in production. The key must be the project's mail key (`MAIL_API_KEY` in `.dev.vars`): no
//! key is a 401 `missing_api_key`, another key a 403 `invalid_api_key`, as Resend answers.
//! Addresses under the reserved `.invalid` top-level domain (RFC 2606) are refused like
//! malformed ones (422): an address the provider refuses, on demand.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::mail::store::{Address, Message, Stored, Trigger};
use crate::project::SharedProject;

/// Resend's limit on recipients per message.
const MAX_RECIPIENTS: usize = 50;

/// A string or a list of strings, as Resend takes `to`, `cc`, `bcc` and `reply_to`.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(one) => vec![one],
            Self::Many(many) => many,
        }
    }
}

#[derive(Deserialize)]
struct SendEmail {
    from: Option<String>,
    to: Option<OneOrMany>,
    subject: Option<String>,
    html: Option<String>,
    text: Option<String>,
    cc: Option<OneOrMany>,
    bcc: Option<OneOrMany>,
    reply_to: Option<OneOrMany>,
}

pub async fn send(
    State(project): State<SharedProject>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mailbox = &project.mail;
    let chaos = mailbox.chaos();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|key| !key.trim().is_empty());
    let Some(bearer) = bearer else {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing_api_key",
            "Missing API key in the authorization header. Include the following header in your request: Authorization: Bearer YOUR_API_KEY",
        );
    };
    if !same_key(bearer.trim(), &project.config.mail_api_key) {
        return error(
            StatusCode::FORBIDDEN,
            "invalid_api_key",
            "API key is invalid",
        );
    }
    if let Some(refused) = fires(chaos.authentication) {
        return error(
            refused,
            "invalid_api_key",
            "API key is invalid (devstack mail chaos: Authentication)",
        );
    }
    let Ok(request) = serde_json::from_slice::<SendEmail>(&body) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            "The request body is not the JSON object POST /emails takes.",
        );
    };
    let message = match validate(request) {
        Ok(message) => message,
        Err(refusal) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                refusal.name,
                &refusal.message,
            );
        }
    };
    if let Some(refused) = fires(chaos.sender) {
        return error(
            refused,
            "application_error",
            "The sender was refused (devstack mail chaos: Sender)",
        );
    }
    if let Some(refused) = fires(chaos.recipient) {
        return error(
            refused,
            "application_error",
            "A recipient was refused (devstack mail chaos: Recipient)",
        );
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|key| (key, hex(&Sha256::digest(&body))));
    let stored = mailbox.store(message, key);
    if chaos.delay_ms > 0 {
        // The message is kept; only its answer is late, as when a provider's reply is lost.
        tokio::time::sleep(std::time::Duration::from_millis(chaos.delay_ms.into())).await;
    }
    match stored {
        Stored::New(id) | Stored::Replayed(id) => Json(json!({ "id": id })).into_response(),
        Stored::KeyReused => error(
            StatusCode::CONFLICT,
            "invalid_idempotent_request",
            "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
        ),
    }
}

/// Compares keys by their SHA-256, so the time taken says nothing about the key.
fn same_key(presented: &str, expected: &str) -> bool {
    Sha256::digest(presented.as_bytes()) == Sha256::digest(expected.as_bytes())
}

/// Why a message was refused (answered 422 with Resend's error `name`).
#[derive(Debug)]
struct Refusal {
    name: &'static str,
    message: String,
}

fn validate(request: SendEmail) -> Result<Message, Refusal> {
    let missing = |field: &str| Refusal {
        name: "missing_required_field",
        message: format!("Missing `{field}` field."),
    };
    let from = request.from.ok_or_else(|| missing("from"))?;
    let to = request.to.ok_or_else(|| missing("to"))?.into_vec();
    let subject = request.subject.ok_or_else(|| missing("subject"))?;
    if request.html.is_none() && request.text.is_none() {
        return Err(missing("html` or `text"));
    }
    let from = addresses("from", vec![from])?.remove(0);
    let to = addresses("to", to)?;
    let cc = addresses(
        "cc",
        request.cc.map(OneOrMany::into_vec).unwrap_or_default(),
    )?;
    let bcc = addresses(
        "bcc",
        request.bcc.map(OneOrMany::into_vec).unwrap_or_default(),
    )?;
    if to.is_empty() || to.len() + cc.len() + bcc.len() > MAX_RECIPIENTS {
        return Err(Refusal {
            name: "validation_error",
            message: format!("A message needs 1 to {MAX_RECIPIENTS} recipients."),
        });
    }
    Ok(Message {
        id: Uuid::new_v4(),
        from,
        to,
        cc,
        bcc,
        reply_to: addresses(
            "reply_to",
            request
                .reply_to
                .map(OneOrMany::into_vec)
                .unwrap_or_default(),
        )?,
        subject,
        text: request.text.unwrap_or_default(),
        html: request.html.unwrap_or_default(),
        created: chrono::Utc::now(),
        read: false,
    })
}

fn addresses(field: &str, values: Vec<String>) -> Result<Vec<Address>, Refusal> {
    values
        .iter()
        .map(|value| {
            Address::parse(value)
                .filter(|a| !a.address.to_lowercase().ends_with(".invalid"))
                .ok_or_else(|| Refusal {
                    name: "validation_error",
                    message: format!(
                        "Invalid `{field}` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format."
                    ),
                })
        })
        .collect()
}

/// The trigger's status, if it fires this time.
fn fires(trigger: Trigger) -> Option<StatusCode> {
    let status = StatusCode::from_u16(trigger.error_code).ok()?;
    (trigger.probability > 0 && rand::thread_rng().gen_range(0..100) < trigger.probability)
        .then_some(status)
}

fn error(status: StatusCode, name: &str, message: &str) -> Response {
    let body: Value = json!({ "statusCode": status.as_u16(), "name": name, "message": message });
    (status, Json(body)).into_response()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(to: &str) -> SendEmail {
        SendEmail {
            from: Some("Invites <invites@example.com>".into()),
            to: Some(OneOrMany::One(to.into())),
            subject: Some("Hi".into()),
            html: None,
            text: Some("Hello".into()),
            cc: None,
            bcc: None,
            reply_to: None,
        }
    }

    #[test]
    fn a_plain_message_is_accepted() {
        let message = validate(request("ada@example.com")).unwrap();
        assert_eq!(message.to[0].address, "ada@example.com");
        assert_eq!(message.from.name, "Invites");
    }

    #[test]
    fn malformed_and_reserved_invalid_addresses_are_refused() {
        for to in ["ada", "ada@example.invalid", "Ada <ada@mail.INVALID>"] {
            let refusal = validate(request(to)).expect_err(to);
            assert_eq!(refusal.name, "validation_error", "{to}");
        }
    }

    #[test]
    fn a_trigger_fires_by_its_probability() {
        let always = Trigger {
            error_code: 503,
            probability: 100,
        };
        assert_eq!(fires(always), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(
            fires(Trigger {
                error_code: 503,
                probability: 0
            }),
            None
        );
        assert_eq!(fires(Trigger::default()), None);
    }
}
