//! `/auth/v1`: a Supabase Auth (GoTrue) compatible API over the project's `auth` schema:
//! e-mail/password and anonymous sign-up, password and refresh-token grants, the signed-in
//! user's own account, sign-out, the admin user API, and GoTrue's `settings`/`health`/JWKS.

mod admin;
mod error;
mod password;
mod request;
mod request_timeout;
mod sessions;
mod settings;
mod signup;
mod token;
mod tokens;
mod user;
mod users;
mod validate;

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use crate::project::SharedProject;
use settings::AuthSettings;

pub fn router() -> Router<SharedProject> {
    Router::new()
        .route("/signup", post(signup::signup))
        .route("/token", post(token::token))
        .route("/user", get(user::get_user).put(user::update_user))
        .route("/logout", post(user::logout))
        .route(
            "/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route(
            "/admin/users/{id}",
            get(admin::get_user)
                .put(admin::update_user)
                .delete(admin::delete_user),
        )
        .route("/settings", get(settings))
        .route("/health", get(health))
        .route("/.well-known/jwks.json", get(jwks))
        .layer(axum::middleware::from_fn_with_state(
            request_timeout::from_env(),
            request_timeout::bound,
        ))
        .layer(axum::middleware::from_fn(error::apply_api_version))
        .layer(Extension(Arc::new(AuthSettings::from_env())))
}

/// GoTrue's `/health`.
async fn health() -> Json<Value> {
    Json(json!({
        "version": concat!("devstack-", env!("CARGO_PKG_VERSION")),
        "name": "GoTrue",
        "description": "GoTrue is a user registration and authentication API",
    }))
}

/// GoTrue's `/settings`: which sign-in methods this server offers.
async fn settings(Extension(settings): Extension<Arc<AuthSettings>>) -> Json<Value> {
    let external = [
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
        "phone",
        "zoom",
    ]
    .into_iter()
    .map(|provider| (provider.to_owned(), Value::Bool(false)))
    .chain([
        ("email".to_owned(), Value::Bool(true)),
        (
            "anonymous_users".to_owned(),
            Value::Bool(settings.anonymous_users_enabled),
        ),
    ])
    .collect::<serde_json::Map<_, _>>();
    Json(json!({
        "external": external,
        "disable_signup": settings.signup_disabled,
        "mailer_autoconfirm": true,
        "phone_autoconfirm": false,
        "sms_provider": "",
        "saml_enabled": false,
        "passkeys_enabled": false,
    }))
}

/// GoTrue's JWKS: the public halves of the project's signing keys (current, standby and
/// previously used), never a private part and never the HS256 secret; empty for a
/// `--legacy-jwt` project. Cached by clients for 10 minutes, as GoTrue says.
async fn jwks(
    State(project): State<SharedProject>,
) -> ([(axum::http::HeaderName, &'static str); 1], Json<Value>) {
    let keys = project
        .jwt
        .key_set()
        .map_or_else(|| json!({"keys": []}), |set| set.jwks());
    (
        [(axum::http::header::CACHE_CONTROL, "public, max-age=600")],
        Json(keys),
    )
}
