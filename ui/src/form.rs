//! The filter controls. They hold only what the agent set by hand; where a control is unset,
//! it shows what the parser read from the typed text, and the search applies that. Controls
//! win over the text, as in the core.

use roost_api::money::{format_amount_short, minor_unit_exponent};
use roost_api::search::{Bounds, Filters, PriceRange};

use crate::format::{beds, capitalise};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterForm {
    pub price_min: String,
    pub price_max: String,
    pub beds_min: Option<u16>,
    pub beds_max: Option<u16>,
    pub baths_min: Option<f32>,
    pub property_type: String,
    pub community: String,
    pub size_min: String,
    pub size_max: String,
}

impl FilterForm {
    pub fn is_empty(&self) -> bool {
        *self == FilterForm::default()
    }

    /// The filters these controls set; a control that cannot be read names itself.
    pub fn to_filters(&self, currency: &str) -> Result<Filters, String> {
        let min = parse_amount(&self.price_min, currency).map_err(|e| format!("Min price: {e}"))?;
        let max = parse_amount(&self.price_max, currency).map_err(|e| format!("Max price: {e}"))?;
        let size_min = parse_size(&self.size_min).map_err(|e| format!("Min size: {e}"))?;
        let size_max = parse_size(&self.size_max).map_err(|e| format!("Max size: {e}"))?;
        let list = |s: &str| {
            if s.trim().is_empty() {
                vec![]
            } else {
                vec![s.trim().to_string()]
            }
        };
        Ok(Filters {
            price: (min.is_some() || max.is_some()).then(|| PriceRange {
                currency: currency.to_string(),
                min_minor: min,
                max_minor: max,
            }),
            bedrooms: Bounds {
                min: self.beds_min,
                max: self.beds_max,
            },
            bathrooms_min: self.baths_min,
            property_types: list(&self.property_type),
            communities: list(&self.community),
            size_sqft: Bounds {
                min: size_min,
                max: size_max,
            },
            ..Filters::default()
        })
    }
}

/// `4M`, `4 m`, `4 million`, `800k`, `1,200,000`, `1.2m` → minor units of `currency`.
pub fn parse_amount(text: &str, currency: &str) -> Result<Option<i64>, String> {
    let t = text.trim().to_lowercase().replace([',', ' '], "");
    let t = t.trim_start_matches(&currency.to_lowercase()).to_string();
    if t.is_empty() {
        return Ok(None);
    }
    let (number, factor) = if let Some(n) = t.strip_suffix("million") {
        (n, 1e6)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 1e6)
    } else if let Some(n) = t.strip_suffix('k') {
        (n, 1e3)
    } else if let Some(n) = t.strip_suffix('b') {
        (n, 1e9)
    } else {
        (t.as_str(), 1.0)
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("“{}” is not an amount (e.g. 850k, 1.2M)", text.trim()))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("“{}” is not an amount", text.trim()));
    }
    let minor = value * factor * 10f64.powi(minor_unit_exponent(currency) as i32);
    Ok(Some(minor.round() as i64))
}

fn parse_size(text: &str) -> Result<Option<f64>, String> {
    let t = text.trim().replace(',', "");
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        _ => Err(format!("“{}” is not a size in sq ft", text.trim())),
    }
}

/// The applied filters as short chips: `3 beds`, `Villa`, `≤ AED 4M`.
pub fn chips(f: &Filters) -> Vec<String> {
    let mut out = vec![];
    match (f.bedrooms.min, f.bedrooms.max) {
        (Some(a), Some(b)) if a == b => out.push(beds(a)),
        (Some(a), Some(b)) => out.push(format!("{a}–{b} beds")),
        (Some(a), None) => out.push(format!("{a}+ beds")),
        (None, Some(b)) => out.push(format!("≤ {b} beds")),
        (None, None) => {}
    }
    if let Some(b) = f.bathrooms_min {
        out.push(format!("{b}+ baths"));
    }
    out.extend(f.property_types.iter().map(|t| capitalise(t)));
    out.extend(f.communities.iter().cloned());
    if let Some(p) = &f.price {
        let show = |m: i64| format_amount_short(m, &p.currency);
        match (p.min_minor, p.max_minor) {
            (Some(a), Some(b)) => out.push(format!("{} – {}", show(a), show(b))),
            (Some(a), None) => out.push(format!("≥ {}", show(a))),
            (None, Some(b)) => out.push(format!("≤ {}", show(b))),
            (None, None) => {}
        }
    }
    match (f.size_sqft.min, f.size_sqft.max) {
        (Some(a), Some(b)) => out.push(format!("{a:.0}–{b:.0} sq ft")),
        (Some(a), None) => out.push(format!("≥ {a:.0} sq ft")),
        (None, Some(b)) => out.push(format!("≤ {b:.0} sq ft")),
        (None, None) => {}
    }
    out.extend(f.statuses.iter().map(|s| capitalise(s)));
    if let Some(furnished) = f.furnished {
        out.push(
            if furnished {
                "Furnished"
            } else {
                "Unfurnished"
            }
            .into(),
        );
    }
    out.extend(f.attributes.iter().map(|(k, v)| format!("{k}: {v}")));
    out
}

/// What an unset price control shows when the text set that bound: `4M`.
pub fn amount_hint(minor: Option<i64>, currency: &str) -> String {
    match minor {
        Some(m) => format_amount_short(m, currency)
            .trim_start_matches(currency)
            .trim()
            .to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_with_shorthands() {
        let aed = |t| parse_amount(t, "AED").unwrap();
        assert_eq!(aed("4M"), Some(400_000_000));
        assert_eq!(aed("4 million"), Some(400_000_000));
        assert_eq!(aed("1.2m"), Some(120_000_000));
        assert_eq!(aed("850k"), Some(85_000_000));
        assert_eq!(aed("1,200,000"), Some(120_000_000));
        assert_eq!(aed("AED 2M"), Some(200_000_000));
        assert_eq!(aed("  "), None);
        assert_eq!(parse_amount("5000", "JPY").unwrap(), Some(5000));
        assert!(parse_amount("four", "AED").unwrap_err().contains("four"));
        assert!(parse_amount("-3", "AED").is_err());
    }

    #[test]
    fn controls_become_filters_and_name_a_bad_field() {
        let form = FilterForm {
            price_max: "2M".into(),
            beds_min: Some(3),
            beds_max: Some(3),
            community: "Arabian Ranches".into(),
            ..FilterForm::default()
        };
        let f = form.to_filters("AED").unwrap();
        assert_eq!(f.price.as_ref().unwrap().max_minor, Some(200_000_000));
        assert_eq!(f.price.as_ref().unwrap().min_minor, None);
        assert_eq!(f.bedrooms.min, Some(3));
        assert_eq!(f.communities, vec!["Arabian Ranches".to_string()]);
        assert!(f.property_types.is_empty());
        let bad = FilterForm {
            size_min: "big".into(),
            ..FilterForm::default()
        };
        assert!(bad.to_filters("AED").unwrap_err().starts_with("Min size"));
        assert!(FilterForm::default().to_filters("AED").unwrap().is_empty());
    }

    #[test]
    fn chips_read_like_the_query() {
        let f = Filters {
            bedrooms: Bounds {
                min: Some(3),
                max: Some(3),
            },
            property_types: vec!["villa".into()],
            communities: vec!["Arabian Ranches".into()],
            price: Some(PriceRange {
                currency: "AED".into(),
                min_minor: None,
                max_minor: Some(400_000_000),
            }),
            ..Filters::default()
        };
        assert_eq!(
            chips(&f),
            vec!["3 beds", "Villa", "Arabian Ranches", "≤ AED 4M"]
        );
        assert_eq!(amount_hint(Some(400_000_000), "AED"), "4M");
        assert_eq!(amount_hint(None, "AED"), "");
    }
}
