//! What every `/auth/v1` handler needs from a request: the gateway's API-key check, the JSON
//! body parsed with GoTrue's error, and the caller behind the bearer token.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::rate_limit::{Limiter, Limiters};
use super::sessions;
use super::settings::AuthSettings;
use super::tokens::AccessTokenMinter;
use super::users::{self, User};
use crate::gateway::{self, GatewayError, header_str};
use crate::jwt::JwtError;
use crate::project::SharedProject;

/// Roles GoTrue treats as admins (`GOTRUE_JWT_ADMIN_ROLES` as Supabase sets it).
const ADMIN_ROLES: [&str; 2] = ["service_role", "supabase_admin"];

/// A request that passed the gateway's key check, with the project and auth settings.
pub struct AuthContext {
    pub project: SharedProject,
    pub settings: Arc<AuthSettings>,
    limiters: Limiters,
    headers: HeaderMap,
    peer: Option<SocketAddr>,
}

impl AuthContext {
    /// Counts this request against one of the project's per-client `limit`s (chosen from
    /// [`Limiters`]); over it, GoTrue's `429 over_request_rate_limit`.
    pub fn rate_limit(&self, limit: impl FnOnce(&Limiters) -> &Limiter) -> AuthResult<()> {
        limit(&self.limiters).check(&self.headers, self.peer)
    }

    /// The client's address as GoTrue's `GetIPAddress` reads it: the first address in
    /// `X-Forwarded-For` that parses, else the connection's peer (an IPv4-mapped address as
    /// the IPv4 one, as Go prints it).
    pub fn client_ip(&self) -> IpAddr {
        header_str(&self.headers, "x-forwarded-for")
            .and_then(|v| v.split(',').find_map(|ip| ip.trim().parse::<IpAddr>().ok()))
            .or_else(|| self.peer.map(|peer| peer.ip()))
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .to_canonical()
    }

    /// Counts a mail about to be sent against the project's `email_sent` limit (GoTrue checks
    /// it inside the transaction, so a refused mail leaves no token behind).
    pub fn count_mail(&self) -> AuthResult<()> {
        self.limiters
            .check_email_sent(self.settings.mailer_autoconfirm)
    }

    pub fn minter(&self) -> AccessTokenMinter<'_> {
        AccessTokenMinter {
            signer: &self.project.jwt,
            issuer: format!("{}/auth/v1", self.project.config.api_url()),
            lifetime: self.settings.access_token_lifetime,
        }
    }
}

/// The gateway's refusal, in Kong's `{"message": ...}` shape.
pub struct GatewayRejection(GatewayError);

impl IntoResponse for GatewayRejection {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": self.0.to_string()})),
        )
            .into_response()
    }
}

impl FromRequestParts<SharedProject> for AuthContext {
    type Rejection = GatewayRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        project: &SharedProject,
    ) -> Result<Self, Self::Rejection> {
        if !is_open_route(parts.uri.path()) {
            require_api_key(&parts.headers, project).map_err(GatewayRejection)?;
        }
        let settings = project.auth.clone();
        let limiters = parts
            .extensions
            .get::<Limiters>()
            .cloned()
            .expect("the auth router adds its limiters");
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer);
        Ok(Self {
            project: project.clone(),
            settings,
            limiters,
            headers: parts.headers.clone(),
            peer,
        })
    }
}

/// The routes the CLI's Kong serves without key-auth (`auth-v1-open*`): a mailed link or an
/// OAuth redirect is followed by a browser, which has no API key.
fn is_open_route(path: &str) -> bool {
    let path = path.strip_prefix("/auth/v1").unwrap_or(path);
    matches!(path, "/verify" | "/callback" | "/authorize")
}

/// Like Kong's key-auth in front of GoTrue: only the `apikey` is checked here (a bare project
/// key as bearer also counts); the bearer token itself is GoTrue's business.
fn require_api_key(headers: &HeaderMap, project: &SharedProject) -> Result<(), GatewayError> {
    let key = header_str(headers, "apikey")
        .or_else(|| bearer_token(headers).filter(|t| gateway::is_project_key(t, &project.config)));
    match key {
        None => Err(GatewayError::MissingApiKey),
        Some(key) if gateway::is_project_key(key, &project.config) => Ok(()),
        Some(_) => Err(GatewayError::InvalidApiKey),
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = header_str(headers, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

pub fn user_agent(headers: &HeaderMap) -> Option<&str> {
    header_str(headers, "user-agent")
}

/// Parses a JSON body as GoTrue does: anything unparsable is a 400 `bad_json`.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> AuthResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        AuthError::bad_request(
            "bad_json",
            format!("Could not parse request body as JSON: {e}"),
        )
    })
}

/// GoTrue's wording of why a bearer token failed verification.
fn jwt_failure(e: JwtError) -> AuthError {
    let reason = match e {
        JwtError::Expired => "token has invalid claims: token is expired".to_owned(),
        JwtError::BadSignature => "token signature is invalid: signature is invalid".to_owned(),
        JwtError::Malformed(_) | JwtError::Undecodable => format!("token is malformed: {e}"),
        JwtError::WrongAlgorithm => "token is unverifiable: signing method is invalid".to_owned(),
        JwtError::UnknownKey => {
            "token is unverifiable: error while executing keyfunc: invalid kid".to_owned()
        }
    };
    AuthError::forbidden(
        "bad_jwt",
        format!("invalid JWT: unable to parse or verify signature, {reason}"),
    )
}

fn require_bearer(headers: &HeaderMap) -> AuthResult<&str> {
    bearer_token(headers).ok_or_else(|| {
        AuthError::new(
            StatusCode::UNAUTHORIZED,
            "no_authorization",
            "This endpoint requires a valid Bearer token",
        )
    })
}

/// The signed-in user behind a request, as GoTrue's `requireAuthentication` loads it.
pub struct Caller {
    pub user: User,
    pub session_id: Option<Uuid>,
    pub claims: Value,
}

pub async fn authenticate_user(ctx: &AuthContext, headers: &HeaderMap) -> AuthResult<Caller> {
    let token = require_bearer(headers)?;
    let claims = ctx.project.jwt.verify(token).map_err(jwt_failure)?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AuthError::forbidden("bad_jwt", "invalid claim: missing sub claim"))?;
    let user_id = Uuid::parse_str(sub).map_err(|_| {
        AuthError::bad_request("bad_jwt", "invalid claim: sub claim must be a UUID")
    })?;
    let db = ctx.project.pools.admin.get().await?;
    let user = users::find_by_id(&**db, user_id).await?.ok_or_else(|| {
        AuthError::forbidden(
            "user_not_found",
            "User from sub claim in JWT does not exist",
        )
    })?;
    let session_id = match claims.get("session_id").and_then(Value::as_str) {
        None | Some("") | Some("00000000-0000-0000-0000-000000000000") => None,
        Some(raw) => {
            let id = Uuid::parse_str(raw).map_err(|_| {
                AuthError::forbidden("bad_jwt", "invalid claim: session_id claim must be a UUID")
            })?;
            if !sessions::exists(&**db, id).await? {
                return Err(AuthError::forbidden(
                    "session_not_found",
                    "Session from session_id claim in JWT does not exist",
                ));
            }
            Some(id)
        }
    };
    if user.is_banned() {
        return Err(AuthError::forbidden("user_banned", "User is banned"));
    }
    Ok(Caller {
        user,
        session_id,
        claims,
    })
}

/// GoTrue's `requireAdminCredentials`: a bearer whose role is an admin role. The credential is
/// the one the gateway passes on ([`gateway::effective_token`]): `apikey: sb_secret_…` alone
/// counts as `service_role`, as Supabase's gateway turns it into the service_role key.
pub fn require_admin(ctx: &AuthContext, headers: &HeaderMap) -> AuthResult<()> {
    let token = gateway::effective_token(headers).map_or_else(|| require_bearer(headers), Ok)?;
    let credentials = gateway::credentials_for_token(token, &ctx.project.config, &ctx.project.jwt)
        .map_err(|e| match e {
            GatewayError::BadJwt(e) => jwt_failure(e),
            other => AuthError::forbidden("bad_jwt", other.to_string()),
        })?;
    if ADMIN_ROLES.contains(&credentials.role()) {
        Ok(())
    } else {
        Err(AuthError::forbidden("not_admin", "User not allowed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert("authorization", HeaderValue::from_static("bearer   xyz "));
        assert_eq!(bearer_token(&h), Some("xyz"));
        h.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
        h.insert("authorization", HeaderValue::from_static("Bearer"));
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn bad_json_is_a_400() {
        #[derive(serde::Deserialize, Debug)]
        struct Body {
            #[serde(rename = "email")]
            _email: Option<String>,
        }
        let e = parse_json::<Body>(b"{not json").unwrap_err();
        assert_eq!((e.status.as_u16(), e.error_code), (400, "bad_json"));
        assert!(
            e.message
                .starts_with("Could not parse request body as JSON: ")
        );
        let wrong_type = parse_json::<Body>(br#"{"email": 5}"#).unwrap_err();
        assert_eq!(wrong_type.error_code, "bad_json");
    }

    #[test]
    fn jwt_failures_are_403_bad_jwt() {
        let e = jwt_failure(JwtError::Expired);
        assert_eq!((e.status.as_u16(), e.error_code), (403, "bad_jwt"));
        assert!(e.message.contains("token is expired"));
    }
}
