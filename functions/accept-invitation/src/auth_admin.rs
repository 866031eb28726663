//! The two calls this function makes to Supabase Auth's admin API with the service key:
//! create a confirmed e-mail/password account, and delete it again when linking fails.

use edge_http::ApiError;
use edge_worker::{SupabaseConfig, internal_error};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use worker::wasm_bindgen::JsValue;
use worker::{Fetch, Headers, Method, Request, RequestInit};

/// Asks Supabase Auth for its current error body, `{code, message}` with a string `code`.
const API_VERSION: &str = "2024-01-01";

#[derive(Deserialize)]
struct CreatedUser {
    id: Uuid,
}

/// `POST /auth/v1/admin/users` with `email_confirm: true`: the invitation proved the address.
/// Returns the new account's id; a taken address is 409 `email_taken`, a password Auth's own
/// (possibly stricter) policy refuses is 400 `weak_password`.
pub async fn create_user(
    config: &SupabaseConfig,
    email: &str,
    password: &str,
) -> Result<Uuid, ApiError> {
    let body = json!({ "email": email, "password": password, "email_confirm": true });
    let url = format!("{}/auth/v1/admin/users", config.url);
    let (status, text) = send(config, Method::Post, &url, Some(body.to_string())).await?;
    if status == 200 || status == 201 {
        let created: CreatedUser = serde_json::from_str(&text)
            .map_err(|e| internal_error("reading Supabase Auth's new user", e))?;
        return Ok(created.id);
    }
    Err(refusal(status, &text))
}

/// `DELETE /auth/v1/admin/users/{id}`. An account that is already gone counts as deleted.
pub async fn delete_user(config: &SupabaseConfig, id: Uuid) -> Result<(), String> {
    let url = format!("{}/auth/v1/admin/users/{id}", config.url);
    match send(config, Method::Delete, &url, None).await {
        Ok((200 | 204 | 404, _)) => Ok(()),
        Ok((status, text)) => Err(format!("Supabase Auth answered {status}: {text}")),
        Err(e) => Err(e.to_string()),
    }
}

async fn send(
    config: &SupabaseConfig,
    method: Method,
    url: &str,
    body: Option<String>,
) -> Result<(u16, String), ApiError> {
    let headers = Headers::new();
    let key = &config.service_role_key;
    for (name, value) in [
        ("apikey", key.clone()),
        ("authorization", format!("Bearer {key}")),
        ("content-type", "application/json".to_owned()),
        ("x-supabase-api-version", API_VERSION.to_owned()),
    ] {
        headers
            .set(name, &value)
            .map_err(|e| internal_error("building a Supabase Auth request", e))?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_body(body.map(|b| JsValue::from_str(&b)));
    let request = Request::new_with_init(url, &init)
        .map_err(|e| internal_error("building a Supabase Auth request", e))?;
    let mut response = Fetch::Request(request).send().await.map_err(|e| {
        worker::console_error!("Supabase Auth unreachable: {e}");
        ApiError::bad_gateway("Supabase Auth is not reachable")
    })?;
    let text = response.text().await.map_err(|e| {
        worker::console_error!("reading Supabase Auth's answer failed: {e}");
        ApiError::bad_gateway("Supabase Auth's answer could not be read")
    })?;
    Ok((response.status_code(), text))
}

/// Supabase Auth's machine code from an error body: `code` in the current format,
/// `error_code` in the legacy one (where `code` is the status number).
fn error_code(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    ["code", "error_code"]
        .iter()
        .find_map(|field| value.get(field).and_then(Value::as_str).map(str::to_owned))
}

/// What Supabase Auth's refusal to create the account means for the client.
fn refusal(status: u16, body: &str) -> ApiError {
    let code = error_code(body);
    match code.as_deref() {
        Some("email_exists" | "user_already_exists") => ApiError::conflict(
            "email_taken",
            "an account with this e-mail address already exists",
        ),
        Some("weak_password") => {
            let message = serde_json::from_str::<Value>(body)
                .ok()
                .and_then(|v| {
                    ["message", "msg"]
                        .iter()
                        .find_map(|f| v.get(f)?.as_str().map(str::to_owned))
                })
                .unwrap_or_else(|| "Supabase Auth considers the password too weak".to_owned());
            ApiError::bad_request("weak_password", message)
        }
        _ => {
            worker::console_error!("Supabase Auth refused to create an account: {status} {code:?}");
            ApiError::bad_gateway("Supabase Auth refused to create the account")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_address_is_a_conflict_in_both_error_formats() {
        for body in [
            r#"{"code":"email_exists","message":"A user with this email address has already been registered"}"#,
            r#"{"code":422,"error_code":"email_exists","msg":"A user with this email address has already been registered"}"#,
            r#"{"code":"user_already_exists","message":"User already registered"}"#,
        ] {
            let err = refusal(422, body);
            assert_eq!((err.status(), err.code()), (409, "email_taken"), "{body}");
        }
    }

    #[test]
    fn auths_own_password_policy_is_passed_on() {
        let err = refusal(
            422,
            r#"{"code":"weak_password","message":"Password should contain at least one digit","weak_password":{"reasons":["characters"]}}"#,
        );
        assert_eq!((err.status(), err.code()), (400, "weak_password"));
        assert_eq!(err.message(), "Password should contain at least one digit");
    }
}
