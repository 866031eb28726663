//! The two Supabase Auth (GoTrue) calls guest-signup makes: the anonymous sign-up that
//! `supabase.auth.signInAnonymously()` makes, and the admin delete that removes an account whose
//! visitor could not be recorded.

use edge_auth::{ApiKeyFormat, api_key_format};
use edge_http::ApiError;
use edge_worker::{SupabaseConfig, internal_error};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use worker::{Fetch, Headers, Method, Request, RequestInit, Response};

/// The session Auth returns for a new anonymous user (the fields the API passes on).
#[derive(Debug, Deserialize, Serialize)]
pub struct GuestSession {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub token_type: String,
    pub user: GuestUser,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct GuestUser {
    pub id: Uuid,
}

/// `POST /auth/v1/signup` with `{}` and the anon key: a new anonymous user and its session.
/// The visitor's User-Agent is passed on so Auth's session list shows the real device.
pub async fn sign_up_anonymously(
    config: &SupabaseConfig,
    user_agent: Option<&str>,
) -> Result<GuestSession, ApiError> {
    let url = format!("{}/auth/v1/signup", config.url);
    let mut response = send(Method::Post, &url, &config.anon_key, Some("{}"), user_agent)
        .await
        .map_err(|e| {
            worker::console_error!("Auth sign-up unreachable: {e}");
            ApiError::bad_gateway("Supabase Auth is not reachable")
        })?;
    let status = response.status_code();
    let body = response.text().await.unwrap_or_default();
    match status {
        200 | 201 => serde_json::from_str(&body)
            .map_err(|e| internal_error("reading Auth's anonymous session", e)),
        // Auth's own limit on anonymous sign-ups (per project, or per the Worker's address).
        429 => Err(ApiError::too_many_requests(60)),
        // Anonymous sign-ins are switched off in the project's Auth settings.
        422 if body.contains("anonymous_provider_disabled") => Err(ApiError::new(
            503,
            "guest_signup_disabled",
            "Guest sessions are not enabled for this project",
        )),
        _ => {
            worker::console_error!("Auth sign-up answered {status}: {body}");
            Err(ApiError::bad_gateway(
                "Supabase Auth refused to create a guest",
            ))
        }
    }
}

/// `DELETE /auth/v1/admin/users/{id}` with the service key. Errors are for the log only: the
/// request has failed already and answers with its own error.
pub async fn delete_user(config: &SupabaseConfig, user_id: Uuid) -> Result<(), String> {
    let url = format!("{}/auth/v1/admin/users/{user_id}", config.url);
    let response = send(Method::Delete, &url, &config.service_role_key, None, None)
        .await
        .map_err(|e| e.to_string())?;
    match response.status_code() {
        200 | 204 | 404 => Ok(()),
        other => Err(format!("Auth answered {other}")),
    }
}

/// Legacy JWT keys go as `apikey` and bearer; the opaque `sb_…` keys as `apikey` only (they
/// are not JWTs, and Supabase's gateway maps them to the role itself).
async fn send(
    method: Method,
    url: &str,
    key: &str,
    body: Option<&str>,
    user_agent: Option<&str>,
) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("apikey", key)?;
    if matches!(
        api_key_format(key),
        Some(ApiKeyFormat::LegacyJwt { .. }) | None
    ) {
        headers.set("authorization", &format!("Bearer {key}"))?;
    }
    if body.is_some() {
        headers.set("content-type", "application/json")?;
    }
    if let Some(ua) = user_agent {
        headers.set("user-agent", ua)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_body(body.map(Into::into));
    Fetch::Request(Request::new_with_init(url, &init)?)
        .send()
        .await
}
