//! Random bytes from the platform's CSPRNG (`getrandom`; `crypto.getRandomValues` in Workers).

use thiserror::Error;

/// The platform refused to give random bytes. Nothing can be sealed or issued without them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

/// `N` random bytes.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut bytes = [0_u8; N];
    getrandom::getrandom(&mut bytes).map_err(|_| RandomError)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_differ_between_calls() {
        assert_ne!(random_bytes::<16>().unwrap(), random_bytes::<16>().unwrap());
    }
}
