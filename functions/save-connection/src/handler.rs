//! POST (upsert), GET (list) and DELETE of the caller's connections.

use edge_crypto::{KeyRing, envelope_key_id};
use edge_http::{ApiError, BodyLimit};
use edge_tenant::{ConnectionKeyAad, KeyBinding, KeyRole, LOOPBACK_SWITCH, loopback_allowed};
use edge_worker::{
    Answer, Authenticated, RequestContext, Rest, authenticate, empty_response, internal_error,
    json_response, optional_setting, read_json_body,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::Method;

use crate::connection_input::{ConnectionInput, ValidConnection, key_hint, validate_name};

/// Bodies are a name, a URL and two keys: a few kilobytes at most.
const BODY_LIMIT: BodyLimit = BodyLimit::new(16 * 1024);

/// A connection as the API shows it (the columns `save_connection` and `list_connections`
/// return: never an envelope).
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

pub async fn route(mut ctx: RequestContext) -> Result<Answer, ApiError> {
    let auth = authenticate(&ctx).await?;
    if auth.caller.is_anonymous {
        return Err(ApiError::forbidden(
            "guest_not_allowed",
            "Guest accounts cannot save connections; sign up with an e-mail address first",
        ));
    }
    let rest = Rest::as_caller(&ctx.config, &auth.access_token);
    match ctx.req.method() {
        Method::Post => {
            let input: ConnectionInput = read_json_body(&mut ctx.req, BODY_LIMIT).await?;
            let connection = input.validate(loopback_allowed(optional_setting(
                &ctx.env,
                LOOPBACK_SWITCH,
            )))?;
            let key_ring = edge_worker::key_ring(&ctx.env)?;
            save(&Rest::as_service(&ctx.config), &auth, &key_ring, connection).await
        }
        Method::Get => list(&rest).await,
        Method::Delete => {
            let name = ctx.req.required_query("name", "<connection name>")?;
            validate_name(&name)?;
            delete(&rest, &name).await
        }
        _ => Err(ApiError::internal()),
    }
}

/// Seals both keys (bound to owner, name, URL and field) and upserts on (owner, name) through
/// the `save_connection` function, which only the service role may execute: the caller's id
/// comes from their verified token, never from the body. 201 when created, 200 when an
/// existing connection was replaced.
async fn save(
    service: &Rest,
    auth: &Authenticated,
    key_ring: &KeyRing,
    c: ValidConnection,
) -> Result<Answer, ApiError> {
    let owner = auth.caller.user_id;
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
    let request = service.rpc("save_connection", &args);
    let saved: Vec<ConnectionView> = Rest::run(request)
        .await?
        .map_err(|e| e.unexpected("saving a connection"))?;
    let saved = saved
        .into_iter()
        .next()
        .ok_or_else(|| internal_error("saving a connection", "no row returned"))?;
    // On insert both timestamps are the same now(); an update moves updated_at.
    let status = if saved.created_at == saved.updated_at {
        201
    } else {
        200
    };
    json_response(status, &saved)
}

/// The caller's connections by name, through `list_connections`, which also refuses a blocked
/// account (403 account_blocked) in the same request.
async fn list(rest: &Rest) -> Result<Answer, ApiError> {
    let request = rest.rpc("list_connections", &json!({}));
    let rows: Vec<ConnectionView> = Rest::run(request)
        .await?
        .map_err(|e| e.unexpected("listing connections"))?;
    json_response(200, &rows)
}

async fn delete(rest: &Rest, name: &str) -> Result<Answer, ApiError> {
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
    empty_response(204)
}
