//! Input checks GoTrue makes before touching the database.

use std::time::Duration;

use super::error::{AuthError, AuthResult};

/// Validates and lower-cases an e-mail address, with GoTrue's messages.
pub fn email(raw: &str) -> AuthResult<String> {
    if raw.is_empty() {
        return Err(AuthError::validation("An email address is required"));
    }
    if raw.len() > 255 {
        return Err(AuthError::validation("An email address is too long"));
    }
    if !looks_like_email(raw) {
        return Err(AuthError::validation(
            "Unable to validate email address: invalid format",
        ));
    }
    Ok(raw.to_lowercase())
}

/// The shape check GoTrue's checkmail does: `local@domain.tld`, printable, no spaces.
fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// Parses a ban duration the way Go's `time.ParseDuration` does ("24h", "1h30m", "90s", "0"),
/// or "none" for lifting a ban.
pub fn ban_duration(raw: &str) -> AuthResult<Duration> {
    if raw == "none" || raw == "0" {
        return Ok(Duration::ZERO);
    }
    go_duration(raw).ok_or_else(|| {
        AuthError::validation(format!(
            "invalid format for ban duration: time: invalid duration \"{raw}\""
        ))
    })
}

/// A Go duration (`time.ParseDuration`): number-unit pairs, units `ns`, `us`, `ms`, `s`, `m`,
/// `h`, as GoTrue reads its settings and parameters.
pub fn go_duration(raw: &str) -> Option<Duration> {
    let mut rest = raw;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    total.is_finite().then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email("Ann@Example.COM").unwrap(), "ann@example.com");
        assert_eq!(
            email("a.b+tag@sub.example.org").unwrap(),
            "a.b+tag@sub.example.org"
        );
        for bad in [
            "",
            "plain",
            "a@b",
            "a b@example.com",
            "@example.com",
            "a@.com",
            "a@example..com",
        ] {
            let e = email(bad).unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.error_code),
                (400, "validation_failed"),
                "{bad}"
            );
        }
    }

    #[test]
    fn ban_durations() {
        assert_eq!(ban_duration("none").unwrap(), Duration::ZERO);
        assert_eq!(ban_duration("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(ban_duration("1h30m").unwrap(), Duration::from_secs(5_400));
        assert_eq!(ban_duration("1.5s").unwrap(), Duration::from_millis(1_500));
        for bad in ["", "10", "5 days", "h", "1x"] {
            assert!(ban_duration(bad).is_err(), "{bad}");
        }
    }
}
