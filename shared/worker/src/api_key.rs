//! The `apikey` header every request to a Supabase project carries (supabase-js sends it on
//! `functions.invoke()`), checked the way Supabase's gateway checks it: a route open to apps
//! takes any project key, an operator's route only a secret one.

use edge_auth::{ApiKeyKind, ProjectApiKeys};
use edge_http::ApiError;

use crate::config::optional_setting;
use crate::serve::RequestContext;

/// 401 without a project key; 403 when `needed` is [`ApiKeyKind::Secret`] and the key is only
/// publishable. Keys: `SUPABASE_ANON_KEY`, `SUPABASE_PUBLISHABLE_KEY`,
/// `SUPABASE_SERVICE_ROLE_KEY`, `SUPABASE_SECRET_KEY`.
pub fn require_api_key(ctx: &RequestContext, needed: ApiKeyKind) -> Result<(), ApiError> {
    let presented = ctx.req.header("apikey").ok_or_else(|| {
        ApiError::unauthorized(
            "missing_api_key",
            "The apikey header with the project's key is required",
        )
    })?;
    let keys = ProjectApiKeys::new()
        .with_publishable(ctx.config.anon_key.clone())
        .with_publishable(
            optional_setting(&ctx.env, "SUPABASE_PUBLISHABLE_KEY").unwrap_or_default(),
        )
        .with_secret(ctx.config.service_role_key.clone())
        .with_secret(optional_setting(&ctx.env, "SUPABASE_SECRET_KEY").unwrap_or_default());
    match keys.classify(&presented) {
        Some(ApiKeyKind::Secret) => Ok(()),
        Some(ApiKeyKind::Publishable) if needed == ApiKeyKind::Publishable => Ok(()),
        Some(ApiKeyKind::Publishable) => Err(ApiError::forbidden(
            "service_key_required",
            "This route needs the project's service key",
        )),
        None => Err(ApiError::unauthorized(
            "invalid_api_key",
            "The apikey is not a key of this project",
        )),
    }
}
