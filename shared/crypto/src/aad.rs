//! Associated data that binds a ciphertext to where it is stored.

use uuid::Uuid;

/// Domain separation: these bytes never mean anything else.
const DOMAIN: &[u8] = b"edge-crypto/aad/v1";

/// Where a ciphertext belongs: the user who owns it, the row and the field. A ciphertext opens
/// only with the same three values, so one copied to another user's row, another row of the
/// same user or another column fails to decrypt instead of leaking.
///
/// `row` should be stable for the row's life and known before it is written, e.g.
/// `"connections/<name>"` for a connection upserted by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aad<'a> {
    /// The owning user (`auth.users.id`).
    pub owner: Uuid,
    /// The row, e.g. `"connections/prod"`.
    pub row: &'a str,
    /// The field (column), e.g. `"service_role_key"`.
    pub field: &'a str,
}

impl Aad<'_> {
    /// The bytes authenticated alongside the ciphertext: domain, envelope header, owner, row,
    /// field, each variable part length-prefixed so no two distinct inputs encode alike
    /// (`row="a/b", field="c"` differs from `row="a", field="b/c"`).
    pub(crate) fn encode(&self, header: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            DOMAIN.len() + 16 + 12 + header.len() + self.row.len() + self.field.len(),
        );
        out.extend_from_slice(DOMAIN);
        push_prefixed(&mut out, header.as_bytes());
        out.extend_from_slice(self.owner.as_bytes());
        push_prefixed(&mut out, self.row.as_bytes());
        push_prefixed(&mut out, self.field.as_bytes());
        out
    }
}

fn push_prefixed(out: &mut Vec<u8>, part: &[u8]) {
    let len = u32::try_from(part.len()).expect("AAD parts are far below 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(part);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_unambiguous() {
        let owner = Uuid::nil();
        let a = Aad {
            owner,
            row: "a/b",
            field: "c",
        }
        .encode("enc:v1:k");
        let b = Aad {
            owner,
            row: "a",
            field: "b/c",
        }
        .encode("enc:v1:k");
        let c = Aad {
            owner,
            row: "a/b",
            field: "c",
        }
        .encode("enc:v1:j");
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}
