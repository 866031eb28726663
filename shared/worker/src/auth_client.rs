//! Requests from a Worker to the project's Supabase Auth (GoTrue) API.

use std::time::Duration;

use edge_auth::{ApiKeyFormat, api_key_format};
use edge_http::ApiError;
use uuid::Uuid;
use worker::Method;

use crate::config::SupabaseConfig;
use crate::fetch::fetch_text;

/// Asks Auth for its current error body, `{code, message}` with a string `code`.
const AUTH_API_VERSION: &str = "2024-01-01";

/// How long one Auth request may take, answer read whole: Auth's own limit on a request
/// (`GOTRUE_API_MAX_REQUEST_DURATION`, 10 s on Supabase), so a stuck Auth is a 504 no later
/// than Auth would have given up itself.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends `method` to `{SUPABASE_URL}/auth/v1{path}` with `key` and returns Auth's status and
/// body. A legacy JWT key goes as `apikey` and bearer; an opaque `sb_…` key as `apikey` only
/// (it is not a JWT; Supabase's gateway maps it to its role). 502 when Auth cannot be reached,
/// 504 when its whole answer has not arrived within [`AUTH_TIMEOUT`].
pub async fn auth_request(
    config: &SupabaseConfig,
    method: Method,
    path: &str,
    key: &str,
    body: Option<&str>,
    user_agent: Option<&str>,
) -> Result<(u16, String), ApiError> {
    let bearer = format!("Bearer {key}");
    let mut headers = vec![
        ("apikey", key),
        ("x-supabase-api-version", AUTH_API_VERSION),
    ];
    if matches!(
        api_key_format(key),
        Some(ApiKeyFormat::LegacyJwt { .. }) | None
    ) {
        headers.push(("authorization", &bearer));
    }
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    if let Some(ua) = user_agent {
        headers.push(("user-agent", ua));
    }
    let url = format!("{}/auth/v1{path}", config.url);
    fetch_text(method.as_ref(), &url, headers, body, AUTH_TIMEOUT)
        .await
        .map_err(|e| {
            worker::console_error!("Supabase Auth {e}");
            e.into_api_error("Supabase Auth")
        })
}

/// `DELETE /auth/v1/admin/users/{id}` with the service key, to undo an account a failed flow
/// created. An account already gone counts as deleted. The error is for the log only: the
/// request has failed already and answers with its own error.
pub async fn delete_auth_user(config: &SupabaseConfig, id: Uuid) -> Result<(), String> {
    let path = format!("/admin/users/{id}");
    match auth_request(
        config,
        Method::Delete,
        &path,
        &config.service_role_key,
        None,
        None,
    )
    .await
    {
        Ok((200 | 204 | 404, _)) => Ok(()),
        Ok((status, text)) => Err(format!("Supabase Auth answered {status}: {text}")),
        Err(e) => Err(e.message().to_owned()),
    }
}
