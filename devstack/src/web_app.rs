//! `--web-dir DIR`: a built single-page app served at `/` of the project's own port, so the app,
//! `/rest/v1`, `/auth/v1` and `/functions/v1` share one origin (no CORS, as an app deployed beside
//! its Supabase gateway). The API prefixes are never served from the folder: paths under them
//! that no API route matched answer a JSON `404`, as the gateway does.
//!
//! - `GET /app-config.json` → `{"supabase_url": null, "anon_key": …, "publishable_key": …}`, the
//!   public settings the app needs (`null`: the page's own origin is the Supabase URL).
//! - a path naming a file in the folder → that file;
//! - any other path whose last segment has no extension (`/register/<token>`, `/settings`) → the
//!   folder's `index.html`, so client-side routes survive a reload; a missing `/x.js` is `404`.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::ProjectConfig;
use crate::project::SharedProject;

/// First path segments that belong to the gateway's APIs, served here or not.
const API_PREFIXES: [&str; 8] = [
    "rest",
    "auth",
    "functions",
    "realtime",
    "storage",
    "graphql",
    "pg",
    "mail",
];

/// The app's settings file, answered by devstack rather than read from the folder.
const CONFIG_PATH: &str = "/app-config.json";

/// The router's fallback: every path no API route matched.
pub async fn serve(State(project): State<SharedProject>, request: Request) -> Response {
    respond(
        project.web_dir.as_deref(),
        &project.config,
        request.method(),
        request.uri().path(),
    )
    .await
}

async fn respond(
    dir: Option<&Path>,
    config: &ProjectConfig,
    method: &Method,
    path: &str,
) -> Response {
    let Some(dir) = dir.filter(|_| !is_api_path(path)) else {
        return json_error(StatusCode::NOT_FOUND, "no Route matched with those values");
    };
    if method != Method::GET && method != Method::HEAD {
        let mut response = json_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let head = method == Method::HEAD;
    let mut response = if path == CONFIG_PATH {
        let body = json!({
            "supabase_url": null,
            "anon_key": config.anon_key,
            "publishable_key": config.publishable_key,
        });
        with_headers(body.to_string().into_bytes(), "application/json")
    } else {
        match resolve(dir, path) {
            Resolved::File(file) => send_file(dir, &file).await,
            Resolved::Index => send_file(dir, &dir.join("index.html")).await,
            Resolved::NotFound => json_error(StatusCode::NOT_FOUND, "not found"),
        }
    };
    if head {
        *response.body_mut() = Body::empty();
    }
    response
}

/// Whether the path's first segment is one of the API prefixes (`/rest`, `/rest/…`).
fn is_api_path(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    API_PREFIXES.contains(&first)
}

#[derive(Debug, PartialEq)]
enum Resolved {
    File(PathBuf),
    Index,
    NotFound,
}

/// Maps a request path onto the folder. Only plain segments are accepted (no `..`, `.`, empty
/// names or backslashes, also when percent-encoded), so nothing outside the folder is named;
/// `send_file` also checks the real path against the folder's, for symbolic links.
fn resolve(dir: &Path, raw_path: &str) -> Resolved {
    let Some(path) = percent_decode(raw_path) else {
        return Resolved::NotFound;
    };
    let relative = path.strip_prefix('/').unwrap_or(&path);
    if relative.is_empty() {
        return Resolved::Index;
    }
    let segments: Vec<&str> = relative.split('/').collect();
    let last = segments.last().copied().unwrap_or("");
    let plain = segments.iter().enumerate().all(|(i, s)| {
        // A trailing slash (`/settings/`) leaves one empty last segment; nothing else may be empty.
        (!s.is_empty() || i == segments.len() - 1)
            && !s.contains('\\')
            && !s.contains('\0')
            && Path::new(s)
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
    });
    if !plain {
        return Resolved::NotFound;
    }
    let candidate = dir.join(relative);
    if candidate.is_file() {
        return Resolved::File(candidate);
    }
    if last.contains('.') {
        Resolved::NotFound
    } else {
        Resolved::Index
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or a result that is not UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn send_file(dir: &Path, file: &Path) -> Response {
    let inside = match (
        tokio::fs::canonicalize(dir).await,
        tokio::fs::canonicalize(file).await,
    ) {
        (Ok(dir), Ok(file)) => file.starts_with(dir),
        _ => false,
    };
    if !inside {
        return json_error(StatusCode::NOT_FOUND, "not found");
    }
    match tokio::fs::read(file).await {
        Ok(bytes) => with_headers(bytes, content_type(file)),
        Err(e) => {
            tracing::warn!(file = %file.display(), "web app file unreadable: {e}");
            json_error(StatusCode::NOT_FOUND, "not found")
        }
    }
}

/// A `200` with the content type, `no-cache` (a rebuilt app shows on reload) and `nosniff`.
fn with_headers(bytes: Vec<u8>, content_type: &'static str) -> Response {
    let length = bytes.len();
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn content_type(file: &Path) -> &'static str {
    let extension = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("devstack-web-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(dir.join("app.js"), "export {}").unwrap();
        std::fs::write(dir.join("assets/logo.svg"), "<svg/>").unwrap();
        dir
    }

    #[test]
    fn api_prefixes_are_never_app_paths() {
        for path in [
            "/rest/v1",
            "/rest/v1/",
            "/rest/v2/x",
            "/auth/v1/nope",
            "/functions/v1",
            "/functions",
            "/realtime/v1/websocket",
            "/storage/v1/object",
        ] {
            assert!(is_api_path(path), "{path}");
        }
        for path in ["/", "/register/abc", "/settings", "/restaurant", "/app.js"] {
            assert!(!is_api_path(path), "{path}");
        }
    }

    #[test]
    fn files_are_served_and_client_routes_fall_back_to_the_index() {
        let dir = app_dir();
        assert_eq!(resolve(&dir, "/"), Resolved::Index);
        assert_eq!(resolve(&dir, "/app.js"), Resolved::File(dir.join("app.js")));
        assert_eq!(
            resolve(&dir, "/assets/logo.svg"),
            Resolved::File(dir.join("assets/logo.svg"))
        );
        assert_eq!(resolve(&dir, "/register/abc_DEF-123"), Resolved::Index);
        assert_eq!(resolve(&dir, "/settings/"), Resolved::Index);
        assert_eq!(resolve(&dir, "/missing.js"), Resolved::NotFound);
        assert_eq!(
            resolve(&dir, "/assets"),
            Resolved::Index,
            "a folder is not a file"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn nothing_outside_the_folder_is_named() {
        let dir = app_dir();
        for path in [
            "/../Cargo.toml",
            "/assets/../../x",
            "/%2e%2e/secret.txt",
            "/%2E%2E%2Fsecret.txt",
            "/assets/..%5c..%5cx.txt",
            "//etc/passwd",
            "/./app.js",
            "/%zz",
            "/%ff.js",
            "/a%00.js",
        ] {
            assert_eq!(resolve(&dir, path), Resolved::NotFound, "{path}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn config() -> ProjectConfig {
        ProjectConfig {
            name: "default".into(),
            api_port: 54321,
            db_name: "postgres".into(),
            jwt_secret: "secret".into(),
            signing_keys_path: None,
            anon_key: "anon.jwt.key".into(),
            service_role_key: "service.jwt.key".into(),
            publishable_key: "sb_publishable_x".into(),
            secret_key: "sb_secret_x".into(),
            mail_api_key: "re_x".into(),
            mail_port: None,
        }
    }

    async fn body_text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn answers_files_the_index_and_the_public_config_only() {
        let dir = app_dir();
        let config = config();
        let get = |path: &'static str| respond(Some(&dir), &config, &Method::GET, path);

        let index = get("/register/tok").await;
        assert_eq!(index.status(), StatusCode::OK);
        assert_eq!(
            index.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(body_text(index).await, "<!doctype html>");

        let script = get("/app.js").await;
        assert_eq!(
            script.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(body_text(script).await, "export {}");

        let settings = get("/app-config.json").await;
        assert_eq!(settings.status(), StatusCode::OK);
        let settings: serde_json::Value = serde_json::from_str(&body_text(settings).await).unwrap();
        assert_eq!(
            settings,
            json!({"supabase_url": null, "anon_key": "anon.jwt.key", "publishable_key": "sb_publishable_x"})
        );
        assert!(
            !settings.to_string().contains("service"),
            "no secret key is public"
        );

        assert_eq!(get("/nope.js").await.status(), StatusCode::NOT_FOUND);
        let api = get("/auth/v1/unknown").await;
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert!(body_text(api).await.contains("no Route matched"));

        let head = respond(Some(&dir), &config, &Method::HEAD, "/app.js").await;
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(head.headers()[header::CONTENT_LENGTH], "9");
        assert_eq!(body_text(head).await, "");

        let post = respond(Some(&dir), &config, &Method::POST, "/settings").await;
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[header::ALLOW], "GET, HEAD");

        let without_app = respond(None, &config, &Method::GET, "/").await;
        assert_eq!(without_app.status(), StatusCode::NOT_FOUND);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_symbolic_link_out_of_the_folder_is_not_followed() {
        let dir = app_dir();
        let outside = dir.with_extension("outside.txt");
        std::fs::write(&outside, "secret").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("leak.txt")).unwrap();
        let response = respond(Some(&dir), &config(), &Method::GET, "/leak.txt").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        std::fs::remove_dir_all(dir).unwrap();
        std::fs::remove_file(outside).unwrap();
    }

    #[test]
    fn percent_escapes_decode() {
        assert_eq!(
            percent_decode("/register/a%2Bb%20c").as_deref(),
            Some("/register/a+b c")
        );
        assert_eq!(percent_decode("/x%4"), None);
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(
            content_type(Path::new("a/index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("app.JS")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("s.css")), "text/css; charset=utf-8");
        assert_eq!(content_type(Path::new("shot.png")), "image/png");
        assert_eq!(content_type(Path::new("blob")), "application/octet-stream");
    }
}
