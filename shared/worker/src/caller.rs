//! The caller of a request, from its Supabase access token, verified inside the Worker.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use edge_auth::{Caller, FetchError, JwksFetcher, TokenVerifier, VerifierConfig, bearer_token};
use edge_http::ApiError;
use worker::Request;

use crate::config::{SupabaseConfig, optional_setting};
use crate::respond::internal_error;
use crate::serve::RequestContext;
use crate::timed_fetch::{fetch_within, within};

/// How long the project's Auth server has to answer a JWKS request. A token that needs the
/// JWKS then gets `503 auth_keys_unavailable` (or its stale cached key); later requests fetch
/// again once the verifier's refetch interval allows.
const JWKS_TIMEOUT: Duration = Duration::from_secs(3);

thread_local! {
    /// One verifier per isolate and configuration, so its JWKS cache outlives a request.
    static VERIFIER: RefCell<Option<(String, Rc<TokenVerifier>)>> = const { RefCell::new(None) };
}

/// A verified caller and the token they sent (to act as them towards PostgREST).
pub struct Authenticated {
    pub caller: Caller,
    pub access_token: String,
}

/// Verifies `Authorization: Bearer <token>` against the project (HS256 with the JWT secret,
/// ES256/RS256 through the project's JWKS) and returns who is calling; 401 with a machine code
/// per failure otherwise.
pub async fn authenticate(ctx: &RequestContext) -> Result<Authenticated, ApiError> {
    let authorization = ctx.req.header("authorization");
    let token = bearer_token(authorization.as_deref())?;
    let caller = verify_access_token(ctx, token).await?;
    Ok(Authenticated {
        caller,
        access_token: token.to_owned(),
    })
}

/// Verifies one access token of the project, wherever it came from (a header, or a body that
/// carries a second session's token), with the same rules and errors as [`authenticate`]. A
/// key the isolate holds is used at once; when its set is due a refresh, the refresh runs after
/// the answer, so only a `kid` the isolate has never seen waits for the JWKS.
pub async fn verify_access_token(ctx: &RequestContext, token: &str) -> Result<Caller, ApiError> {
    let verifier = verifier_for(ctx)?;
    let fetcher = jwks_fetcher(&ctx.config);
    let now = crate::now();
    let verified = verifier.verify_holding_keys(token, now, &fetcher).await?;
    if verified.refresh_due {
        ctx.defer
            .after_answer(async move { verifier.refresh_jwks(now, &fetcher).await });
    }
    Ok(verified.caller)
}

/// `GET <SUPABASE_URL>/auth/v1/.well-known/jwks.json`, as the verifier's fetcher.
fn jwks_fetcher(config: &SupabaseConfig) -> impl JwksFetcher + 'static {
    let jwks_url = format!("{}/auth/v1/.well-known/jwks.json", config.url);
    move || {
        let url = jwks_url.clone();
        async move { fetch_text(&url).await.map_err(FetchError) }
    }
}

/// `JWKS_MIN_REFETCH_SECS`: the least time between two JWKS fetches of an isolate, 30 s unless
/// set. The test stack sets it short, so a key rotation reaches the functions without a wait.
fn jwks_min_refetch_secs(ctx: &RequestContext) -> Option<u32> {
    optional_setting(&ctx.env, "JWKS_MIN_REFETCH_SECS").and_then(|v| v.trim().parse().ok())
}

fn verifier_for(ctx: &RequestContext) -> Result<Rc<TokenVerifier>, ApiError> {
    let config = &ctx.config;
    let fingerprint = format!(
        "{}\n{}",
        config.url,
        config.jwt_secret.as_deref().unwrap_or("")
    );
    VERIFIER.with(|cell| {
        if let Some((key, verifier)) = cell.borrow().as_ref()
            && *key == fingerprint
        {
            return Ok(verifier.clone());
        }
        let verifier_config = match &config.jwt_secret {
            Some(secret) => VerifierConfig::new(secret),
            None => VerifierConfig::jwks_only(),
        }
        .with_issuer(format!("{}/auth/v1", config.url));
        let verifier_config = match jwks_min_refetch_secs(ctx) {
            Some(secs) => verifier_config.with_jwks_min_refetch_secs(secs),
            None => verifier_config,
        };
        let verifier = Rc::new(
            TokenVerifier::new(verifier_config)
                .map_err(|e| internal_error("configuring token verification", e))?,
        );
        *cell.borrow_mut() = Some((fingerprint, verifier.clone()));
        Ok(verifier)
    })
}

/// The JWKS document, within [`JWKS_TIMEOUT`] for the headers and again for the body.
async fn fetch_text(url: &str) -> Result<String, String> {
    let request = Request::new(url, worker::Method::Get).map_err(|e| e.to_string())?;
    let mut response = fetch_within(request, JWKS_TIMEOUT)
        .await
        .map_err(|e| format!("JWKS fetch: {e}"))?;
    if response.status_code() != 200 {
        return Err(format!("JWKS answered {}", response.status_code()));
    }
    within(response.text(), JWKS_TIMEOUT)
        .await
        .ok_or("JWKS body: no answer in time")?
        .map_err(|e| e.to_string())
}
