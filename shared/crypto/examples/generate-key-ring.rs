//! Prints a new key-ring secret with one random key, for `wrangler secret put ENCRYPTION_KEY_RING`.
//!
//! ```sh
//! cargo run -p edge-crypto --example generate-key-ring -- 2025-06
//! ```
//!
//! To rotate, generate a key under a new id and splice it into the existing ring as the active
//! one: `v1;active=<new>;<old>=…;<new>=…`.

use std::process::ExitCode;

use edge_crypto::KeyRing;

fn main() -> ExitCode {
    let key_id = std::env::args().nth(1).unwrap_or_else(|| "k1".to_owned());
    match KeyRing::generate_secret(&key_id) {
        Ok(secret) => {
            println!("{}", secret.as_str());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("generate-key-ring: {err}");
            ExitCode::FAILURE
        }
    }
}
