//! `cfg(webcrypto)`: ES256 signatures are checked by the runtime's WebCrypto (src/es256/).
//! Set only with the `webcrypto` feature on wasm32: there is no WebCrypto in a native build,
//! so native builds, `cargo test` and the fuzz targets keep p256 whatever features are on.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(webcrypto)");
    let feature = std::env::var_os("CARGO_FEATURE_WEBCRYPTO").is_some();
    let wasm32 = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    if feature && wasm32 {
        println!("cargo::rustc-cfg=webcrypto");
    }
}
