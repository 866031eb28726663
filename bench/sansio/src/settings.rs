//! The Worker's settings, handed over by the driver once per isolate (the names in
//! [`WANTED`]), and what is built from them once: the project config, the key ring, the token
//! verifier. The same names and rules as edge-worker's `SupabaseConfig` and `key_ring`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use edge_auth::{TokenVerifier, VerifierConfig};
use edge_crypto::KeyRing;
use edge_http::ApiError;
use edge_tenant::LOOPBACK_SWITCH;

use crate::log::internal_error;

/// The settings the flow reads; the driver passes each one's value (or nothing) from `env`.
pub const WANTED: &[&str] = &[
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "SUPABASE_PUBLISHABLE_KEY",
    "SUPABASE_SERVICE_ROLE_KEY",
    "SUPABASE_SECRET_KEY",
    "SUPABASE_JWT_SECRET",
    "JWKS_MIN_REFETCH_SECS",
    "ENCRYPTION_KEY_RING",
    LOOPBACK_SWITCH,
];

/// The settings that are set and not blank.
#[derive(Debug, Default)]
pub struct Settings {
    values: HashMap<String, String>,
    key_ring: RefCell<Option<Rc<KeyRing>>>,
    verifier: RefCell<Option<Rc<TokenVerifier>>>,
}

/// The project's URL and keys, as edge-worker's `SupabaseConfig`.
pub struct Config {
    pub url: String,
    pub anon_key: String,
    pub service_role_key: String,
}

impl Settings {
    pub fn new(values: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            values: values
                .into_iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .collect(),
            ..Self::default()
        }
    }

    pub fn optional(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.optional(name)
            .ok_or_else(|| internal_error("configuration", format!("{name} is not set")))
    }

    fn project_key(&self, legacy: &str, opaque: &str) -> Result<String, ApiError> {
        self.optional(legacy)
            .or_else(|| self.optional(opaque))
            .map(str::to_owned)
            .ok_or_else(|| {
                internal_error(
                    "configuration",
                    format!("neither {legacy} nor {opaque} is set"),
                )
            })
    }

    pub fn config(&self) -> Result<Config, ApiError> {
        Ok(Config {
            url: self
                .required("SUPABASE_URL")?
                .trim_end_matches('/')
                .to_owned(),
            anon_key: self.project_key("SUPABASE_ANON_KEY", "SUPABASE_PUBLISHABLE_KEY")?,
            service_role_key: self
                .project_key("SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_SECRET_KEY")?,
        })
    }

    /// `ENCRYPTION_KEY_RING`, parsed on first use (a failure is not kept).
    pub fn key_ring(&self) -> Result<Rc<KeyRing>, ApiError> {
        if let Some(ring) = self.key_ring.borrow().clone() {
            return Ok(ring);
        }
        let ring = Rc::new(
            KeyRing::parse(self.required("ENCRYPTION_KEY_RING")?)
                .map_err(|e| internal_error("reading ENCRYPTION_KEY_RING", e))?,
        );
        *self.key_ring.borrow_mut() = Some(ring.clone());
        Ok(ring)
    }

    /// One verifier per isolate, so its JWKS cache outlives a request.
    pub fn verifier(&self, config: &Config) -> Result<Rc<TokenVerifier>, ApiError> {
        if let Some(verifier) = self.verifier.borrow().clone() {
            return Ok(verifier);
        }
        let verifier_config = match self.optional("SUPABASE_JWT_SECRET") {
            Some(secret) => VerifierConfig::new(secret),
            None => VerifierConfig::jwks_only(),
        }
        .with_issuer(format!("{}/auth/v1", config.url))
        .with_driven_es256();
        let refetch = self
            .optional("JWKS_MIN_REFETCH_SECS")
            .and_then(|v| v.trim().parse().ok());
        let verifier_config = match refetch {
            Some(secs) => verifier_config.with_jwks_min_refetch_secs(secs),
            None => verifier_config,
        };
        let verifier = Rc::new(
            TokenVerifier::new(verifier_config)
                .map_err(|e| internal_error("configuring token verification", e))?,
        );
        *self.verifier.borrow_mut() = Some(verifier.clone());
        Ok(verifier)
    }
}
