//! How long a request's statement may run: the `statement_timeout` in effect for it, read from
//! the settings devstack applies (the function's, else the role's, else `authenticator`'s,
//! else the server's global), so that devstack can bound the wait on its side too — Postgres
//! cancels a slow statement itself, but a frozen server cancels nothing.

use std::time::Duration;

use crate::postgres::GLOBAL_STATEMENT_TIMEOUT_MS;

/// What is left to the client side after the server's own limit: the error the server sends
/// when it cancels takes a moment to arrive, and the transaction has statements around the
/// main one.
pub const CLIENT_GRACE: Duration = Duration::from_secs(2);

/// The last `statement_timeout` among `layers`, each a list of settings applied after the one
/// before; the global limit when none sets one, or when the one in effect is 0 (no limit on
/// the server, but devstack still answers within the global limit).
pub fn in_effect<'a>(layers: impl IntoIterator<Item = &'a [(String, String)]>) -> Duration {
    let global = Duration::from_millis(GLOBAL_STATEMENT_TIMEOUT_MS);
    let mut effective = global;
    for layer in layers {
        for (name, value) in layer {
            if name == "statement_timeout"
                && let Some(limit) = parse_milliseconds(value)
            {
                effective = limit;
            }
        }
    }
    if effective.is_zero() {
        global
    } else {
        effective
    }
}

/// A time setting as Postgres reads it: a number, optionally followed by a unit (`us`, `ms`,
/// `s`, `min`, `h`, `d`), milliseconds when there is none; quotes around it are allowed.
fn parse_milliseconds(value: &str) -> Option<Duration> {
    let value = value.trim().trim_matches('\'').trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let millis_per_unit = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    let millis = number * millis_per_unit;
    (millis.is_finite() && millis >= 0.0).then(|| Duration::from_secs_f64(millis / 1_000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn postgres_time_units() {
        let ms = |v| parse_milliseconds(v).map(|d| d.as_millis());
        assert_eq!(ms("3s"), Some(3_000));
        assert_eq!(ms("8s"), Some(8_000));
        assert_eq!(ms("2min"), Some(120_000));
        assert_eq!(ms("120000"), Some(120_000));
        assert_eq!(ms("250ms"), Some(250));
        assert_eq!(ms("1.5s"), Some(1_500));
        assert_eq!(ms("'10s'"), Some(10_000));
        assert_eq!(ms("1 h"), Some(3_600_000));
        assert_eq!(ms("0"), Some(0));
        assert_eq!(ms("soon"), None);
        assert_eq!(ms("5 fortnights"), None);
    }

    #[test]
    fn the_function_wins_over_the_role_which_wins_over_authenticator() {
        let authenticator = settings(&[("statement_timeout", "8s")]);
        let anon = settings(&[("statement_timeout", "3s")]);
        let function = settings(&[("statement_timeout", "12s")]);
        let none: Vec<(String, String)> = Vec::new();
        assert_eq!(in_effect([&authenticator[..]]), Duration::from_secs(8));
        assert_eq!(
            in_effect([&authenticator[..], &anon[..]]),
            Duration::from_secs(3)
        );
        assert_eq!(
            in_effect([&authenticator[..], &anon[..], &function[..]]),
            Duration::from_secs(12)
        );
        assert_eq!(
            in_effect([&none[..]]),
            Duration::from_millis(GLOBAL_STATEMENT_TIMEOUT_MS)
        );
        let unlimited = settings(&[("statement_timeout", "0")]);
        assert_eq!(
            in_effect([&anon[..], &unlimited[..]]),
            Duration::from_millis(GLOBAL_STATEMENT_TIMEOUT_MS)
        );
    }
}
