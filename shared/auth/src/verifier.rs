//! Verifying a Supabase access token and turning it into a [`Caller`].

use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Token, ValidationError};
use uuid::Uuid;

use crate::caller::{AuthAssurance, Caller};
use crate::claims::SupabaseClaims;
use crate::es256;
use crate::jwks::{KeyBackend, VerifyingKey};
use crate::jwks_cache::{JwksCache, JwksFetcher, RefreshPolicy};
use crate::token::ParsedToken;
use crate::{AuthError, ConfigError, JwtAlgorithm, UnixTime};

/// Supabase Auth's own minimum length for the JWT secret.
const MIN_SECRET_LEN: usize = 32;
/// The Postgres role of every user session Supabase Auth issues (anonymous ones included).
const USER_ROLE: &str = "authenticated";

/// How a [`TokenVerifier`] checks tokens. Build with [`VerifierConfig::new`] (HS256 secret plus
/// JWKS) or [`VerifierConfig::jwks_only`], then adjust with the `with_*` methods.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    secret: Option<Hs256Key>,
    issuer: Option<String>,
    audience: String,
    leeway_secs: i64,
    algorithms: Vec<JwtAlgorithm>,
    refresh: RefreshPolicy,
    keys: KeyBackend,
}

impl VerifierConfig {
    /// HS256 with the project's JWT secret (`SUPABASE_JWT_SECRET`, used as raw UTF-8 bytes the
    /// way Supabase Auth uses it), plus ES256/RS256 through the JWKS.
    pub fn new(jwt_secret: impl AsRef<[u8]>) -> Self {
        Self {
            secret: Some(Hs256Key::new(jwt_secret)),
            ..Self::jwks_only()
        }
    }

    /// Only asymmetric tokens (ES256/RS256) through the project's JWKS; HS256 is refused.
    pub fn jwks_only() -> Self {
        Self {
            secret: None,
            issuer: None,
            audience: "authenticated".to_owned(),
            leeway_secs: 30,
            algorithms: vec![
                JwtAlgorithm::Hs256,
                JwtAlgorithm::Es256,
                JwtAlgorithm::Rs256,
            ],
            refresh: RefreshPolicy {
                max_age_secs: 600,
                min_refetch_secs: 30,
            },
            keys: KeyBackend::Builtin,
        }
    }

    /// Require `iss` to equal this (Supabase: `<SUPABASE_URL>/auth/v1`). Unchecked by default.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The audience `aud` must include; `authenticated` by default.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat`; 30 s by default.
    pub fn with_leeway_secs(mut self, leeway_secs: u32) -> Self {
        self.leeway_secs = i64::from(leeway_secs);
        self
    }

    /// The `alg` allow-list; by default HS256, ES256 and RS256 (RS256 only with the `rsa`
    /// feature; without it RS256 tokens are refused as unsupported).
    pub fn with_algorithms(mut self, algorithms: &[JwtAlgorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// JWKS refresh: a fetched set is refreshed after `max_age_secs` (600 by default), and
    /// fetch attempts are at least `min_refetch_secs` apart (30 by default).
    pub fn with_jwks_refresh(mut self, max_age_secs: u32, min_refetch_secs: u32) -> Self {
        self.refresh = RefreshPolicy {
            max_age_secs: i64::from(max_age_secs),
            min_refetch_secs: i64::from(min_refetch_secs),
        };
        self
    }

    /// ES256 keys held and signatures checked by the driver of a sans-IO flow (edge-step's
    /// `ImportEs256`/`VerifyEs256` needs): only for a verifier inside an edge-step `Machine`.
    #[cfg(feature = "driven")]
    pub fn with_driven_es256(mut self) -> Self {
        self.keys = KeyBackend::Driven;
        self
    }

    /// Fetch attempts at least `min_refetch_secs` apart, the set's refresh age unchanged.
    pub fn with_jwks_min_refetch_secs(mut self, min_refetch_secs: u32) -> Self {
        self.refresh.min_refetch_secs = i64::from(min_refetch_secs);
        self
    }
}

/// A verified caller, and whether the JWKS is due a refresh in the background
/// ([`TokenVerifier::verify_holding_keys`]).
#[derive(Debug)]
pub struct Verified {
    pub caller: Caller,
    pub refresh_due: bool,
}

/// Whether a token's key may come from a set past its refresh age without waiting for a fetch.
#[derive(Debug, Clone, Copy)]
enum KeyWait {
    UntilFresh,
    OnlyForUnknown,
}

/// Verifies access tokens. Keep one per isolate (e.g. in a `static`/`thread_local`) so the JWKS
/// cache outlives single requests.
#[derive(Debug)]
pub struct TokenVerifier {
    config: VerifierConfig,
    jwks: JwksCache,
}

impl TokenVerifier {
    /// Checks the configuration: the secret must have at least 32 bytes and at least one allowed
    /// algorithm must have a key source.
    pub fn new(mut config: VerifierConfig) -> Result<Self, ConfigError> {
        if config
            .secret
            .as_ref()
            .is_some_and(|key| key.as_ref().len() < MIN_SECRET_LEN)
        {
            return Err(ConfigError::WeakSecret);
        }
        let has_secret = config.secret.is_some();
        config.algorithms.retain(|alg| match alg {
            JwtAlgorithm::Hs256 => has_secret,
            JwtAlgorithm::Es256 => true,
            JwtAlgorithm::Rs256 => cfg!(feature = "rsa"),
        });
        if config.algorithms.is_empty() {
            return Err(ConfigError::NoAlgorithm);
        }
        let jwks = JwksCache::new(config.refresh, config.keys);
        Ok(Self { config, jwks })
    }

    /// Verifies `token` at time `now` and returns who sent it.
    ///
    /// `fetcher` is only called for ES256/RS256 tokens whose `kid` is not cached (or whose
    /// cached set is older than the refresh age); pass [`crate::NoJwks`] when there is no JWKS.
    pub async fn verify(
        &self,
        token: &str,
        now: UnixTime,
        fetcher: &impl JwksFetcher,
    ) -> Result<Caller, AuthError> {
        self.verify_with(token, now, fetcher, KeyWait::UntilFresh)
            .await
            .map(|verified| verified.caller)
    }

    /// Like [`TokenVerifier::verify`], but a key the cache holds is used at once even when its
    /// set is past the refresh age: then [`Verified::refresh_due`] asks the caller to run
    /// [`TokenVerifier::refresh_jwks`] after the answer (a Worker: `ctx.waitUntil`), so no
    /// request waits for a refresh while a valid key is held. An unknown `kid` still fetches,
    /// at most once per refetch interval.
    pub async fn verify_holding_keys(
        &self,
        token: &str,
        now: UnixTime,
        fetcher: &impl JwksFetcher,
    ) -> Result<Verified, AuthError> {
        self.verify_with(token, now, fetcher, KeyWait::OnlyForUnknown)
            .await
    }

    /// The refresh a [`Verified::refresh_due`] asked for; a failed one keeps the keys held.
    pub async fn refresh_jwks(&self, now: UnixTime, fetcher: &impl JwksFetcher) {
        self.jwks.refresh(now, fetcher).await;
    }

    async fn verify_with(
        &self,
        token: &str,
        now: UnixTime,
        fetcher: &impl JwksFetcher,
        wait: KeyWait,
    ) -> Result<Verified, AuthError> {
        let token = ParsedToken::parse(token)?;
        let untrusted = token.untrusted();
        let alg = JwtAlgorithm::from_name(untrusted.algorithm())
            .filter(|alg| self.config.algorithms.contains(alg))
            .ok_or(AuthError::UnsupportedAlgorithm)?;
        let mut refresh_due = false;
        let claims = match alg {
            JwtAlgorithm::Hs256 => {
                let secret = self
                    .config
                    .secret
                    .as_ref()
                    .ok_or(AuthError::UnsupportedAlgorithm)?;
                claims_of(Hs256.validator(secret).validate(untrusted))?
            }
            JwtAlgorithm::Es256 | JwtAlgorithm::Rs256 => {
                let kid = untrusted
                    .header()
                    .key_id
                    .as_deref()
                    .ok_or(AuthError::MissingKeyId)?;
                let held = match wait {
                    KeyWait::OnlyForUnknown => self.jwks.held(kid, now),
                    KeyWait::UntilFresh => None,
                };
                let key = match held {
                    Some((key, due)) => {
                        refresh_due = due;
                        key
                    }
                    None => self.jwks.key(kid, now, fetcher).await?,
                };
                validate_with_jwk(alg, &key, &token).await?
            }
        };
        let caller = self.check_claims(claims, now)?;
        Ok(Verified {
            caller,
            refresh_due,
        })
    }

    fn check_claims(
        &self,
        claims: Claims<SupabaseClaims>,
        now: UnixTime,
    ) -> Result<Caller, AuthError> {
        let Claims {
            expiration,
            not_before,
            issued_at,
            custom,
            ..
        } = claims;
        let now = now.as_secs();
        let leeway = self.config.leeway_secs;

        let expires_at = expiration.ok_or(AuthError::MissingExpiry)?.timestamp();
        if now >= expires_at.saturating_add(leeway) {
            return Err(AuthError::Expired);
        }
        let mut starts_at = [not_before, issued_at].into_iter().flatten();
        if starts_at.any(|t| t.timestamp() > now.saturating_add(leeway)) {
            return Err(AuthError::NotYetValid);
        }
        if !custom
            .aud
            .as_ref()
            .is_some_and(|aud| aud.contains(&self.config.audience))
        {
            return Err(AuthError::WrongAudience);
        }
        if let Some(expected) = &self.config.issuer
            && custom.iss.as_deref() != Some(expected.as_str())
        {
            return Err(AuthError::WrongIssuer);
        }
        if custom.role.as_deref() != Some(USER_ROLE) {
            return Err(AuthError::WrongRole);
        }
        let user_id = custom
            .sub
            .as_deref()
            .and_then(|sub| Uuid::try_parse(sub).ok())
            .ok_or(AuthError::BadSubject)?;

        Ok(Caller {
            user_id,
            email: custom.email.filter(|email| !email.is_empty()),
            phone: custom.phone.filter(|phone| !phone.is_empty()),
            is_anonymous: custom.is_anonymous,
            session_id: custom.session_id.and_then(|id| Uuid::try_parse(&id).ok()),
            aal: custom.aal.as_deref().and_then(AuthAssurance::from_claim),
            app_metadata: custom.app_metadata,
            expires_at,
        })
    }
}

/// Verifies with a JWKS key, refusing a key whose type does not match the header's `alg`.
async fn validate_with_jwk(
    alg: JwtAlgorithm,
    key: &VerifyingKey,
    token: &ParsedToken<'_>,
) -> Result<Claims<SupabaseClaims>, AuthError> {
    match (alg, key) {
        (JwtAlgorithm::Es256, VerifyingKey::Es256(key)) => es256::verify(key, token).await,
        #[cfg(feature = "driven")]
        (JwtAlgorithm::Es256, VerifyingKey::DrivenEs256(key)) => {
            es256::driven::verify(key, token).await
        }
        #[cfg(feature = "rsa")]
        (JwtAlgorithm::Rs256, VerifyingKey::Rs256(key)) => claims_of(
            jwt_compact::alg::Rsa::rs256()
                .validator(key.as_ref())
                .validate(token.untrusted()),
        ),
        _ => Err(AuthError::KeyAlgorithmMismatch),
    }
}

/// The claims of a token jwt-compact validated, or why it did not.
pub(crate) fn claims_of(
    validated: Result<Token<SupabaseClaims>, ValidationError>,
) -> Result<Claims<SupabaseClaims>, AuthError> {
    validated
        .map(|token| token.into_parts().1)
        .map_err(map_validation_error)
}

pub(crate) fn map_validation_error(err: ValidationError) -> AuthError {
    match err {
        ValidationError::InvalidSignature
        | ValidationError::InvalidSignatureLen { .. }
        | ValidationError::MalformedSignature(_) => AuthError::BadSignature,
        ValidationError::MalformedClaims(_) => AuthError::MalformedClaims,
        _ => AuthError::Malformed,
    }
}

#[cfg(test)]
#[path = "verifier_tests.rs"]
mod tests;
