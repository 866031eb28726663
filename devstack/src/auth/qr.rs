//! The QR code of a TOTP enrolment, as GoTrue answers it: an SVG document (auth-js turns it
//! into a `data:image/svg+xml` URI), error correction level H.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// GoTrue's `DefaultQRSize`.
const SIZE: u32 = 3;

pub fn svg(text: &str) -> String {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::H)
        .map(|code| {
            code.render::<svg::Color<'_>>()
                .module_dimensions(SIZE, SIZE)
                .build()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_otpauth_uri_renders_as_svg() {
        let svg = super::svg("otpauth://totp/x:y?secret=ABC");
        assert!(svg.starts_with("<?xml"), "{svg}");
        assert!(svg.contains("<svg"));
    }
}
