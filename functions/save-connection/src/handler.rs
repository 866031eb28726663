//! POST (upsert), GET (list) and DELETE of the caller's connections.

use edge_crypto::{Aad, KeyRing, envelope_key_id};
use edge_http::{ApiError, BodyLimit};
use edge_worker::{
    Authenticated, RequestContext, Rest, authenticate, empty_response, internal_error,
    json_response, optional_setting, read_json_body,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{Method, Response};

use crate::connection_input::{ConnectionInput, KeyRole, ValidConnection, key_hint, validate_name};

/// Bodies are a name, a URL and two keys: a few kilobytes at most.
const BODY_LIMIT: BodyLimit = BodyLimit::new(16 * 1024);
/// What a client may see of a connection: never an envelope.
const PUBLIC_COLUMNS: &str =
    "id,name,url,allow_writes,anon_key_hint,service_role_key_hint,key_id,created_at,updated_at";
/// The local-development switch that lets a connection point at `http://127.0.0.1:…`.
const LOOPBACK_SWITCH: &str = "ALLOW_LOOPBACK_TENANTS";

/// A connection as the API shows it.
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

pub async fn route(mut ctx: RequestContext) -> Result<Response, ApiError> {
    let auth = authenticate(&ctx.req, &ctx.config).await?;
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
            let allow_loopback =
                optional_setting(&ctx.env, LOOPBACK_SWITCH).is_some_and(|v| v == "true");
            let connection = input.validate(allow_loopback)?;
            let key_ring = edge_worker::key_ring(&ctx.env)?;
            save(&rest, &auth, &key_ring, connection).await
        }
        Method::Get => list(&rest, &auth).await,
        Method::Delete => {
            let url = ctx
                .req
                .url()
                .map_err(|_| ApiError::bad_request("invalid_url", "Unreadable request URL"))?;
            let name = url
                .query_pairs()
                .find(|(k, _)| k == "name")
                .map(|(_, v)| v.into_owned())
                .ok_or_else(|| {
                    ApiError::bad_request("missing_name", "DELETE needs ?name=<connection name>")
                })?;
            validate_name(&name)?;
            delete(&rest, &name).await
        }
        _ => Err(ApiError::internal()),
    }
}

/// Seals both keys (bound to owner, name and field) and upserts on (owner, name) through the
/// `save_connection` function, called with the caller's token: 201 when created, 200 when an
/// existing connection was replaced.
async fn save(
    rest: &Rest,
    auth: &Authenticated,
    key_ring: &KeyRing,
    c: ValidConnection,
) -> Result<Response, ApiError> {
    let seal = |key: &str, role: KeyRole| {
        let aad = Aad {
            owner: auth.caller.user_id,
            row: &c.name,
            field: role.field(),
        };
        key_ring
            .seal_str(key, aad)
            .map_err(|e| internal_error("sealing a connection key", e))
    };
    let anon_sealed = seal(&c.anon_key, KeyRole::Anon)?;
    let service_sealed = seal(&c.service_role_key, KeyRole::ServiceRole)?;
    let key_id =
        envelope_key_id(&service_sealed).map_err(|e| internal_error("reading a key id", e))?;
    let args = json!({
        "p_name": c.name,
        "p_url": c.url.as_str(),
        "p_anon_key_encrypted": anon_sealed,
        "p_service_role_key_encrypted": service_sealed,
        "p_anon_key_hint": key_hint(&c.anon_key),
        "p_service_role_key_hint": key_hint(&c.service_role_key),
        "p_key_id": key_id,
        "p_allow_writes": c.allow_writes,
    });
    let request = rest.rpc("save_connection", &args);
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

async fn list(rest: &Rest, auth: &Authenticated) -> Result<Response, ApiError> {
    let request = rest
        .from("connections")
        .select(PUBLIC_COLUMNS)
        .eq("user_id", auth.caller.user_id.to_string())
        .order("name.asc");
    let rows: Vec<ConnectionView> = Rest::run(request)
        .await?
        .map_err(|e| e.unexpected("listing connections"))?;
    json_response(200, &rows)
}

async fn delete(rest: &Rest, name: &str) -> Result<Response, ApiError> {
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
