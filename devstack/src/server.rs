//! The HTTP front of one project on one port, the way Supabase's gateway lays it out.

use axum::Router;
use axum::http::{HeaderName, Method};
use axum::routing::any;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::project::SharedProject;

/// Headers a browser client must be able to read (supabase-js reads these; `x-total-count` and
/// `link` are how `auth.admin.listUsers()` pages).
const EXPOSED_HEADERS: [&str; 7] = [
    "content-range",
    "content-location",
    "location",
    "x-supabase-api-version",
    "preference-applied",
    "x-total-count",
    "link",
];

/// `/rest/v1` and `/auth/v1` get the gateway's CORS; `/functions/v1/*` is passed through
/// untouched, preflights included, because Edge Functions answer CORS themselves. `/mail` is the
/// mail catcher (no key, as Mailpit's UI and API on their own port). Every other
/// path is the web app's (`--web-dir`), or a JSON `404`.
pub fn router(project: SharedProject) -> Router {
    let apis = Router::new()
        .nest("/rest/v1", crate::rest::router())
        .nest("/auth/v1", crate::auth::router())
        .layer(cors());
    apis.route(
        "/functions/v1/{*path}",
        any(crate::functions_proxy::forward),
    )
    .nest(crate::mail::MAIL_PREFIX, crate::mail::router())
    .route("/mail/", axum::routing::get(crate::mail::inbox))
    .fallback(crate::web_app::serve)
    .with_state(project)
}

/// Any origin, any requested header, as the Supabase gateway's CORS plugin answers.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_credentials(true)
        .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
        .max_age(std::time::Duration::from_secs(3600))
}
