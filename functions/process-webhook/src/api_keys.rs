//! The `X-API-Key` values the inference backend may use, from the `WEBHOOK_API_KEYS` secret.

use edge_auth::constant_time_eq;
use edge_crypto::hash_token;

/// Shortest key accepted in the configuration: anything shorter is guessable.
pub const MIN_KEY_LEN: usize = 16;

/// The configured keys, held as SHA-256 digests. Several keys let them rotate without downtime:
/// add the new key, move the sender over, remove the old one.
#[derive(Clone)]
pub struct ApiKeyList {
    digests: Vec<String>,
}

impl std::fmt::Debug for ApiKeyList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyList")
            .field("count", &self.digests.len())
            .finish_non_exhaustive()
    }
}

/// Why `WEBHOOK_API_KEYS` cannot be used (names the position, never the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidApiKeyList {
    Empty,
    TooShort { position: usize },
}

impl std::fmt::Display for InvalidApiKeyList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("WEBHOOK_API_KEYS lists no key"),
            Self::TooShort { position } => write!(
                f,
                "key {position} of WEBHOOK_API_KEYS is shorter than {MIN_KEY_LEN} characters"
            ),
        }
    }
}

impl ApiKeyList {
    /// Parses a comma-separated list (spaces around keys are ignored, so are empty entries).
    pub fn parse(list: &str) -> Result<Self, InvalidApiKeyList> {
        let keys: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .collect();
        if keys.is_empty() {
            return Err(InvalidApiKeyList::Empty);
        }
        if let Some(index) = keys.iter().position(|key| key.len() < MIN_KEY_LEN) {
            return Err(InvalidApiKeyList::TooShort {
                position: index + 1,
            });
        }
        Ok(Self {
            digests: keys.into_iter().map(hash_token).collect(),
        })
    }

    /// Whether `presented` is one of the keys. The digests are compared in constant time and
    /// every key is compared, so timing reveals neither the key's length nor which key was
    /// close.
    pub fn accepts(&self, presented: &str) -> bool {
        let digest = hash_token(presented);
        self.digests.iter().fold(false, |found, key| {
            constant_time_eq(key.as_bytes(), digest.as_bytes()) | found
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "whk_old_0123456789abcdef";
    const NEW: &str = "whk_new_fedcba9876543210";

    #[test]
    fn every_listed_key_is_accepted() {
        let keys = ApiKeyList::parse(&format!(" {OLD} ,{NEW},, ")).unwrap();
        assert!(keys.accepts(OLD));
        assert!(keys.accepts(NEW));
        assert!(!keys.accepts(""));
        assert!(!keys.accepts(&OLD[..OLD.len() - 1]));
        assert!(!keys.accepts(&format!("{OLD}x")));
        assert!(!keys.accepts(&format!("{OLD},{NEW}")));
        assert!(!keys.accepts(&OLD.to_uppercase()));
    }

    #[test]
    fn a_removed_key_stops_working() {
        let before = ApiKeyList::parse(&format!("{OLD},{NEW}")).unwrap();
        let after = ApiKeyList::parse(NEW).unwrap();
        assert!(before.accepts(OLD));
        assert!(!after.accepts(OLD));
        assert!(after.accepts(NEW));
    }

    #[test]
    fn weak_or_empty_lists_are_configuration_errors() {
        assert_eq!(
            ApiKeyList::parse(" , ").unwrap_err(),
            InvalidApiKeyList::Empty
        );
        assert_eq!(
            ApiKeyList::parse(&format!("{OLD},short")).unwrap_err(),
            InvalidApiKeyList::TooShort { position: 2 }
        );
        let message = ApiKeyList::parse("tiny").unwrap_err().to_string();
        assert!(!message.contains("tiny"), "{message}");
    }

    #[test]
    fn debug_shows_no_key() {
        let keys = ApiKeyList::parse(OLD).unwrap();
        let shown = format!("{keys:?}");
        assert!(!shown.contains(OLD));
        assert!(!shown.contains(&hash_token(OLD)));
    }
}
