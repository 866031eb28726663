//! Asymmetric signing keys in GoTrue's format (`GOTRUE_JWT_KEYS`, the Supabase CLI's
//! `signing_keys.json`): a JSON array of private JWKs, exactly one of which has `sign` in its
//! `key_ops`; the others only verify.
//!
//! A key's rotation state follows from its place in the array, so the file stays exactly what
//! GoTrue reads: the key that signs is **current**, verify-only keys before it were **previously
//! used**, verify-only keys after it are **standby** (added, published, not yet signing). A
//! **revoked** key is one removed from the file: nothing verifies with it any more.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use serde_json::{Map, Value, json};

/// The asymmetric algorithms GoTrue signs with (`alg` of a key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyAlgorithm {
    #[value(name = "ES256")]
    Es256,
    #[value(name = "RS256")]
    Rs256,
}

impl KeyAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    pub fn jwt_algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
        }
    }
}

/// Where a key stands in the rotation (Supabase's dashboard names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Current,
    Standby,
    PreviouslyUsed,
}

impl KeyState {
    pub fn label(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Standby => "standby",
            Self::PreviouslyUsed => "previously used",
        }
    }
}

/// One parsed key of the set, ready to sign (if current) and verify.
pub struct SigningKey {
    pub kid: String,
    pub alg: KeyAlgorithm,
    pub state: KeyState,
    /// The public half, as GoTrue publishes it in its JWKS.
    pub public_jwk: Value,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
}

/// A parsed and checked key file.
pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl KeySet {
    /// Parses a key file's content, with GoTrue's checks: every key valid, unique `kid`s,
    /// exactly one signing key.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let entries = parse_entries(text)?;
        let signer = signing_index(&entries)?;
        let mut keys: Vec<SigningKey> = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let state = match i.cmp(&signer) {
                std::cmp::Ordering::Less => KeyState::PreviouslyUsed,
                std::cmp::Ordering::Equal => KeyState::Current,
                std::cmp::Ordering::Greater => KeyState::Standby,
            };
            let key = parse_key(entry, state).with_context(|| format!("signing key #{}", i + 1))?;
            if keys.iter().any(|k| k.kid == key.kid) {
                bail!("two signing keys have the kid {}", key.kid);
            }
            keys.push(key);
        }
        Ok(Self { keys })
    }

    pub fn keys(&self) -> &[SigningKey] {
        &self.keys
    }

    /// The one key that signs new tokens.
    pub fn current(&self) -> &SigningKey {
        self.keys
            .iter()
            .find(|k| k.state == KeyState::Current)
            .expect("parse checks there is exactly one signing key")
    }

    pub fn get(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// GoTrue's `/.well-known/jwks.json` body: every key's public half, nothing private.
    pub fn jwks(&self) -> Value {
        json!({"keys": self.keys.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>()})
    }
}

fn parse_entries(text: &str) -> anyhow::Result<Vec<Map<String, Value>>> {
    let entries: Vec<Value> =
        serde_json::from_str(text).context("not a JSON array of private JWKs")?;
    entries
        .into_iter()
        .map(|entry| match entry {
            Value::Object(map) => Ok(map),
            _ => bail!("every entry must be a JWK object"),
        })
        .collect()
}

fn signs(entry: &Map<String, Value>) -> bool {
    entry
        .get("key_ops")
        .and_then(Value::as_array)
        .is_some_and(|ops| ops.iter().any(|op| op == "sign"))
}

/// GoTrue's rule: exactly one key may sign.
fn signing_index(entries: &[Map<String, Value>]) -> anyhow::Result<usize> {
    let signers: Vec<usize> = (0..entries.len()).filter(|&i| signs(&entries[i])).collect();
    match signers.as_slice() {
        [] => bail!("no signing key detected (one key needs \"sign\" in its key_ops)"),
        [one] => Ok(*one),
        _ => bail!("multiple signing keys detected, only 1 signing key is supported"),
    }
}

fn text_field<'a>(entry: &'a Map<String, Value>, name: &str) -> anyhow::Result<&'a str> {
    entry
        .get(name)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .with_context(|| format!("missing \"{name}\""))
}

fn parse_key(entry: &Map<String, Value>, state: KeyState) -> anyhow::Result<SigningKey> {
    let kid = text_field(entry, "kid")?.to_owned();
    let alg = match text_field(entry, "alg")? {
        "ES256" => KeyAlgorithm::Es256,
        "RS256" => KeyAlgorithm::Rs256,
        other => bail!("alg {other} is not supported (ES256 or RS256)"),
    };
    let (public_params, encoding, decoding) = match alg {
        KeyAlgorithm::Es256 => ec_key(entry)?,
        KeyAlgorithm::Rs256 => rsa_key(entry)?,
    };
    let mut public_jwk = json!({
        "kid": kid,
        "alg": alg.name(),
        "use": "sig",
        "key_ops": ["verify"],
    });
    public_jwk
        .as_object_mut()
        .expect("an object")
        .extend(public_params);
    Ok(SigningKey {
        kid,
        alg,
        state,
        public_jwk,
        encoding,
        decoding,
    })
}

type KeyParts = (Map<String, Value>, EncodingKey, DecodingKey);

/// A P-256 key: `d` must belong to `x`/`y` (p256 checks it).
fn ec_key(entry: &Map<String, Value>) -> anyhow::Result<KeyParts> {
    anyhow::ensure!(text_field(entry, "kty")? == "EC", "ES256 needs kty EC");
    let mut ec = Map::new();
    for name in ["kty", "crv", "x", "y", "d"] {
        ec.insert(name.to_owned(), json!(text_field(entry, name)?));
    }
    let jwk: p256::elliptic_curve::JwkEcKey =
        serde_json::from_value(Value::Object(ec.clone())).context("not a P-256 JWK")?;
    let secret = jwk
        .to_secret_key::<p256::NistP256>()
        .map_err(|_| anyhow::anyhow!("not a valid P-256 private key"))?;
    let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&secret)
        .map_err(|e| anyhow::anyhow!("encoding the P-256 key: {e}"))?;
    let decoding =
        DecodingKey::from_ec_components(text_field(entry, "x")?, text_field(entry, "y")?)?;
    ec.remove("d");
    Ok((ec, EncodingKey::from_ec_der(der.as_bytes()), decoding))
}

fn big_uint(entry: &Map<String, Value>, name: &str) -> anyhow::Result<rsa::BigUint> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text_field(entry, name)?)
        .with_context(|| format!("\"{name}\" is not base64url"))?;
    Ok(rsa::BigUint::from_bytes_be(&bytes))
}

/// An RSA key of at least 2048 bits, from `n`, `e`, `d`, `p`, `q` (checked by the rsa crate).
fn rsa_key(entry: &Map<String, Value>) -> anyhow::Result<KeyParts> {
    anyhow::ensure!(text_field(entry, "kty")? == "RSA", "RS256 needs kty RSA");
    let private = rsa::RsaPrivateKey::from_components(
        big_uint(entry, "n")?,
        big_uint(entry, "e")?,
        big_uint(entry, "d")?,
        vec![big_uint(entry, "p")?, big_uint(entry, "q")?],
    )
    .context("not a valid RSA private key")?;
    private.validate().context("not a valid RSA private key")?;
    anyhow::ensure!(
        private.size() * 8 >= 2048,
        "RSA keys need 2048 bits or more"
    );
    let der = private
        .to_pkcs1_der()
        .map_err(|e| anyhow::anyhow!("encoding the RSA key: {e}"))?;
    let (n, e) = (text_field(entry, "n")?, text_field(entry, "e")?);
    let decoding = DecodingKey::from_rsa_components(n, e)?;
    let mut public = Map::new();
    public.insert("kty".into(), json!("RSA"));
    public.insert("n".into(), json!(n));
    public.insert("e".into(), json!(e));
    Ok((public, EncodingKey::from_rsa_der(der.as_bytes()), decoding))
}

/// A new private JWK as `supabase gen signing-key` writes it (random UUID `kid`, `ext: true`);
/// `signing` decides its `key_ops`.
pub fn generate_key(alg: KeyAlgorithm, signing: bool) -> anyhow::Result<Value> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let mut rng = rand::rngs::OsRng;
    let params = match alg {
        KeyAlgorithm::Es256 => {
            let secret = p256::SecretKey::random(&mut rng);
            let jwk = p256::elliptic_curve::JwkEcKey::from(&secret);
            serde_json::to_value(&jwk)?
        }
        KeyAlgorithm::Rs256 => {
            let mut key = rsa::RsaPrivateKey::new(&mut rng, 2048)?;
            key.precompute()?;
            let [p, q] = key.primes() else {
                bail!("a generated RSA key has two primes");
            };
            let dp = key.dp().context("precomputed dp")?;
            let dq = key.dq().context("precomputed dq")?;
            let qi = key.crt_coefficient().context("precomputed qi")?;
            json!({
                "kty": "RSA",
                "n": b64(&key.n().to_bytes_be()),
                "e": b64(&key.e().to_bytes_be()),
                "d": b64(&key.d().to_bytes_be()),
                "p": b64(&p.to_bytes_be()),
                "q": b64(&q.to_bytes_be()),
                "dp": b64(&dp.to_bytes_be()),
                "dq": b64(&dq.to_bytes_be()),
                "qi": b64(&qi.to_bytes_be()),
            })
        }
    };
    let ops: &[&str] = if signing {
        &["sign", "verify"]
    } else {
        &["verify"]
    };
    let mut key = json!({
        "kid": uuid::Uuid::new_v4().to_string(),
        "alg": alg.name(),
        "use": "sig",
        "key_ops": ops,
        "ext": true,
    });
    key.as_object_mut()
        .expect("an object")
        .extend(params.as_object().cloned().unwrap_or_default());
    Ok(key)
}

/// A key file on disk, changed only through these operations, each checked and written whole.
pub struct KeyFile {
    pub path: PathBuf,
    entries: Vec<Map<String, Value>>,
}

impl KeyFile {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading signing keys {}", path.display()))?;
        KeySet::parse(&text).with_context(|| format!("signing keys {}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            entries: parse_entries(&text)?,
        })
    }

    /// A file with one new signing key.
    pub fn create(path: &Path, alg: KeyAlgorithm) -> anyhow::Result<Self> {
        let file = Self {
            path: path.to_owned(),
            entries: vec![object(generate_key(alg, true)?)],
        };
        file.save()?;
        Ok(file)
    }

    pub fn key_set(&self) -> anyhow::Result<KeySet> {
        KeySet::parse(&serde_json::to_string(&self.entries)?)
    }

    /// Appends a new key: a standby key (published, verify only) in a file that has a signing
    /// key, the signing key in an empty file. Returns its `kid`.
    pub fn add(&mut self, alg: KeyAlgorithm) -> anyhow::Result<String> {
        let key = object(generate_key(alg, self.entries.is_empty())?);
        let kid = key["kid"].as_str().unwrap_or_default().to_owned();
        self.entries.push(key);
        self.save()?;
        Ok(kid)
    }

    /// Makes a standby key (`kid`, or the only one) the signing key; the key that signed so far
    /// stays published as previously used, so the tokens it signed keep verifying.
    pub fn rotate(&mut self, kid: Option<&str>) -> anyhow::Result<String> {
        let current = signing_index(&self.entries)?;
        let standby: Vec<usize> = (current + 1..self.entries.len()).collect();
        let target = match kid {
            Some(kid) => *standby
                .iter()
                .find(|&&i| self.entries[i]["kid"] == kid)
                .with_context(|| {
                    format!("{kid} is not a standby key (add one with `devstack keys add`)")
                })?,
            None => match standby.as_slice() {
                [one] => *one,
                [] => bail!("no standby key to rotate to: add one with `devstack keys add`"),
                _ => bail!("several standby keys: name the one to rotate to"),
            },
        };
        self.entries[current].insert("key_ops".into(), json!(["verify"]));
        self.entries[target].insert("key_ops".into(), json!(["sign", "verify"]));
        self.save()?;
        Ok(self.entries[target]["kid"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Removes a key that does not sign: tokens it signed stop verifying.
    pub fn revoke(&mut self, kid: &str) -> anyhow::Result<()> {
        let index = self
            .entries
            .iter()
            .position(|e| e["kid"] == kid)
            .with_context(|| format!("no signing key {kid}"))?;
        anyhow::ensure!(
            !signs(&self.entries[index]),
            "{kid} is the current key: rotate to a standby key first"
        );
        self.entries.remove(index);
        self.save()
    }

    /// Writes the file whole (a temporary file renamed over it), readable by its owner only.
    fn save(&self) -> anyhow::Result<()> {
        KeySet::parse(&serde_json::to_string(&self.entries)?)?;
        write_private(&self.path, &serde_json::to_vec_pretty(&self.entries)?)
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Writes `bytes` to `path` atomically (a temporary file renamed over it) with mode 0600: the
/// file holds private keys, and a reader never sees it half written.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut contents = bytes.to_vec();
    contents.push(b'\n');
    crate::secret_file::write(&tmp, &contents)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path() -> PathBuf {
        std::env::temp_dir().join(format!("signing-keys-{}.json", uuid::Uuid::new_v4()))
    }

    #[test]
    fn rotation_moves_keys_through_their_states() {
        let path = temp_path();
        let mut file = KeyFile::create(&path, KeyAlgorithm::Es256).unwrap();
        let first = file.key_set().unwrap().current().kid.clone();
        let second = file.add(KeyAlgorithm::Rs256).unwrap();
        let set = file.key_set().unwrap();
        assert_eq!(set.get(&second).unwrap().state, KeyState::Standby);
        assert_eq!(set.current().kid, first, "a standby key does not sign yet");

        assert_eq!(file.rotate(None).unwrap(), second);
        let set = KeyFile::load(&path).unwrap().key_set().unwrap();
        assert_eq!(set.current().kid, second);
        assert_eq!(set.current().alg, KeyAlgorithm::Rs256);
        assert_eq!(set.get(&first).unwrap().state, KeyState::PreviouslyUsed);

        assert!(
            file.revoke(&second).is_err(),
            "the current key cannot be revoked"
        );
        file.revoke(&first).unwrap();
        assert!(file.key_set().unwrap().get(&first).is_none());
        assert!(file.rotate(None).is_err(), "no standby key left");
        let mode = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
    }

    #[test]
    fn the_jwks_has_public_halves_only() {
        let mut file = KeyFile::create(&temp_path(), KeyAlgorithm::Es256).unwrap();
        file.add(KeyAlgorithm::Rs256).unwrap();
        let jwks = file.key_set().unwrap().jwks();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2);
        for key in keys {
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(key.get(private).is_none(), "{private} published: {key}");
            }
            assert_eq!(key["key_ops"], json!(["verify"]));
            assert_eq!(key["use"], "sig");
        }
        assert_eq!(keys[0]["crv"], "P-256");
        assert!(keys[1]["n"].is_string());
    }

    #[test]
    fn gotrue_rules_are_enforced() {
        let one = generate_key(KeyAlgorithm::Es256, true).unwrap();
        let two = generate_key(KeyAlgorithm::Es256, true).unwrap();
        let none = generate_key(KeyAlgorithm::Es256, false).unwrap();
        let parse = |v: Value| KeySet::parse(&v.to_string());
        assert!(parse(json!([one.clone()])).is_ok());
        let multiple = parse(json!([one.clone(), two])).err().unwrap();
        assert!(multiple.to_string().contains("multiple signing keys"));
        assert!(parse(json!([none])).is_err());
        let mut wrong_d = one.clone();
        wrong_d["d"] = generate_key(KeyAlgorithm::Es256, true).unwrap()["d"].clone();
        assert!(parse(json!([wrong_d])).is_err(), "d must match x/y");
        let mut hs = one;
        hs["alg"] = json!("HS256");
        assert!(parse(json!([hs])).is_err());
    }
}
