//! The anonymous sign-up that `supabase.auth.signInAnonymously()` makes, through Supabase Auth.

use edge_http::ApiError;
use edge_worker::{SupabaseConfig, auth_request, internal_error};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;
use worker::Method;

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

/// `POST /auth/v1/signup` with the anon key and no e-mail or phone: a new anonymous user and
/// its session. `claim` (from `prepare_guest_signup`) goes in the user's metadata, where the
/// database's trigger spends it to attach the visitor. The visitor's User-Agent is passed on so
/// Auth's session list shows the real device.
pub async fn sign_up_anonymously(
    config: &SupabaseConfig,
    claim: &str,
    user_agent: Option<&str>,
) -> Result<GuestSession, ApiError> {
    let request = json!({ "data": { "guest_signup_claim": claim } }).to_string();
    let (status, body) = auth_request(
        config,
        Method::Post,
        "/signup",
        &config.anon_key,
        Some(&request),
        user_agent,
    )
    .await?;
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
