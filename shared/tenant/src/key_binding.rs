//! What a connection's key envelopes are bound to: the associated data they are sealed with, so
//! an envelope opens only for the owner, connection, URL and field it was sealed for.

use edge_crypto::Aad;
use uuid::Uuid;

use crate::TenantUrl;

/// Which of a project's two keys an envelope holds; its column is named after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// `anon_key`: the legacy `anon` JWT or an `sb_publishable_…` key.
    Anon,
    /// `service_role_key`: the legacy `service_role` JWT or an `sb_secret_…` key.
    ServiceRole,
}

impl KeyRole {
    pub fn field(self) -> &'static str {
        match self {
            Self::Anon => "anon_key",
            Self::ServiceRole => "service_role_key",
        }
    }
}

/// `connections.key_binding`: what a row's envelopes were sealed with. Rows keep the binding
/// they were saved with until they are saved again, so rows of older versions keep opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyBinding {
    /// Owner, connection name and field (rows saved before the URL was bound).
    Name,
    /// Owner, connection name and URL, and field: a URL changed behind save-connection's
    /// back no longer opens the keys, so they cannot be sent anywhere else.
    NameAndUrl,
}

impl KeyBinding {
    /// What save-connection seals with.
    pub const CURRENT: Self = Self::NameAndUrl;

    /// The `key_binding` column's value.
    pub fn column(self) -> i16 {
        match self {
            Self::Name => 1,
            Self::NameAndUrl => 2,
        }
    }

    pub fn from_column(value: i16) -> Option<Self> {
        match value {
            1 => Some(Self::Name),
            2 => Some(Self::NameAndUrl),
            _ => None,
        }
    }
}

/// The associated data of one envelope of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionKeyAad {
    owner: Uuid,
    row: String,
    role: KeyRole,
}

impl ConnectionKeyAad {
    /// `name` must be a valid connection name (`[A-Za-z0-9][A-Za-z0-9_-]*`, the table's check):
    /// it never holds a space, so `"<name> <url>"` cannot be read two ways and never equals a
    /// [`KeyBinding::Name`] row.
    pub fn new(
        binding: KeyBinding,
        owner: Uuid,
        name: &str,
        url: &TenantUrl,
        role: KeyRole,
    ) -> Self {
        let row = match binding {
            KeyBinding::Name => name.to_owned(),
            KeyBinding::NameAndUrl => format!("{name} {}", url.as_str()),
        };
        Self { owner, row, role }
    }

    pub fn aad(&self) -> Aad<'_> {
        Aad {
            owner: self.owner,
            row: &self.row,
            field: self.role.field(),
        }
    }
}

#[cfg(test)]
mod tests {
    use edge_crypto::{EnvelopeError, KeyRing};

    use super::*;

    const K1: &str = "v1;active=k1;k1=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const K1_K2: &str = "v1;active=k2;k1=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=;\
                         k2=ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

    fn url(raw: &str) -> TenantUrl {
        TenantUrl::parse(raw, true).unwrap()
    }

    fn aad(binding: KeyBinding, name: &str, raw_url: &str) -> ConnectionKeyAad {
        ConnectionKeyAad::new(
            binding,
            Uuid::from_u128(7),
            name,
            &url(raw_url),
            KeyRole::ServiceRole,
        )
    }

    #[test]
    fn a_changed_url_does_not_open_the_keys() {
        let ring = KeyRing::parse(K1).unwrap();
        let sealed_for = aad(KeyBinding::CURRENT, "shop", "https://abcd.supabase.co");
        let envelope = ring.seal_str("sb_secret_x", sealed_for.aad()).unwrap();
        assert_eq!(
            ring.open_str(&envelope, sealed_for.aad()).unwrap().expose(),
            "sb_secret_x"
        );
        for moved in [
            "http://127.0.0.1:8080",
            "https://abcd.supabase.co:444",
            "https://evil.example.com",
        ] {
            let elsewhere = aad(KeyBinding::CURRENT, "shop", moved);
            assert_eq!(
                ring.open_str(&envelope, elsewhere.aad()).err(),
                Some(EnvelopeError::Forged),
                "{moved}"
            );
        }
        // Nor does it open as a row of the old binding (no downgrade by editing key_binding).
        let downgraded = aad(KeyBinding::Name, "shop", "https://abcd.supabase.co");
        assert!(ring.open_str(&envelope, downgraded.aad()).is_err());
    }

    #[test]
    fn rows_sealed_before_the_url_was_bound_keep_opening_whatever_the_url() {
        let ring = KeyRing::parse(K1).unwrap();
        let old = ConnectionKeyAad::new(
            KeyBinding::Name,
            Uuid::from_u128(7),
            "shop",
            &url("https://abcd.supabase.co"),
            KeyRole::ServiceRole,
        );
        // What the previous version bound: owner, name and field.
        let previous = Aad {
            owner: Uuid::from_u128(7),
            row: "shop",
            field: "service_role_key",
        };
        assert_eq!(old.aad(), previous);
        let envelope = ring.seal_str("sb_secret_x", previous).unwrap();
        let reread = aad(KeyBinding::Name, "shop", "https://other.example.com");
        assert_eq!(
            ring.open_str(&envelope, reread.aad()).unwrap().expose(),
            "sb_secret_x"
        );
    }

    #[test]
    fn key_ring_rotation_opens_and_reseals_url_bound_envelopes() {
        let old_ring = KeyRing::parse(K1).unwrap();
        let new_ring = KeyRing::parse(K1_K2).unwrap();
        let bound = aad(KeyBinding::CURRENT, "shop", "https://abcd.supabase.co");
        let envelope = old_ring.seal_str("sb_secret_x", bound.aad()).unwrap();
        assert!(new_ring.needs_rotation(&envelope).unwrap());
        let resealed = new_ring.reseal(&envelope, bound.aad()).unwrap();
        assert!(resealed.starts_with("enc:v1:k2:"));
        assert_eq!(
            new_ring.open_str(&resealed, bound.aad()).unwrap().expose(),
            "sb_secret_x"
        );
        let moved = aad(KeyBinding::CURRENT, "shop", "https://evil.example.com");
        assert!(new_ring.open_str(&resealed, moved.aad()).is_err());
    }

    #[test]
    fn fields_owners_and_names_stay_bound() {
        let ring = KeyRing::parse(K1).unwrap();
        let bound = aad(KeyBinding::CURRENT, "shop", "https://abcd.supabase.co");
        let envelope = ring.seal_str("k", bound.aad()).unwrap();
        let u = url("https://abcd.supabase.co");
        let others = [
            ConnectionKeyAad::new(
                KeyBinding::CURRENT,
                Uuid::from_u128(7),
                "shop",
                &u,
                KeyRole::Anon,
            ),
            ConnectionKeyAad::new(
                KeyBinding::CURRENT,
                Uuid::from_u128(8),
                "shop",
                &u,
                KeyRole::ServiceRole,
            ),
            ConnectionKeyAad::new(
                KeyBinding::CURRENT,
                Uuid::from_u128(7),
                "shop2",
                &u,
                KeyRole::ServiceRole,
            ),
        ];
        for other in others {
            assert!(ring.open_str(&envelope, other.aad()).is_err(), "{other:?}");
        }
    }

    #[test]
    fn the_column_round_trips() {
        for binding in [KeyBinding::Name, KeyBinding::NameAndUrl] {
            assert_eq!(KeyBinding::from_column(binding.column()), Some(binding));
        }
        assert_eq!(KeyBinding::from_column(0), None);
        assert_eq!(KeyBinding::from_column(3), None);
    }
}
