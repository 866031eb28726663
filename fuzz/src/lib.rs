//! What the fuzz targets share: a tiny executor, one-edit mutations, and the database's own
//! column checks restated in Rust, so a target can assert that whatever a function's validation
//! lets through is also something Postgres will store (a value that passes validation and is
//! then refused by the database becomes a 500, which senders retry forever, instead of a 400).
#![forbid(unsafe_code)]

use std::future::Future;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use serde_json::Value;

/// Drives a future that never waits for anything outside it (fixed JWKS fetchers).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// One edit of `original` chosen by `u`: flip a bit, replace, insert or delete a byte,
/// truncate, or swap two bytes. Returns `None` when the edit gave back the original bytes.
pub fn mutate_bytes(original: &[u8], u: &mut Unstructured<'_>) -> Result<Option<Vec<u8>>> {
    let mut bytes = original.to_vec();
    if bytes.is_empty() {
        bytes.push(u.arbitrary()?);
    } else {
        let at = u.choose_index(bytes.len())?;
        match u.int_in_range(0..=5u8)? {
            0 => bytes[at] ^= 1 << u.int_in_range(0..=7u8)?,
            1 => bytes[at] = u.arbitrary()?,
            2 => bytes.insert(at, u.arbitrary()?),
            3 => {
                bytes.remove(at);
            }
            4 => bytes.truncate(at),
            _ => {
                let other = u.choose_index(bytes.len())?;
                bytes.swap(at, other);
            }
        }
    }
    Ok((bytes != original).then_some(bytes))
}

/// [`mutate_bytes`] for text; an edit that breaks UTF-8 is repaired lossily (still an edit).
pub fn mutate(original: &str, u: &mut Unstructured<'_>) -> Result<Option<String>> {
    Ok(mutate_bytes(original.as_bytes(), u)?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .filter(|text| text != original))
}

/// Postgres `text` cannot hold U+0000 (and `jsonb` refuses `\u0000`).
pub fn pg_text_ok(text: &str) -> bool {
    !text.contains('\0')
}

/// Every string and key of a JSON value can be stored in `jsonb`.
pub fn pg_jsonb_ok(value: &Value) -> bool {
    match value {
        Value::String(s) => pg_text_ok(s),
        Value::Array(items) => items.iter().all(pg_jsonb_ok),
        Value::Object(map) => map.iter().all(|(k, v)| pg_text_ok(k) && pg_jsonb_ok(v)),
        _ => true,
    }
}

/// `value ~ '^https?://'`: the check on every stored URL column.
pub fn pg_http_url_prefix_ok(value: &str) -> bool {
    value.starts_with("http://") || value.starts_with("https://")
}

/// `visitor.landing_url ~ '^https?://[^\s]+$'` and `char_length <= 2048`.
pub fn pg_landing_url_ok(value: &str) -> bool {
    pg_http_url_prefix_ok(value)
        && value.len() > value.find("://").map_or(0, |i| i + 3)
        && !value.chars().any(char::is_whitespace)
        && value.chars().count() <= 2048
        && pg_text_ok(value)
}

/// `visitor.referrer_host ~ '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$'`, at most 253
/// characters.
pub fn pg_referrer_host_ok(value: &str) -> bool {
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (value, None),
    };
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = host.as_bytes();
    let host_ok = !bytes.is_empty()
        && edge(bytes[0])
        && edge(bytes[bytes.len() - 1])
        && bytes.iter().all(|&b| edge(b) || b == b'.' || b == b'-');
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok && value.chars().count() <= 253
}
