//! save-connection's flow as plain Rust: edge-worker's `serve` (preflight, method check,
//! request id, CORS, errors) around the function's handler (functions/save-connection's
//! `handler.rs`), the same answers for the same requests and subrequest answers, with every
//! subrequest, the body and the ES256 checks as edge-step needs.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use edge_auth::{Caller, bearer_token};
use edge_crypto::{KeyRing, envelope_key_id};
use edge_http::{ApiError, BodyLimit, Cors, LimitedBody, parse_json_object, request_id};
use edge_step::{Fetched, Got, Need, Subrequest, need};
use edge_tenant::{ConnectionKeyAad, KeyBinding, KeyRole, LOOPBACK_SWITCH, loopback_allowed};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::connection_input::{ConnectionInput, ValidConnection, key_hint, validate_name};
use crate::log::{internal_error, log_error};
use crate::rest::Rest;
use crate::settings::{Config, Settings};

const NAME: &str = "save-connection";
const METHODS: &[&str] = &["GET", "POST", "DELETE"];
const BODY_LIMIT: BodyLimit = BodyLimit::new(16 * 1024);
/// edge-worker's `JWKS_TIMEOUT`, for headers and body together here.
const JWKS_TIMEOUT_MS: u32 = 3_000;

/// The request as the driver reads it: method, URL and the headers the flow looks at.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub method: String,
    pub url: String,
    pub authorization: Option<String>,
    pub content_length: Option<String>,
    pub cf_ray: Option<String>,
    pub x_request_id: Option<String>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

/// Work to finish after the answer (the driver: `ctx.waitUntil`).
pub type After = Pin<Box<dyn Future<Output = ()>>>;

impl Reply {
    fn json(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: Some(body),
        }
    }

    fn error(error: &ApiError) -> Self {
        let mut reply = Self::json(error.status(), error.body());
        reply.set_headers(error.headers().iter().cloned());
        reply
    }

    fn set_headers(&mut self, set: impl IntoIterator<Item = (&'static str, String)>) {
        for (name, value) in set {
            self.headers
                .retain(|(known, _)| !known.eq_ignore_ascii_case(name));
            self.headers.push((name, value));
        }
    }
}

/// What a handler has besides the request.
struct Ctx {
    req: Incoming,
    settings: Rc<Settings>,
    config: Config,
    after: Option<After>,
}

/// One request, answered; with the work to do after the answer, if any.
pub async fn serve(req: Incoming, settings: Rc<Settings>) -> (Reply, Option<After>) {
    let cors = Cors::new(METHODS);
    let id = request_id(req.cf_ray.as_deref(), req.x_request_id.as_deref());
    let method = req.method.clone();
    let path = path_of(&req.url).to_owned();
    let mut after = None;
    let result = if method == "OPTIONS" {
        let preflight = cors.preflight();
        Ok(Reply {
            status: preflight.status,
            headers: vec![("content-type", "text/plain; charset=utf-8".to_owned())],
            body: Some(preflight.body.to_owned()),
        })
    } else if !METHODS.contains(&method.as_str()) {
        Err(ApiError::method_not_allowed(&method, METHODS))
    } else {
        match settings.config() {
            Ok(config) => {
                let mut ctx = Ctx {
                    req,
                    settings,
                    config,
                    after: None,
                };
                let result = route(&mut ctx).await;
                after = ctx.after.take();
                result
            }
            Err(e) => Err(e),
        }
    };
    let mut reply = result.unwrap_or_else(|e| {
        if e.status() >= 500 {
            log_error(format!(
                "{id} {NAME} {method} {path}: {} {}",
                e.code(),
                e.message()
            ));
        }
        Reply::error(&e)
    });
    reply.set_headers(cors.headers());
    reply.set_headers([("x-request-id", id)]);
    (reply, after)
}

#[derive(Debug, Serialize, Deserialize)]
struct ConnectionView {
    id: String,
    name: String,
    url: String,
    allow_writes: bool,
    anon_key_hint: String,
    service_role_key_hint: String,
    key_id: String,
    created_at: String,
    updated_at: String,
}

async fn route(ctx: &mut Ctx) -> Result<Reply, ApiError> {
    let (caller, token) = authenticate(ctx).await?;
    if caller.is_anonymous {
        return Err(ApiError::forbidden(
            "guest_not_allowed",
            "Guest accounts cannot save connections; sign up with an e-mail address first",
        ));
    }
    let rest = Rest::as_caller(&ctx.config, &token);
    match ctx.req.method.as_str() {
        "POST" => {
            let input: ConnectionInput = parse_json_object(&read_body(ctx).await?)?;
            let loopback = ctx.settings.optional(LOOPBACK_SWITCH).map(str::to_owned);
            let connection = input.validate(loopback_allowed(loopback))?;
            let key_ring = ctx.settings.key_ring()?;
            save(
                &Rest::as_service(&ctx.config),
                &caller,
                &key_ring,
                connection,
            )
            .await
        }
        "GET" => list(&rest).await,
        "DELETE" => {
            let name = required_query(&ctx.req, "name", "<connection name>")?;
            validate_name(&name)?;
            delete(&rest, &name).await
        }
        _ => Err(ApiError::internal()),
    }
}

/// The caller from `Authorization: Bearer`, as edge-worker's `authenticate`: a held key is used
/// at once and a due JWKS refresh runs after the answer.
async fn authenticate(ctx: &mut Ctx) -> Result<(Caller, String), ApiError> {
    let token = bearer_token(ctx.req.authorization.as_deref())?.to_owned();
    let verifier = ctx.settings.verifier(&ctx.config)?;
    let fetcher = JwksFetch(format!("{}/auth/v1/.well-known/jwks.json", ctx.config.url));
    let now = crate::now();
    let verified = verifier.verify_holding_keys(&token, now, &fetcher).await?;
    if verified.refresh_due {
        ctx.after = Some(Box::pin(async move {
            verifier.refresh_jwks(now, &fetcher).await;
        }));
    }
    Ok((verified.caller, token))
}

/// `GET <SUPABASE_URL>/auth/v1/.well-known/jwks.json` as a need.
struct JwksFetch(String);

impl edge_auth::JwksFetcher for JwksFetch {
    async fn fetch_jwks(&self) -> Result<String, edge_auth::FetchError> {
        let fetched = need(Need::Fetch(Subrequest {
            method: "GET".to_owned(),
            url: self.0.clone(),
            headers: Vec::new(),
            body: None,
            timeout_ms: JWKS_TIMEOUT_MS,
        }))
        .await;
        match fetched {
            Got::Fetched(Fetched::Answer { status: 200, body }) => Ok(body),
            Got::Fetched(Fetched::Answer { status, .. }) => {
                Err(edge_auth::FetchError(format!("JWKS answered {status}")))
            }
            other => Err(edge_auth::FetchError(format!("JWKS fetch: {other:?}"))),
        }
    }
}

/// The body within [`BODY_LIMIT`], as edge-worker's `read_body`.
async fn read_body(ctx: &Ctx) -> Result<Vec<u8>, ApiError> {
    BODY_LIMIT.check_declared(ctx.req.content_length.as_deref())?;
    match need(Need::Body {
        limit: BODY_LIMIT.bytes(),
    })
    .await
    {
        // The driver stops at the limit; the flow decides all the same (a driver is a caller).
        Got::Body(bytes) => {
            let mut body = LimitedBody::new(BODY_LIMIT);
            body.push(&bytes)?;
            Ok(body.into_bytes())
        }
        Got::BodyTooLarge => Err(ApiError::payload_too_large(BODY_LIMIT.bytes())),
        _ => Err(ApiError::bad_request(
            "unreadable_body",
            "The request body could not be read",
        )),
    }
}

async fn save(
    service: &Rest,
    caller: &Caller,
    key_ring: &KeyRing,
    c: ValidConnection,
) -> Result<Reply, ApiError> {
    let owner = caller.user_id;
    let seal = |key: &str, role: KeyRole| {
        let aad = ConnectionKeyAad::new(KeyBinding::CURRENT, owner, &c.name, &c.url, role);
        key_ring
            .seal_str(key, aad.aad())
            .map_err(|e| internal_error("sealing a connection key", e))
    };
    let anon_sealed = seal(&c.anon_key, KeyRole::Anon)?;
    let service_sealed = seal(&c.service_role_key, KeyRole::ServiceRole)?;
    let key_id =
        envelope_key_id(&service_sealed).map_err(|e| internal_error("reading a key id", e))?;
    let args = json!({
        "p_user_id": owner,
        "p_name": c.name,
        "p_url": c.url.as_str(),
        "p_anon_key_encrypted": anon_sealed,
        "p_service_role_key_encrypted": service_sealed,
        "p_anon_key_hint": key_hint(&c.anon_key),
        "p_service_role_key_hint": key_hint(&c.service_role_key),
        "p_key_id": key_id,
        "p_key_binding": KeyBinding::CURRENT.column(),
        "p_allow_writes": c.allow_writes,
    });
    let saved: Vec<ConnectionView> = Rest::run(service.rpc("save_connection", &args))
        .await?
        .map_err(|e| e.unexpected("saving a connection"))?;
    let saved = saved
        .into_iter()
        .next()
        .ok_or_else(|| internal_error("saving a connection", "no row returned"))?;
    let status = if saved.created_at == saved.updated_at {
        201
    } else {
        200
    };
    json_reply(status, &saved)
}

async fn list(rest: &Rest) -> Result<Reply, ApiError> {
    let rows: Vec<ConnectionView> = Rest::run(rest.rpc("list_connections", &json!({})))
        .await?
        .map_err(|e| e.unexpected("listing connections"))?;
    json_reply(200, &rows)
}

async fn delete(rest: &Rest, name: &str) -> Result<Reply, ApiError> {
    let request = rest
        .from("connections")
        .eq("name", name)
        .delete()
        .select("id");
    let deleted: Vec<serde_json::Value> = Rest::run(request)
        .await?
        .map_err(|e| e.unexpected("deleting a connection"))?;
    if deleted.is_empty() {
        return Err(ApiError::not_found(format!("No connection named {name}")));
    }
    Ok(Reply {
        status: 204,
        headers: Vec::new(),
        body: None,
    })
}

fn json_reply<T: Serialize>(status: u16, value: &T) -> Result<Reply, ApiError> {
    let body =
        serde_json::to_string(value).map_err(|e| internal_error("serialising a response", e))?;
    Ok(Reply::json(status, body))
}

/// edge-worker's `required_query`.
fn required_query(req: &Incoming, name: &str, shape: &str) -> Result<String, ApiError> {
    let url = url::Url::parse(&req.url)
        .map_err(|_| ApiError::bad_request("invalid_url", "Unreadable request URL"))?;
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| {
            ApiError::bad_request(
                format!("missing_{name}"),
                format!("{} needs ?{name}={shape}", req.method),
            )
        })
}

/// edge-worker's `path_of`.
fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let Some(start) = url[after_scheme..].find('/').map(|i| after_scheme + i) else {
        return "/";
    };
    let path = &url[start..];
    &path[..path.find(['?', '#']).unwrap_or(path.len())]
}
