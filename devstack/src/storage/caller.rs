//! Who a Storage request runs as. Storage verifies the bearer JWT (or the key standing in for
//! it) and runs its metadata queries in a transaction as the token's role with its claims set
//! (`role`, `request.jwt.claims` and the legacy `request.jwt.claim.*`), as PostgREST does, so
//! that `auth.uid()` and RLS see the caller. Public and signed-URL routes run as the superuser,
//! as the real server's do.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use deadpool_postgres::{Object, Transaction};
use serde_json::Value;

use super::error::{StorageError, StorageResult};
use crate::gateway::{self, GatewayError};
use crate::project::SharedProject;

pub struct Caller {
    /// The verified claims, or `None` for the superuser.
    claims: Option<Value>,
    /// The token's `sub`: who owns what this caller uploads.
    pub owner: Option<String>,
}

impl Caller {
    /// The caller a request's credentials stand for: `Authorization: Bearer` (or the `apikey`
    /// when there is no bearer or it is an opaque key), verified with the project's keys.
    pub fn from_headers(headers: &HeaderMap, project: &SharedProject) -> StorageResult<Self> {
        let token = gateway::effective_token(headers).unwrap_or_default();
        if token.is_empty() {
            return Err(StorageError::access_denied("jwt must be provided"));
        }
        let auth =
            gateway::credentials_for_token(token, &project.config, &project.jwt).map_err(|e| {
                match e {
                    GatewayError::BadJwt(jwt) => StorageError::bad_jwt(&jwt),
                    other => StorageError::access_denied(other.to_string()),
                }
            })?;
        let owner = auth
            .claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        Ok(Self {
            claims: Some(auth.claims),
            owner,
        })
    }

    /// The database superuser, acting for `owner` (a signed upload URL's signer).
    pub fn super_user(owner: Option<String>) -> Self {
        Self {
            claims: None,
            owner,
        }
    }

    pub fn role(&self) -> &str {
        match &self.claims {
            Some(claims) => claims.get("role").and_then(Value::as_str).unwrap_or("anon"),
            None => "postgres",
        }
    }

    /// Refuses every role but `service_role` (and the superuser), as Storage's role check on
    /// its admin-only routes does.
    pub fn require_service_role(&self) -> StorageResult<()> {
        match self.role() {
            "service_role" | "postgres" => Ok(()),
            _ => Err(StorageError::role_refused("Access denied: Invalid role")),
        }
    }

    /// A connection to run this caller's queries on: the `authenticator` pool (which may become
    /// the token's role) for a token, the admin pool for the superuser.
    pub async fn connect(&self, project: &SharedProject) -> StorageResult<Object> {
        let pool = match self.claims {
            Some(_) => &project.pools.api,
            None => &project.pools.admin,
        };
        pool.get()
            .await
            .map_err(|e| StorageError::internal("database pool", e))
    }

    /// Starts a transaction as this caller.
    pub async fn begin<'a>(&self, client: &'a mut Object) -> StorageResult<Transaction<'a>> {
        let tx = client.transaction().await?;
        if let Some(claims) = &self.claims {
            let mut settings = vec![
                ("role".to_owned(), self.role().to_owned()),
                ("request.jwt.claims".to_owned(), claims.to_string()),
            ];
            settings.extend(crate::rest::legacy_claim_settings(claims));
            crate::rest::set_local(&tx, &settings).await?;
        }
        Ok(tx)
    }
}

/// A handler's caller, from the request's headers.
impl FromRequestParts<SharedProject> for Caller {
    type Rejection = StorageError;

    async fn from_request_parts(
        parts: &mut Parts,
        project: &SharedProject,
    ) -> Result<Self, Self::Rejection> {
        Self::from_headers(&parts.headers, project)
    }
}
