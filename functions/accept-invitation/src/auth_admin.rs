//! Creating the invitee's confirmed e-mail/password account through Supabase Auth's admin API
//! (the clean-up when linking fails is `edge_worker::delete_auth_user`).

use edge_http::ApiError;
use edge_worker::{SupabaseConfig, auth_request, internal_error};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use worker::Method;

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
    let body = body.to_string();
    let key = &config.service_role_key;
    let (status, text) =
        auth_request(config, Method::Post, "/admin/users", key, Some(&body), None).await?;
    if status == 200 || status == 201 {
        let created: CreatedUser = serde_json::from_str(&text)
            .map_err(|e| internal_error("reading Supabase Auth's new user", e))?;
        return Ok(created.id);
    }
    Err(refusal(status, &text))
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
