//! `auth.users` and `auth.identities`: loading, creating and rendering users as GoTrue does.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio_postgres::GenericClient;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::error::{AuthError, AuthResult};

/// GoTrue fills `instance_id` with the nil UUID on every row it writes.
const INSTANCE_ID: Uuid = Uuid::nil();
pub const AUDIENCE: &str = "authenticated";
/// The database role GoTrue gives new users (`GOTRUE_JWT_DEFAULT_GROUP_NAME`).
pub const DEFAULT_ROLE: &str = "authenticated";

/// A user as GoTrue serialises it (the `User` object auth-js returns).
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    pub aud: String,
    pub role: String,
    /// GoTrue writes a missing address as "".
    #[serde(serialize_with = "empty_when_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_confirmed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invited_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "empty_when_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_confirmed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_sent_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_sent_at: Option<DateTime<Utc>>,
    #[serde(rename = "new_email", skip_serializing_if = "Option::is_none")]
    pub email_change: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_change_sent_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub app_metadata: Value,
    pub user_metadata: Value,
    pub identities: Vec<Identity>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banned_until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    pub is_anonymous: bool,
    #[serde(skip)]
    pub encrypted_password: Option<String>,
    /// Second factors (`auth.mfa.listFactors` reads them here); GoTrue omits an empty list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<super::mfa::Factor>,
}

/// One way of signing in that a user has (`email`, `phone`, an OAuth provider).
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub identity_id: Uuid,
    /// GoTrue names the provider's own id `id` in JSON.
    #[serde(rename = "id")]
    pub provider_id: String,
    pub user_id: Uuid,
    pub identity_data: Value,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

fn empty_when_none<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_deref().unwrap_or(""))
}

impl User {
    pub fn is_banned(&self) -> bool {
        self.banned_until.is_some_and(|until| until > Utc::now())
    }

    pub fn is_email_confirmed(&self) -> bool {
        self.email_confirmed_at.is_some()
    }
}

/// Columns read for a [`User`], in the order [`user_from_row`] expects.
const USER_COLUMNS: &str = "id, coalesce(aud, ''), coalesce(role, ''), nullif(email, ''), \
    encrypted_password, email_confirmed_at, invited_at, nullif(phone, ''), phone_confirmed_at, \
    confirmation_sent_at, confirmed_at, recovery_sent_at, nullif(email_change, ''), \
    email_change_sent_at, last_sign_in_at, coalesce(raw_app_meta_data, '{}'), \
    coalesce(raw_user_meta_data, '{}'), coalesce(created_at, now()), coalesce(updated_at, now()), \
    banned_until, deleted_at, is_anonymous";

fn user_from_row(row: &tokio_postgres::Row) -> User {
    User {
        id: row.get(0),
        aud: row.get(1),
        role: row.get(2),
        email: row.get(3),
        encrypted_password: row.get(4),
        email_confirmed_at: row.get(5),
        invited_at: row.get(6),
        phone: row.get(7),
        phone_confirmed_at: row.get(8),
        confirmation_sent_at: row.get(9),
        confirmed_at: row.get(10),
        recovery_sent_at: row.get(11),
        email_change: row.get(12),
        email_change_sent_at: row.get(13),
        last_sign_in_at: row.get(14),
        app_metadata: row.get(15),
        user_metadata: row.get(16),
        created_at: row.get(17),
        updated_at: row.get(18),
        banned_until: row.get(19),
        deleted_at: row.get(20),
        is_anonymous: row.get(21),
        identities: Vec::new(),
        factors: Vec::new(),
    }
}

/// Loads a user with identities; `None` when there is no such user.
pub async fn find_by_id(db: &impl GenericClient, id: Uuid) -> AuthResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM auth.users WHERE id = $1");
    let Some(row) = db.query_opt(&sql, &[&id]).await? else {
        return Ok(None);
    };
    let mut user = user_from_row(&row);
    user.identities = identities_of(db, id).await?;
    user.factors = super::mfa::factors_of(db, id).await?;
    Ok(Some(user))
}

/// Like [`find_by_id`], for handlers that have just written the user.
pub async fn load(db: &impl GenericClient, id: Uuid) -> AuthResult<User> {
    find_by_id(db, id)
        .await?
        .ok_or_else(|| AuthError::internal("Database error loading user", id))
}

/// Finds the (non-SSO) user with this address, compared case-insensitively as GoTrue's index does.
pub async fn find_by_email(db: &impl GenericClient, email: &str) -> AuthResult<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM auth.users \
         WHERE lower(email) = lower($1) AND aud = $2 AND is_sso_user = false"
    );
    let Some(row) = db.query_opt(&sql, &[&email, &AUDIENCE]).await? else {
        return Ok(None);
    };
    let mut user = user_from_row(&row);
    user.identities = identities_of(db, user.id).await?;
    user.factors = super::mfa::factors_of(db, user.id).await?;
    Ok(Some(user))
}

async fn identities_of(db: &impl GenericClient, user_id: Uuid) -> AuthResult<Vec<Identity>> {
    let rows = db
        .query(
            "SELECT id, provider_id, user_id, identity_data, provider, last_sign_in_at, \
                    coalesce(created_at, now()), coalesce(updated_at, now()), email \
             FROM auth.identities WHERE user_id = $1 ORDER BY created_at, id",
            &[&user_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Identity {
            identity_id: row.get(0),
            provider_id: row.get(1),
            user_id: row.get(2),
            identity_data: row.get(3),
            provider: row.get(4),
            last_sign_in_at: row.get(5),
            created_at: row.get(6),
            updated_at: row.get(7),
            email: row.get(8),
        })
        .collect())
}

/// What a new `auth.users` row holds.
pub struct NewUser {
    pub id: Uuid,
    pub role: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub email_confirmed: bool,
    pub app_metadata: Value,
    pub user_metadata: Value,
    pub is_anonymous: bool,
    pub banned_until: Option<DateTime<Utc>>,
}

/// Inserts the user row (which fires the project's triggers on `auth.users`).
/// A concurrent insert of the same address surfaces as `duplicate`.
pub async fn insert(
    db: &impl GenericClient,
    user: &NewUser,
    duplicate: fn() -> AuthError,
) -> AuthResult<()> {
    let result = db
        .execute(
            "INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, \
                 email_confirmed_at, raw_app_meta_data, raw_user_meta_data, is_anonymous, \
                 banned_until, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN now() END, $8, $9, $10, $11, \
                 now(), now())",
            &[
                &INSTANCE_ID,
                &user.id,
                &AUDIENCE,
                &user.role,
                &user.email,
                &user.password_hash.as_deref().unwrap_or(""),
                &user.email_confirmed,
                &user.app_metadata,
                &user.user_metadata,
                &user.is_anonymous,
                &user.banned_until,
            ],
        )
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(duplicate()),
        Err(e) => Err(AuthError::internal("Database error saving new user", e)),
    }
}

/// Creates an e-mail user and its identity: the sign-up `data` goes to the user metadata and,
/// under the standard claims, to the identity; a confirmed address is marked verified in both.
pub async fn insert_email_user(
    db: &impl GenericClient,
    id: Uuid,
    email: &str,
    password_hash: Option<String>,
    confirmed: bool,
    data: &Value,
    duplicate: fn() -> AuthError,
) -> AuthResult<()> {
    let verified = json!({"email_verified": true});
    insert(
        db,
        &NewUser {
            id,
            role: DEFAULT_ROLE.to_owned(),
            email: Some(email.to_owned()),
            password_hash,
            email_confirmed: confirmed,
            app_metadata: json!({"provider": "email", "providers": ["email"]}),
            user_metadata: if confirmed {
                merge_metadata(data, verified.as_object().expect("object"))
            } else {
                data.clone()
            },
            is_anonymous: false,
            banned_until: None,
        },
        duplicate,
    )
    .await?;
    insert_email_identity(
        db,
        id,
        &email_identity_with_data(id, email, confirmed, data),
    )
    .await
}

/// Gives a user (an anonymous one, or one whose e-mail identity is gone) a verified e-mail
/// identity, and re-derives `app_metadata.providers` from its identities.
pub async fn add_verified_email_identity(
    db: &impl GenericClient,
    user_id: Uuid,
    email: &str,
) -> AuthResult<()> {
    insert_email_identity(db, user_id, &email_identity_data(user_id, email, true)).await?;
    let reloaded = load(db, user_id).await?;
    let app_metadata = with_providers(&reloaded.app_metadata, &reloaded.identities);
    db.execute(
        "UPDATE auth.users SET raw_app_meta_data = $2 WHERE id = $1",
        &[&user_id, &app_metadata],
    )
    .await?;
    Ok(())
}

/// An e-mail identity's data carrying the sign-up `data` too, under the standard claims.
pub fn email_identity_with_data(
    user_id: Uuid,
    email: &str,
    email_verified: bool,
    data: &Value,
) -> Value {
    let mut identity_data = email_identity_data(user_id, email, email_verified);
    if let (Some(identity), Some(extra)) = (identity_data.as_object_mut(), data.as_object()) {
        for (k, v) in extra {
            identity.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    identity_data
}

/// The `identity_data` GoTrue stores for an e-mail identity.
pub fn email_identity_data(user_id: Uuid, email: &str, email_verified: bool) -> Value {
    json!({
        "sub": user_id.to_string(),
        "email": email,
        "email_verified": email_verified,
        "phone_verified": false,
    })
}

/// Adds the `email` identity, whose provider id is the user's id.
pub async fn insert_email_identity(
    db: &impl GenericClient,
    user_id: Uuid,
    identity_data: &Value,
) -> AuthResult<()> {
    db.execute(
        "INSERT INTO auth.identities (id, provider_id, user_id, identity_data, provider, \
             last_sign_in_at, created_at, updated_at) \
         VALUES (gen_random_uuid(), $1, $2, $3, 'email', now(), now(), now()) \
         ON CONFLICT (provider_id, provider) DO UPDATE \
             SET identity_data = auth.identities.identity_data || EXCLUDED.identity_data, \
                 updated_at = now()",
        &[&user_id.to_string(), &user_id, identity_data],
    )
    .await?;
    Ok(())
}

/// GoTrue's metadata merge: keys in `updates` replace, a `null` deletes.
pub fn merge_metadata(current: &Value, updates: &Map<String, Value>) -> Value {
    let mut merged = current.as_object().cloned().unwrap_or_default();
    for (key, value) in updates {
        if value.is_null() {
            merged.remove(key);
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    Value::Object(merged)
}

/// `app_metadata` re-derived from the user's identities: `provider` is the first, `providers` all.
pub fn with_providers(app_metadata: &Value, identities: &[Identity]) -> Value {
    let mut providers: Vec<&str> = Vec::new();
    for identity in identities {
        if !providers.contains(&identity.provider.as_str()) {
            providers.push(&identity.provider);
        }
    }
    let mut updates = Map::new();
    updates.insert("providers".into(), json!(providers));
    if let Some(first) = providers.first() {
        updates.insert("provider".into(), json!(first));
    }
    merge_metadata(app_metadata, &updates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_merge_replaces_and_deletes() {
        let current = json!({"a": 1, "b": 2});
        let updates = json!({"b": null, "c": 3});
        assert_eq!(
            merge_metadata(&current, updates.as_object().unwrap()),
            json!({"a": 1, "c": 3})
        );
    }

    #[test]
    fn providers_follow_identities() {
        let identity = |provider: &str| Identity {
            identity_id: Uuid::new_v4(),
            provider_id: "x".into(),
            user_id: Uuid::nil(),
            identity_data: json!({}),
            provider: provider.into(),
            last_sign_in_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            email: None,
        };
        let derived = with_providers(
            &json!({"role_hint": "x"}),
            &[identity("email"), identity("email")],
        );
        assert_eq!(
            derived,
            json!({"role_hint": "x", "provider": "email", "providers": ["email"]})
        );
    }

    #[test]
    fn anonymous_user_json_has_empty_email_and_phone() {
        let user = User {
            id: Uuid::nil(),
            aud: AUDIENCE.into(),
            role: DEFAULT_ROLE.into(),
            email: None,
            email_confirmed_at: None,
            invited_at: None,
            phone: None,
            phone_confirmed_at: None,
            confirmation_sent_at: None,
            confirmed_at: None,
            recovery_sent_at: None,
            email_change: None,
            email_change_sent_at: None,
            last_sign_in_at: None,
            app_metadata: json!({}),
            user_metadata: json!({}),
            identities: vec![],
            created_at: Utc::now(),
            updated_at: Utc::now(),
            banned_until: None,
            deleted_at: None,
            is_anonymous: true,
            encrypted_password: Some("secret-hash".into()),
            factors: vec![],
        };
        let v = serde_json::to_value(&user).unwrap();
        assert_eq!(v["email"], "");
        assert_eq!(v["phone"], "");
        assert_eq!(v["is_anonymous"], true);
        assert!(v.get("encrypted_password").is_none());
        assert!(v.get("email_confirmed_at").is_none());
        assert_eq!(v["identities"], json!([]));
    }
}
