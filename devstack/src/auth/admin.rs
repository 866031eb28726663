//! `/admin/users`: user management with the service key (`supabase.auth.admin.*`).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::password;
use super::request::{AuthContext, parse_json, require_admin};
use super::users::{self, NewUser, User};
use super::validate;

/// GoTrue's page size when `per_page` is not given.
const DEFAULT_PER_PAGE: i64 = 50;

#[derive(Deserialize, Default)]
#[serde(default)]
struct AdminUserParams {
    id: Option<String>,
    role: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    password: Option<String>,
    password_hash: Option<String>,
    email_confirm: bool,
    user_metadata: Option<Map<String, Value>>,
    app_metadata: Option<Map<String, Value>>,
    ban_duration: Option<String>,
}

pub fn email_exists() -> AuthError {
    AuthError::unprocessable(
        "email_exists",
        "A user with this email address has already been registered",
    )
}

/// `ban_duration` → `banned_until`; "none" (or zero) lifts the ban.
fn banned_until(raw: &str) -> AuthResult<Option<DateTime<Utc>>> {
    let duration = validate::ban_duration(raw)?;
    if duration.is_zero() {
        return Ok(None);
    }
    let duration = chrono::Duration::from_std(duration)
        .map_err(|_| AuthError::validation("invalid format for ban duration: too long"))?;
    Ok(Some(Utc::now() + duration))
}

fn reject_phone(phone: Option<&str>) -> AuthResult<()> {
    match phone {
        Some(p) if !p.is_empty() => Err(AuthError::bad_request(
            "phone_provider_disabled",
            "Phone users are not supported by devstack",
        )),
        _ => Ok(()),
    }
}

pub async fn create_user(
    ctx: AuthContext,
    headers: HeaderMap,
    body: Bytes,
) -> AuthResult<Response> {
    require_admin(&ctx, &headers)?;
    let params: AdminUserParams = parse_json(&body)?;
    let email = params.email.clone().unwrap_or_default();
    if email.is_empty() && params.phone.as_deref().unwrap_or("").is_empty() {
        return Err(AuthError::validation(
            "Cannot create a user without either an email or phone",
        ));
    }
    reject_phone(params.phone.as_deref())?;
    let email = validate::email(&email)?;
    let password_hash = match (params.password.as_deref(), params.password_hash.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(AuthError::validation(
                "Only a password or a password hash should be provided",
            ));
        }
        (_, Some(hash)) if !is_bcrypt_hash(hash) => {
            return Err(AuthError::validation("Invalid password hash"));
        }
        (_, Some(hash)) => hash.to_owned(),
        (Some(password), None) if !password.is_empty() => {
            if password.len() > password::MAX_PASSWORD_LENGTH {
                return Err(AuthError::validation(
                    "bcrypt: password length exceeds 72 bytes",
                ));
            }
            password::hash(password).await?
        }
        // GoTrue gives a user created without a password an unguessable one.
        _ => password::hash(&crate::config::random_token(48)).await?,
    };
    let id = match params.id.as_deref() {
        None | Some("") => Uuid::new_v4(),
        Some(raw) => {
            let id = Uuid::parse_str(raw)
                .map_err(|_| AuthError::validation("ID must conform to the uuid v4 format"))?;
            if id.is_nil() {
                return Err(AuthError::validation("ID cannot be a nil uuid"));
            }
            id
        }
    };
    let banned_until = match params.ban_duration.as_deref() {
        None | Some("") => None,
        Some(raw) => banned_until(raw)?,
    };
    let mut user_metadata = Value::Object(params.user_metadata.unwrap_or_default());
    if params.email_confirm {
        user_metadata = users::merge_metadata(
            &user_metadata,
            json!({"email_verified": true}).as_object().expect("object"),
        );
    }
    let app_metadata = users::merge_metadata(
        &json!({"provider": "email", "providers": ["email"]}),
        &params.app_metadata.unwrap_or_default(),
    );

    let mut db = ctx.project.pools.admin.get().await?;
    if users::find_by_email(&**db, &email).await?.is_some() {
        return Err(email_exists());
    }
    let tx = db.transaction().await?;
    if users::find_by_id(&*tx, id).await?.is_some() {
        return Err(AuthError::unprocessable(
            "user_already_exists",
            "User already registered",
        ));
    }
    users::insert(
        &*tx,
        &NewUser {
            id,
            role: params
                .role
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| users::DEFAULT_ROLE.to_owned()),
            email: Some(email.clone()),
            password_hash: Some(password_hash),
            email_confirmed: params.email_confirm,
            app_metadata,
            user_metadata,
            is_anonymous: false,
            banned_until,
        },
        email_exists,
    )
    .await?;
    users::insert_email_identity(&*tx, id, &users::email_identity_data(id, &email, false)).await?;
    let user = users::load(&*tx, id).await?;
    tx.commit().await?;
    Ok(Json(user).into_response())
}

/// What GoTrue's bcrypt library accepts as a stored hash.
fn is_bcrypt_hash(hash: &str) -> bool {
    hash.len() == 60 && ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
}

pub async fn list_users(
    ctx: AuthContext,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
) -> AuthResult<Response> {
    require_admin(&ctx, &headers)?;
    let page = pagination_param(&query, "page", 1)?;
    let per_page = pagination_param(&query, "per_page", DEFAULT_PER_PAGE)?;
    let db = ctx.project.pools.admin.get().await?;
    let total: i64 = db
        .query_one(
            "SELECT count(*) FROM auth.users WHERE aud = $1",
            &[&users::AUDIENCE],
        )
        .await?
        .get(0);
    let offset = (page.max(1) - 1).saturating_mul(per_page);
    let ids: Vec<Uuid> = db
        .query(
            "SELECT id FROM auth.users WHERE aud = $1 ORDER BY created_at DESC, id \
             LIMIT $2 OFFSET $3",
            &[&users::AUDIENCE, &per_page, &offset],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut listed: Vec<User> = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(user) = users::find_by_id(&**db, id).await? {
            listed.push(user);
        }
    }
    let mut response = Json(json!({"users": listed, "aud": users::AUDIENCE})).into_response();
    let link = pagination_link(uri.path(), &query, page, per_page, total);
    if let Ok(link) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::LINK, link);
    }
    response
        .headers_mut()
        .insert("x-total-count", HeaderValue::from(total));
    Ok(response)
}

fn pagination_param(query: &HashMap<String, String>, name: &str, default: i64) -> AuthResult<i64> {
    match query.get(name).map(String::as_str) {
        None | Some("") => Ok(default),
        Some(raw) => raw.parse::<u32>().map(i64::from).map_err(|e| {
            AuthError::validation(format!(
                "Bad Pagination Parameters: strconv.ParseUint: parsing \"{raw}\": {e}"
            ))
        }),
    }
}

/// GoTrue's `Link` header: `rel="next"` while pages remain, always `rel="last"`. The path is
/// the one GoTrue sees behind the gateway (`/admin/users`), as on Supabase.
fn pagination_link(
    path: &str,
    query: &HashMap<String, String>,
    page: i64,
    per_page: i64,
    total: i64,
) -> String {
    let total_pages = if per_page == 0 {
        0
    } else {
        (total + per_page - 1) / per_page
    };
    let url_for = |target: i64| {
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k.as_str() != "page")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.push(("page".into(), target.to_string()));
        pairs.sort();
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{path}?{}", query.join("&"))
    };
    let mut link = String::new();
    if total_pages > page {
        link.push_str(&format!("<{}>; rel=\"next\", ", url_for(page + 1)));
    }
    link.push_str(&format!("<{}>; rel=\"last\"", url_for(total_pages)));
    link
}

/// `GoTrue's loadUser`: the path's id must be a UUID of an existing user.
async fn load_target(db: &tokio_postgres::Client, raw_id: &str) -> AuthResult<User> {
    let id = Uuid::parse_str(raw_id)
        .map_err(|_| AuthError::not_found("validation_failed", "user_id must be an UUID"))?;
    users::find_by_id(db, id)
        .await?
        .ok_or_else(|| AuthError::not_found("user_not_found", "User not found"))
}

pub async fn get_user(
    ctx: AuthContext,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AuthResult<Response> {
    require_admin(&ctx, &headers)?;
    let db = ctx.project.pools.admin.get().await?;
    Ok(Json(load_target(&db, &id).await?).into_response())
}

pub async fn update_user(
    ctx: AuthContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> AuthResult<Response> {
    require_admin(&ctx, &headers)?;
    let mut db = ctx.project.pools.admin.get().await?;
    let user = load_target(&db, &id).await?;
    let params: AdminUserParams = parse_json(&body)?;
    reject_phone(params.phone.as_deref())?;
    let new_email = match params.email.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(validate::email(raw)?),
    }
    .filter(|e| user.email.as_deref() != Some(e.as_str()));
    if let Some(email) = &new_email
        && users::find_by_email(&**db, email).await?.is_some()
    {
        return Err(email_exists());
    }
    let new_password_hash = match params.password.as_deref() {
        None => None,
        Some(password) => {
            password::check_strength(password, ctx.settings.password_min_length)?;
            Some(password::hash(password).await?)
        }
    };
    let ban = match params.ban_duration.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(banned_until(raw)?),
    };

    let tx = db.transaction().await?;
    if let Some(role) = params.role.as_deref().filter(|r| !r.is_empty()) {
        tx.execute(
            "UPDATE auth.users SET role = $2 WHERE id = $1",
            &[&user.id, &role],
        )
        .await?;
    }
    if params.email_confirm {
        tx.execute(
            "UPDATE auth.users SET email_confirmed_at = coalesce(email_confirmed_at, now()), \
                 raw_user_meta_data = coalesce(raw_user_meta_data, '{}') || '{\"email_verified\": true}' \
             WHERE id = $1",
            &[&user.id],
        )
        .await?;
    }
    if let Some(hash) = &new_password_hash {
        tx.execute(
            "UPDATE auth.users SET encrypted_password = $2 WHERE id = $1",
            &[&user.id, hash],
        )
        .await?;
    }
    if let Some(email) = &new_email {
        tx.execute(
            "UPDATE auth.users SET email = $2 WHERE id = $1",
            &[&user.id, email],
        )
        .await?;
        let verified = params.email_confirm || user.is_email_confirmed();
        users::insert_email_identity(
            &*tx,
            user.id,
            &users::email_identity_data(user.id, email, verified),
        )
        .await?;
        let reloaded = users::load(&*tx, user.id).await?;
        let app_metadata = users::with_providers(&reloaded.app_metadata, &reloaded.identities);
        tx.execute(
            "UPDATE auth.users SET raw_app_meta_data = $2 WHERE id = $1",
            &[&user.id, &app_metadata],
        )
        .await?;
    }
    if let Some(updates) = &params.user_metadata {
        tx.execute(
            "UPDATE auth.users SET raw_user_meta_data = $2 WHERE id = $1",
            &[
                &user.id,
                &users::merge_metadata(&users::load(&*tx, user.id).await?.user_metadata, updates),
            ],
        )
        .await?;
    }
    if let Some(updates) = &params.app_metadata {
        tx.execute(
            "UPDATE auth.users SET raw_app_meta_data = $2 WHERE id = $1",
            &[
                &user.id,
                &users::merge_metadata(&users::load(&*tx, user.id).await?.app_metadata, updates),
            ],
        )
        .await?;
    }
    if let Some(banned_until) = ban {
        tx.execute(
            "UPDATE auth.users SET banned_until = $2 WHERE id = $1",
            &[&user.id, &banned_until],
        )
        .await?;
    }
    tx.execute(
        "UPDATE auth.users SET updated_at = now() WHERE id = $1",
        &[&user.id],
    )
    .await?;
    let updated = users::load(&*tx, user.id).await?;
    tx.commit().await?;
    Ok(Json(updated).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteParams {
    should_soft_delete: bool,
}

pub async fn delete_user(
    ctx: AuthContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> AuthResult<Response> {
    require_admin(&ctx, &headers)?;
    let mut db = ctx.project.pools.admin.get().await?;
    let user = load_target(&db, &id).await?;
    let params: DeleteParams = if body.is_empty() {
        DeleteParams::default()
    } else {
        parse_json(&body)?
    };
    if params.should_soft_delete {
        // GoTrue keeps the row (for foreign keys) but frees the address and ends every session.
        if user.deleted_at.is_none() {
            let tx = db.transaction().await?;
            soft_delete(&tx, user.id).await?;
            tx.commit().await?;
        }
    } else {
        db.execute("DELETE FROM auth.users WHERE id = $1", &[&user.id])
            .await
            .map_err(|e| AuthError::internal("Database error deleting user", e))?;
    }
    Ok(Json(json!({})).into_response())
}

async fn soft_delete(db: &tokio_postgres::Transaction<'_>, user_id: Uuid) -> AuthResult<()> {
    db.execute(
        "UPDATE auth.users SET deleted_at = now(), email = NULL, phone = NULL, \
             encrypted_password = '', raw_app_meta_data = '{}', raw_user_meta_data = '{}', \
             updated_at = now() WHERE id = $1",
        &[&user_id],
    )
    .await?;
    db.execute(
        "DELETE FROM auth.identities WHERE user_id = $1",
        &[&user_id],
    )
    .await?;
    db.execute("DELETE FROM auth.sessions WHERE user_id = $1", &[&user_id])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_like_gotrue() {
        let query = HashMap::from([("per_page".to_owned(), "2".to_owned())]);
        assert_eq!(
            pagination_link("/admin/users", &query, 1, 2, 5),
            "</admin/users?page=2&per_page=2>; rel=\"next\", </admin/users?page=3&per_page=2>; rel=\"last\""
        );
        assert_eq!(
            pagination_link("/p", &query, 3, 2, 5),
            "</p?page=3&per_page=2>; rel=\"last\""
        );
    }

    #[test]
    fn pagination_params() {
        let q = HashMap::from([("page".to_owned(), "x".to_owned())]);
        assert!(pagination_param(&q, "page", 1).is_err());
        assert_eq!(
            pagination_param(&HashMap::new(), "per_page", 50).unwrap(),
            50
        );
    }

    #[test]
    fn bcrypt_hash_shape() {
        assert!(is_bcrypt_hash(&format!("$2a$10${}", "a".repeat(53))));
        assert!(!is_bcrypt_hash("plaintext"));
    }
}
