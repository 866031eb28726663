//! The current time, passed in by the caller so verification is deterministic under test.

/// Seconds since the Unix epoch. In a Worker: `UnixTime::from_millis(worker::Date::now().as_millis())`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(i64);

impl UnixTime {
    /// From whole seconds since the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// From milliseconds since the epoch (what JavaScript's `Date.now()` gives).
    pub const fn from_millis(millis: u64) -> Self {
        Self((millis / 1000) as i64)
    }

    /// Whole seconds since the epoch.
    pub const fn as_secs(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_truncate_to_seconds() {
        assert_eq!(
            UnixTime::from_millis(1_700_000_000_999).as_secs(),
            1_700_000_000
        );
    }
}
