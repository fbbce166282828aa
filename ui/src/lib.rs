//! The Roost UI. The Leptos app arrives with the desktop-app issue; for now this crate holds
//! the branding logic it will use, so the wasm build of the shared types is exercised.

use roost_api::config::parse_hex_color;

/// The text color (`#000000` or `#FFFFFF`) that reads best on a tenant's brand color, by WCAG
/// relative luminance. Falls back to white text for an unparsable color.
pub fn readable_text_color(background: &str) -> &'static str {
    let Some(rgb) = parse_hex_color(background) else {
        return "#FFFFFF";
    };
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
    // Contrast with black is (l + 0.05) / 0.05, with white 1.05 / (l + 0.05); pick the larger.
    if (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) {
        "#000000"
    } else {
        "#FFFFFF"
    }
}

#[cfg(test)]
mod tests {
    use super::readable_text_color;

    #[test]
    fn picks_contrasting_text() {
        assert_eq!(readable_text_color("#1F4E79"), "#FFFFFF");
        assert_eq!(readable_text_color("#F2A900"), "#000000");
        assert_eq!(readable_text_color("#FFFFFF"), "#000000");
        assert_eq!(readable_text_color("#000"), "#FFFFFF");
    }
}
