//! The HTTP front of one project on one port, the way Supabase's gateway lays it out.

use axum::Router;
use axum::http::{HeaderName, Method};
use axum::middleware::from_fn;
use axum::routing::any;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::loopback_host::require_loopback_host;
use crate::project::SharedProject;

/// Headers a browser client may read: PostgREST's own exposed list, plus what supabase-js reads
/// from Auth (`x-total-count` and `link` are how `auth.admin.listUsers()` pages).
const EXPOSED_HEADERS: [&str; 13] = [
    "content-encoding",
    "content-location",
    "content-range",
    "content-type",
    "date",
    "location",
    "server",
    "transfer-encoding",
    "range-unit",
    "x-supabase-api-version",
    "preference-applied",
    "x-total-count",
    "link",
];

/// `/rest/v1`, `/auth/v1` and `/realtime/v1` get the gateway's CORS; `/functions/v1/*` is passed
/// through untouched, preflights included, because Edge Functions answer CORS themselves. Every
/// other path is the web app's (`--web-dir`), or a JSON `404`. The mail catcher has a port of its
/// own ([`mail_router`]). Only loopback `Host`s are answered.
pub fn router(project: SharedProject) -> Router {
    let apis = Router::new()
        .nest("/rest/v1", crate::rest::router())
        .nest("/auth/v1", crate::auth::router(&project.auth))
        .nest("/realtime/v1", crate::realtime::router())
        .nest("/storage/v1", crate::storage::router())
        .layer(cors());
    apis.route(
        "/functions/v1/{*path}",
        any(crate::functions_proxy::forward),
    )
    .fallback(crate::web_app::serve)
    .with_state(project)
    .layer(from_fn(require_loopback_host))
}

/// The mail catcher of `project` on its own port, as the Supabase CLI serves Mailpit (54324):
/// its page at `/`, Mailpit's API at `/api/v1/…`, the send API at `/emails`. Only loopback
/// `Host`s are answered.
pub fn mail_router(project: SharedProject) -> Router {
    crate::mail::router()
        .with_state(project)
        .layer(from_fn(require_loopback_host))
}

/// What the Supabase gateway's CORS plugin (Kong's `cors` with its defaults, as the Supabase
/// CLI's kong.yml configures every API) answers: `Access-Control-Allow-Origin: *` and no
/// `Access-Control-Allow-Credentials`, so a browser never sends cookies or HTTP auth cross-site
/// (the APIs read keys and tokens from headers only); any requested header is allowed.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
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
        .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
}
