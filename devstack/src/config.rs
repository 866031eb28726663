//! A project's identity: its name, ports, database and keys, kept on disk so that a restart
//! hands every client the same keys.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::jwt::JwtKeys;
use crate::signing_keys::{KeyAlgorithm, KeyFile};

/// Ten years, like the keys `supabase start` prints.
const API_KEY_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;

/// Everything a client needs to talk to one project, as `supabase status` shows it.
#[derive(Clone, Serialize, Deserialize)]
pub struct ProjectConfig {
    pub name: String,
    pub api_port: u16,
    pub db_name: String,
    pub jwt_secret: String,
    /// Legacy JWT keys, signed with `jwt_secret`.
    pub anon_key: String,
    pub service_role_key: String,
    /// The newer opaque keys, which the gateway maps to the same two roles.
    pub publishable_key: String,
    pub secret_key: String,
    /// The asymmetric signing keys (GoTrue's format) access tokens are signed with; `None`
    /// for a `--legacy-jwt` project, which signs everything HS256 with `jwt_secret`.
    #[serde(default)]
    pub signing_keys_path: Option<PathBuf>,
    /// The key the mail catcher's send API (`POST /emails`) requires, as a provider requires
    /// its API key; written to `.dev.vars` as `MAIL_API_KEY`.
    #[serde(default = "new_mail_api_key")]
    pub mail_api_key: String,
    /// The mail catcher's port (`--mail-port`), main project only; from the command line.
    #[serde(default)]
    pub mail_port: Option<u16>,
}

fn new_mail_api_key() -> String {
    format!("re_devstack_{}", random_token(24))
}

/// Which keys sign a project's access tokens.
#[derive(Debug, Clone)]
pub enum SigningKeysChoice {
    /// HS256 with the project secret only (`--legacy-jwt`).
    Legacy,
    /// The key file given with `--signing-keys`.
    File(PathBuf),
    /// A key file of devstack's own in the state directory, made once with an ES256 key
    /// (as `supabase start` does since CLI 2.71) and kept.
    Generated,
}

impl ProjectConfig {
    /// Loads the project's saved config, or creates one with fresh keys.
    /// The port and database name always come from the command line.
    pub fn load_or_create(
        dir: &Path,
        name: &str,
        api_port: u16,
        db_name: &str,
        keys: &SigningKeysChoice,
    ) -> anyhow::Result<Self> {
        let path = Self::path(dir, name);
        let mut config = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<ProjectConfig>(&bytes)
                .with_context(|| format!("reading {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::generate(name)?,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        config.api_port = api_port;
        config.db_name = db_name.to_owned();
        config.signing_keys_path = match keys {
            SigningKeysChoice::Legacy => None,
            SigningKeysChoice::File(path) => {
                KeyFile::load(path)?;
                Some(path.clone())
            }
            SigningKeysChoice::Generated => {
                let path = dir.join(format!("project-{name}-signing-keys.json"));
                if !path.exists() {
                    KeyFile::create(&path, KeyAlgorithm::Es256)?;
                    tracing::info!(
                        project = name,
                        "generated an ES256 signing key in {}",
                        path.display()
                    );
                }
                Some(path)
            }
        };
        std::fs::create_dir_all(dir)?;
        crate::secret_file::write(&path, &serde_json::to_vec_pretty(&config)?)?;
        Ok(config)
    }

    /// The keys that sign and verify this project's tokens.
    pub fn jwt_keys(&self) -> anyhow::Result<JwtKeys> {
        match &self.signing_keys_path {
            None => Ok(JwtKeys::legacy(self.jwt_secret.as_bytes())),
            Some(path) => JwtKeys::with_key_file(self.jwt_secret.as_bytes(), path),
        }
    }

    pub fn path(dir: &Path, name: &str) -> PathBuf {
        dir.join(format!("project-{name}.json"))
    }

    fn generate(name: &str) -> anyhow::Result<Self> {
        let jwt_secret = random_token(40);
        let signer = JwtKeys::legacy(jwt_secret.as_bytes());
        let now = chrono::Utc::now().timestamp();
        let api_key = |role: &str| {
            signer.sign_with_secret(&serde_json::json!({
                "iss": "supabase-devstack",
                "ref": name,
                "role": role,
                "iat": now,
                "exp": now + API_KEY_LIFETIME_SECS,
            }))
        };
        Ok(Self {
            name: name.to_owned(),
            api_port: 0,
            db_name: String::new(),
            anon_key: api_key("anon")?,
            service_role_key: api_key("service_role")?,
            publishable_key: format!("sb_publishable_{}", random_token(22)),
            secret_key: format!("sb_secret_{}", random_token(22)),
            jwt_secret,
            signing_keys_path: None,
            mail_api_key: new_mail_api_key(),
            mail_port: None,
        })
    }

    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    /// The mail catcher's base URL (its page; the send API is `…/emails`), if this project has one.
    pub fn mail_url(&self) -> Option<String> {
        self.mail_port
            .map(|port| format!("http://127.0.0.1:{port}"))
    }
}

/// A URL-safe random string of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
