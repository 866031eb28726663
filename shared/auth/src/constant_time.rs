//! Comparison of secrets without timing leaks.

use subtle::ConstantTimeEq;

/// Compares two secrets in time independent of where they differ.
///
/// Only the lengths may leak (a mismatch in length returns early); API keys and webhook keys
/// have public, fixed formats, so their length is no secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_content_and_length() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(constant_time_eq(b"", b""));
    }
}
