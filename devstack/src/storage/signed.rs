//! Signed URLs, as Storage makes them: an HS256 JWT signed with the project's JWT secret,
//! naming the object (`url`: `bucket/name`), the action (`scope`: `download` or `upload`) and
//! its expiry. Signing checks the caller's rights (RLS): reading the object for a download
//! URL, writing it for an upload URL. Using one needs no other credential and runs as the
//! superuser; an upload URL uploads as its signer (the object's owner) and, unless signed with
//! `x-upsert`, only once: the object then exists, and a second upload is Storage's `Duplicate`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::caller::Caller;
use super::download;
use super::error::{StorageError, StorageResult};
use super::json_body::JsonBody;
use super::names;
use super::upload::{self, Target};
use crate::gateway::header_str;
use crate::project::SharedProject;

/// How long a signed upload URL lasts (storage-js: "valid for 2 hours").
const UPLOAD_URL_LIFETIME_SECS: i64 = 2 * 3600;

const SCOPE_DOWNLOAD: &str = "download";
const SCOPE_UPLOAD: &str = "upload";

fn sign(project: &SharedProject, mut claims: Value, expires_in: i64) -> StorageResult<String> {
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + expires_in);
    project
        .jwt
        .sign_with_secret(&claims)
        .map_err(|e| StorageError::internal("signing a URL", e))
}

/// The token's claims, once it verifies, is scoped for `scope` and names this object.
fn verify(
    project: &SharedProject,
    token: &str,
    bucket: &str,
    name: &str,
    scope: &str,
) -> StorageResult<Value> {
    let claims = project
        .jwt
        .verify(token)
        .map_err(|e| StorageError::invalid_jwt(&e))?;
    if claims.get("scope").and_then(Value::as_str) != Some(scope) {
        return Err(StorageError::invalid_signature(&format!(
            "Token is not scoped for {scope}"
        )));
    }
    let url = format!("{bucket}/{name}");
    if claims.get("url").and_then(Value::as_str) != Some(url.as_str()) {
        return Err(StorageError::invalid_signature("Invalid signature"));
    }
    Ok(claims)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignBody {
    expires_in: Option<Value>,
    paths: Option<Vec<String>>,
}

/// `expiresIn`: a whole number of seconds, at least 1.
fn expires_in(body: &SignBody) -> StorageResult<i64> {
    let value = body.expires_in.as_ref().ok_or_else(|| {
        StorageError::invalid_request("body must have required property 'expiresIn'")
    })?;
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|f| f.floor() as i64))
        .filter(|s| *s >= 1)
        .ok_or_else(|| StorageError::invalid_request("expiresIn must be a positive number"))
}

pub async fn sign_one(
    State(project): State<SharedProject>,
    Path((bucket, name)): Path<(String, String)>,
    caller: Caller,
    JsonBody(body): JsonBody<SignBody>,
) -> StorageResult<Json<Value>> {
    let expires = expires_in(&body)?;
    download::find_object(&project, &caller, &bucket, &name).await?;
    let url = format!("{bucket}/{name}");
    let token = sign(
        &project,
        json!({"url": url, "scope": SCOPE_DOWNLOAD}),
        expires,
    )?;
    Ok(Json(
        json!({"signedURL": format!("/object/sign/{url}?token={token}")}),
    ))
}

/// Signs each path the caller can read; the others get Storage's error entry.
pub async fn sign_many(
    State(project): State<SharedProject>,
    Path(bucket): Path<String>,
    caller: Caller,
    JsonBody(body): JsonBody<SignBody>,
) -> StorageResult<Json<Value>> {
    let expires = expires_in(&body)?;
    let paths = body
        .paths
        .ok_or_else(|| StorageError::invalid_request("body must have required property 'paths'"))?;
    let mut client = caller.connect(&project).await?;
    let tx = caller.begin(&mut client).await?;
    let visible: Vec<String> = tx
        .query(
            "SELECT name FROM storage.objects WHERE bucket_id = $1 AND name = ANY($2)",
            &[&bucket, &paths],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.commit().await?;
    let mut signed = Vec::with_capacity(paths.len());
    for path in paths {
        let entry = if visible.contains(&path) {
            let url = format!("{bucket}/{path}");
            let token = sign(
                &project,
                json!({"url": url, "scope": SCOPE_DOWNLOAD}),
                expires,
            )?;
            json!({"error": null, "path": path, "signedURL": format!("/object/sign/{url}?token={token}")})
        } else {
            json!({
                "error": "Either the object does not exist or you do not have access to it",
                "path": path,
                "signedURL": null,
            })
        };
        signed.push(entry);
    }
    Ok(Json(Value::Array(signed)))
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn required_token(query: &TokenQuery) -> StorageResult<&str> {
    query.token.as_deref().ok_or_else(|| {
        StorageError::invalid_request("querystring must have required property 'token'")
    })
}

pub async fn download(
    State(project): State<SharedProject>,
    Path((bucket, name)): Path<(String, String)>,
    Query(query): Query<TokenQuery>,
    asked: download::AssetRequest,
) -> StorageResult<Response> {
    verify(
        &project,
        required_token(&query)?,
        &bucket,
        &name,
        SCOPE_DOWNLOAD,
    )?;
    let object = download::find_object(&project, &Caller::super_user(None), &bucket, &name).await?;
    asked.serve(&project, &object).await
}

/// Checks that the caller may write the object (RLS, as an upload would), then signs.
pub async fn sign_upload(
    State(project): State<SharedProject>,
    Path((bucket, name)): Path<(String, String)>,
    caller: Caller,
    headers: HeaderMap,
) -> StorageResult<Json<Value>> {
    names::object_name(&name)?;
    let upsert = header_str(&headers, "x-upsert") == Some("true");
    let target = Target {
        bucket: &bucket,
        name: &name,
        upsert,
        owner: caller.owner.clone(),
    };
    let row = upload::ObjectRow {
        metadata: json!({
            "mimetype": header_str(&headers, "content-type"),
            "contentLength": header_str(&headers, "content-length").and_then(|l| l.parse::<u64>().ok()),
        }),
        user_metadata: None,
        version: String::new(),
    };
    upload::may_write(&project, &caller, &target, &row).await?;
    let url = format!("{bucket}/{name}");
    let token = sign(
        &project,
        json!({"owner": caller.owner, "url": url, "upsert": upsert, "scope": SCOPE_UPLOAD}),
        UPLOAD_URL_LIFETIME_SECS,
    )?;
    Ok(Json(json!({
        "url": format!("/object/upload/sign/{url}?token={token}"),
        "token": token,
    })))
}

pub async fn upload(
    State(project): State<SharedProject>,
    Path((bucket, name)): Path<(String, String)>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    body: Body,
) -> StorageResult<Json<Value>> {
    let checked = required_token(&query)
        .and_then(|token| verify(&project, token, &bucket, &name, SCOPE_UPLOAD))
        .and_then(|claims| names::object_name(&name).map(|_| claims));
    let claims = match checked {
        Ok(claims) => claims,
        Err(e) => return upload::refuse(body, e).await,
    };
    let owner = claims
        .get("owner")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let target = Target {
        bucket: &bucket,
        name: &name,
        upsert: claims.get("upsert").and_then(Value::as_bool) == Some(true),
        owner: owner.clone(),
    };
    upload::upload(
        &project,
        &Caller::super_user(owner),
        &target,
        &headers,
        body,
    )
    .await?;
    Ok(Json(json!({"Key": format!("{bucket}/{name}")})))
}
