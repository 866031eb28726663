//! What devstack does not serve answers as Supabase Auth answers when the feature is off: OAuth
//! providers (none is enabled), SAML SSO, passkeys; any other path gets GoTrue's router's own
//! `404 page not found`, never the gateway's.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::{AuthError, AuthResult};
use super::request::AuthContext;

/// The providers GoTrue knows (its `/settings` lists them); devstack enables none of them.
pub const OAUTH_PROVIDERS: [&str; 23] = [
    "apple",
    "azure",
    "bitbucket",
    "discord",
    "facebook",
    "figma",
    "fly",
    "github",
    "gitlab",
    "google",
    "keycloak",
    "kakao",
    "linkedin",
    "linkedin_oidc",
    "notion",
    "spotify",
    "slack",
    "slack_oidc",
    "snapchat",
    "workos",
    "twitch",
    "twitter",
    "zoom",
];

/// `GET /authorize?provider=…` (`signInWithOAuth`, `linkIdentity`'s redirect).
pub async fn authorize(
    _ctx: AuthContext,
    Query(query): Query<HashMap<String, String>>,
) -> AuthResult<Response> {
    let provider = query
        .get("provider")
        .map(|p| p.to_lowercase())
        .unwrap_or_default();
    let reason = if OAUTH_PROVIDERS.contains(&provider.as_str()) {
        "provider is not enabled".to_owned()
    } else {
        format!("Provider {provider} could not be found")
    };
    Err(AuthError::validation(format!(
        "Unsupported provider: {reason}"
    )))
}

/// `/sso`, `/sso/saml/*`, `/admin/sso/*` (`signInWithSSO`, `admin.sso`).
pub async fn saml(_ctx: AuthContext) -> AuthError {
    AuthError::not_found("saml_provider_disabled", "SAML 2.0 is disabled")
}

/// `/passkeys/*`.
pub async fn passkeys(_ctx: AuthContext) -> AuthError {
    AuthError::not_found("passkey_disabled", "Passkeys are disabled")
}

/// Chi's default answer for a path GoTrue has no route for (the API key is still the gateway's).
pub async fn no_route(_ctx: AuthContext, _headers: HeaderMap) -> Response {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
        .into_response()
}
