//! The tenant's colors as a theme: CSS custom properties, with text colors computed to stay
//! readable on whatever brand color a company picks.

use roost_api::config::parse_hex_color;

/// The text color (`#000000` or `#FFFFFF`) that reads best on a tenant's brand color, by WCAG
/// relative luminance. Falls back to white text for an unparsable color.
pub fn readable_text_color(background: &str) -> &'static str {
    let Some(rgb) = parse_hex_color(background) else {
        return "#FFFFFF";
    };
    let l = luminance(rgb);
    // Contrast with black is (l + 0.05) / 0.05, with white 1.05 / (l + 0.05); pick the larger.
    if (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) {
        "#000000"
    } else {
        "#FFFFFF"
    }
}

/// A brand color usable as text on white (links, active tab): the color itself when it has
/// 4.5:1 contrast with white (WCAG AA for text), else a darkened version of it.
pub fn readable_on_white(color: &str) -> String {
    let Some(mut rgb) = parse_hex_color(color) else {
        return "#1F4E79".into();
    };
    for _ in 0..20 {
        if contrast_with_white(rgb) >= 4.5 {
            break;
        }
        rgb = rgb.map(|c| (f64::from(c) * 0.85) as u8);
    }
    format!("#{:02X}{:02X}{:02X}", rgb[0], rgb[1], rgb[2])
}

fn luminance(rgb: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

fn contrast_with_white(rgb: [u8; 3]) -> f64 {
    1.05 / (luminance(rgb) + 0.05)
}

/// The CSS custom properties of a tenant's colors.
pub fn theme_css(primary: &str, secondary: &str) -> String {
    let primary = if parse_hex_color(primary).is_some() {
        primary
    } else {
        "#1F4E79"
    };
    let secondary = if parse_hex_color(secondary).is_some() {
        secondary
    } else {
        "#F2A900"
    };
    format!(
        "--brand:{primary};--brand-text:{};--brand-ink:{};--accent:{secondary};--accent-text:{};",
        readable_text_color(primary),
        readable_on_white(primary),
        readable_text_color(secondary),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brand_ink_is_readable_on_white() {
        for color in [
            "#FFD700", "#F2A900", "#00FF00", "#1F4E79", "#FFFFFF", "#87CEEB",
        ] {
            let ink = readable_on_white(color);
            let rgb = parse_hex_color(&ink).unwrap();
            assert!(contrast_with_white(rgb) >= 4.5, "{color} -> {ink}");
        }
        assert_eq!(
            readable_on_white("#1F4E79"),
            "#1F4E79",
            "dark colors stay as they are"
        );
    }

    #[test]
    fn theme_falls_back_on_bad_colors() {
        let css = theme_css("nope", "#000000");
        assert!(
            css.starts_with("--brand:#1F4E79;--brand-text:#FFFFFF;"),
            "{css}"
        );
        assert!(css.contains("--accent-text:#FFFFFF"), "{css}");
    }

    #[test]
    fn picks_contrasting_text() {
        assert_eq!(readable_text_color("#1F4E79"), "#FFFFFF");
        assert_eq!(readable_text_color("#F2A900"), "#000000");
        assert_eq!(readable_text_color("#FFFFFF"), "#000000");
        assert_eq!(readable_text_color("#000"), "#FFFFFF");
    }
}
