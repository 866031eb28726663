//! TOTP (RFC 6238) as GoTrue configures it: HMAC-SHA1, 6 digits, 30-second steps, one step of
//! skew either way; secrets of 20 random bytes, written in base32 (RFC 4648, no padding).

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A fresh secret, base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut bytes);
    base32(&bytes)
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(char::from(BASE32[((bits >> (35 - 5 * i)) & 31) as usize]));
        }
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits: u64 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let value = BASE32.iter().position(|&b| b == c.to_ascii_uppercase())? as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

/// The code for one time step (RFC 4226's dynamic truncation).
fn code_at(key: &[u8], step: u64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    format!(
        "{:0width$}",
        binary % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// Whether `code` is the secret's code at `unix_time`, give or take one step.
pub fn is_valid(secret: &str, code: &str, unix_time: i64) -> bool {
    let Some(key) = base32_decode(secret) else {
        return false;
    };
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let step = unix_time.div_euclid(STEP_SECS);
    (step - 1..=step + 1)
        .filter_map(|s| u64::try_from(s).ok())
        .any(|s| code_at(&key, s) == code)
}

/// The `otpauth://` URI authenticator apps read (the QR code's content).
pub fn uri(issuer: &str, account: &str, secret: &str) -> String {
    let label: String =
        url::form_urlencoded::byte_serialize(format!("{issuer}:{account}").as_bytes())
            .collect::<String>()
            .replace("%3A", ":");
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", "6")
        .append_pair("issuer", issuer)
        .append_pair("period", "30")
        .append_pair("secret", secret);
    format!("otpauth://totp/{label}?{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vectors() {
        // RFC 6238 appendix B (SHA1 key "12345678901234567890"), last six of the eight digits.
        let key = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(key, time / 30), code);
        }
        let secret = base32(key);
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(is_valid(&secret, "287082", 59));
        assert!(is_valid(&secret, "287082", 59 + 30), "one step of skew");
        assert!(!is_valid(&secret, "287082", 59 + 90));
        assert!(!is_valid(&secret, "28708", 59));
        assert!(!is_valid(&secret, "abcdef", 59));
    }

    #[test]
    fn secrets_round_trip() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        assert_eq!(base32_decode(&secret).unwrap().len(), 20);
        assert_eq!(
            uri("app.example.com", "ann@example.com", "ABC"),
            "otpauth://totp/app.example.com:ann%40example.com?algorithm=SHA1&digits=6&issuer=app.example.com&period=30&secret=ABC"
        );
    }
}
