//! `/auth/v1`: a Supabase Auth (GoTrue) compatible API over the project's `auth` schema:
//! e-mail/password and anonymous sign-up, password and refresh-token grants, the signed-in
//! user's own account, sign-out, the admin user API, and GoTrue's `settings`/`health`/JWKS;
//! e-mail confirmation, `/verify`, `/resend`, recovery and magic links, mailed to the catcher.

mod admin;
mod admin_links;
mod error;
mod magic_link;
mod mail_token;
mod mailer;
mod mfa;
mod otp;
mod password;
mod pkce;
mod qr;
mod rate_limit;
mod reauthentication;
mod redirect;
mod request;
mod request_timeout;
mod resend;
mod sessions;
mod settings;
mod signup;
mod token;
mod tokens;
mod totp;
mod unserved;
mod user;
mod users;
mod validate;
mod verify;

use axum::extract::State;
use axum::routing::{any, delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::project::SharedProject;
pub use rate_limit::RateLimits;
pub use settings::AuthSettings;

/// `/auth/v1` of a project with settings `auth`; its rate limits live as long as the router.
pub fn router(auth: &AuthSettings) -> Router<SharedProject> {
    let limiters = rate_limit::Limiters::new(&auth.rate_limits);
    let verify_limit =
        axum::middleware::from_fn_with_state(limiters.verify.clone(), rate_limit::limit);
    let token_limit = axum::middleware::from_fn_with_state(
        limiters.token.clone(),
        rate_limit::limit_token_grants,
    );
    Router::new()
        .route("/signup", post(signup::signup))
        .route(
            "/verify",
            get(verify::verify_get)
                .post(verify::verify_post)
                .route_layer(verify_limit),
        )
        .route("/resend", post(resend::resend))
        .route("/recover", post(resend::recover))
        .route("/otp", post(magic_link::otp))
        .route("/reauthenticate", get(reauthentication::reauthenticate))
        .route("/factors", post(mfa::enroll))
        .route("/factors/{factor_id}", delete(mfa::unenroll))
        .route("/factors/{factor_id}/challenge", post(mfa::challenge))
        .route("/factors/{factor_id}/verify", post(mfa::verify))
        .route("/authorize", get(unserved::authorize))
        .route("/sso", any(unserved::saml))
        .route("/sso/{*rest}", any(unserved::saml))
        .route("/admin/sso/{*rest}", any(unserved::saml))
        .route("/passkeys", any(unserved::passkeys))
        .route("/passkeys/{*rest}", any(unserved::passkeys))
        .route("/token", post(token::token).route_layer(token_limit))
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
        .route("/invite", post(admin_links::invite))
        .route("/admin/generate_link", post(admin_links::generate_link))
        .route("/settings", get(settings))
        .route("/health", get(health))
        .route("/.well-known/jwks.json", get(jwks))
        .fallback(unserved::no_route)
        .layer(axum::Extension(limiters))
        .layer(axum::middleware::from_fn_with_state(
            request_timeout::from_env(),
            request_timeout::bound,
        ))
        .layer(axum::middleware::from_fn(error::apply_api_version))
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
async fn settings(State(project): State<SharedProject>) -> Json<Value> {
    let settings = &project.auth;
    let external = unserved::OAUTH_PROVIDERS
        .into_iter()
        .chain(["phone"])
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
        "mailer_autoconfirm": settings.mailer_autoconfirm,
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
