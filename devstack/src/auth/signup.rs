//! `POST /signup`: e-mail + password sign-up, or an anonymous sign-in when neither an e-mail
//! nor a phone is given. E-mail confirmation is off, as `supabase start` has it, so both
//! return a session.

use axum::Json;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::password;
use super::request::{AuthContext, parse_json, user_agent};
use super::sessions::{self, SignInMethod};
use super::users::{self, NewUser};
use super::validate;

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignupParams {
    email: Option<String>,
    phone: Option<String>,
    password: Option<String>,
    data: Option<Map<String, Value>>,
}

pub async fn signup(ctx: AuthContext, headers: HeaderMap, body: Bytes) -> AuthResult<Response> {
    if ctx.settings.signup_disabled {
        return Err(AuthError::unprocessable(
            "signup_disabled",
            "Signups not allowed for this instance",
        ));
    }
    let params: SignupParams = parse_json(&body)?;
    let email = params.email.unwrap_or_default();
    let phone = params.phone.unwrap_or_default();
    let user_metadata = Value::Object(params.data.unwrap_or_default());
    if email.is_empty() && phone.is_empty() {
        return sign_up_anonymously(&ctx, &headers, user_metadata).await;
    }

    let password = params.password.unwrap_or_default();
    if password.is_empty() {
        return Err(AuthError::validation("Signup requires a valid password"));
    }
    password::check_strength(&password, ctx.settings.password_min_length)?;
    if !email.is_empty() && !phone.is_empty() {
        return Err(AuthError::validation(
            "Only an email address or phone number should be provided on signup.",
        ));
    }
    if email.is_empty() {
        return Err(AuthError::bad_request(
            "phone_provider_disabled",
            "Phone signups are disabled",
        ));
    }
    let email = validate::email(&email)?;
    let already_registered =
        || AuthError::unprocessable("user_already_exists", "User already registered");

    let mut db = ctx.project.pools.admin.get().await?;
    if users::find_by_email(&**db, &email).await?.is_some() {
        return Err(already_registered());
    }
    let password_hash = password::hash(&password).await?;
    let user_id = Uuid::new_v4();
    let tx = db.transaction().await?;
    users::insert(
        &*tx,
        &NewUser {
            id: user_id,
            role: users::DEFAULT_ROLE.to_owned(),
            email: Some(email.clone()),
            password_hash: Some(password_hash),
            email_confirmed: true,
            app_metadata: json!({"provider": "email", "providers": ["email"]}),
            // Confirming marks the address verified in the user's metadata too.
            user_metadata: users::merge_metadata(
                &user_metadata,
                json!({"email_verified": true}).as_object().expect("object"),
            ),
            is_anonymous: false,
            banned_until: None,
        },
        already_registered,
    )
    .await?;
    // The identity carries the sign-up data too, under the standard claims.
    let mut identity_data = users::email_identity_data(user_id, &email, false);
    if let (Some(identity), Some(extra)) =
        (identity_data.as_object_mut(), user_metadata.as_object())
    {
        for (k, v) in extra {
            identity.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    users::insert_email_identity(&*tx, user_id, &identity_data).await?;
    let session = sessions::sign_in(
        &tx,
        &ctx.minter(),
        user_id,
        SignInMethod::Password,
        user_agent(&headers),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(session).into_response())
}

/// `signInAnonymously()`: a user with no e-mail, phone or identity, flagged `is_anonymous`.
async fn sign_up_anonymously(
    ctx: &AuthContext,
    headers: &HeaderMap,
    user_metadata: Value,
) -> AuthResult<Response> {
    if !ctx.settings.anonymous_users_enabled {
        return Err(AuthError::unprocessable(
            "anonymous_provider_disabled",
            "Anonymous sign-ins are disabled",
        ));
    }
    let user_id = Uuid::new_v4();
    let mut db = ctx.project.pools.admin.get().await?;
    let tx = db.transaction().await?;
    users::insert(
        &*tx,
        &NewUser {
            id: user_id,
            role: users::DEFAULT_ROLE.to_owned(),
            email: None,
            password_hash: None,
            email_confirmed: false,
            app_metadata: json!({}),
            user_metadata,
            is_anonymous: true,
            banned_until: None,
        },
        || AuthError::internal("Database error creating anonymous user", "duplicate id"),
    )
    .await?;
    let session = sessions::sign_in(
        &tx,
        &ctx.minter(),
        user_id,
        SignInMethod::Anonymous,
        user_agent(headers),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(session).into_response())
}
