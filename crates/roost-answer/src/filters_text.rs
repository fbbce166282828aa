//! Filters in words, for lead sentences and the UI.

use roost_api::money::{format_amount_short, group_thousands};
use roost_api::search::{Bounds, Filters};

/// Separator between conditions.
const SEP: &str = " · ";

/// `3 bedrooms · Dubai Marina · under AED 2.5M`; empty for no filters. Bounds are inclusive;
/// the words follow how agents say them. Price comes last, as agents say it.
pub fn describe_filters(f: &Filters) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(bedrooms(&f.bedrooms));
    if let Some(b) = f.bathrooms_min {
        parts.push(format!("{}+ bathrooms", decimal(f64::from(b))));
    }
    parts.extend(any_of(&f.property_types));
    parts.extend(any_of(&f.communities));
    parts.extend(any_of(&f.statuses));
    parts.extend(size(&f.size_sqft));
    match f.furnished {
        Some(true) => parts.push("furnished".into()),
        Some(false) => parts.push("unfurnished".into()),
        None => {}
    }
    for (name, value) in &f.attributes {
        parts.push(format!("{}: {}", name.trim(), value.trim()));
    }
    if let Some(p) = &f.price {
        let money = |m: i64| format_amount_short(m, &p.currency);
        match (p.min_minor, p.max_minor) {
            (Some(a), Some(b)) if a == b => parts.push(money(a)),
            (Some(a), Some(b)) => parts.push(format!("between {} and {}", money(a), money(b))),
            (Some(a), None) => parts.push(format!("from {}", money(a))),
            (None, Some(b)) => parts.push(format!("under {}", money(b))),
            (None, None) => {}
        }
    }
    parts.join(SEP)
}

fn bedrooms(b: &Bounds<u16>) -> Option<String> {
    let beds = |n: u16| match n {
        0 => "studio".to_string(),
        1 => "1 bedroom".to_string(),
        n => format!("{n} bedrooms"),
    };
    Some(match (b.min, b.max) {
        (Some(a), Some(z)) if a == z => beds(a),
        (Some(0), Some(z)) => format!("studio to {}", beds(z)),
        (Some(a), Some(z)) => format!("{a}–{z} bedrooms"),
        (Some(a), None) => format!("{a}+ bedrooms"),
        (None, Some(0)) => "studio".to_string(),
        (None, Some(z)) => format!("up to {}", beds(z)),
        (None, None) => return None,
    })
}

fn size(b: &Bounds<f64>) -> Option<String> {
    let sqft = |v: f64| format!("{} sqft", group_thousands(v.max(0.0).round() as u64));
    Some(match (b.min, b.max) {
        (Some(a), Some(z)) => format!("{}–{}", sqft(a).trim_end_matches(" sqft"), sqft(z)),
        (Some(a), None) => format!("over {}", sqft(a)),
        (None, Some(z)) => format!("under {}", sqft(z)),
        (None, None) => return None,
    })
}

fn any_of(values: &[String]) -> Option<String> {
    let values: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    (!values.is_empty()).then(|| values.join(" or "))
}

/// `2`, `1.5`: no trailing zeros.
fn decimal(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use roost_api::search::PriceRange;

    fn price(min: Option<i64>, max: Option<i64>) -> Option<PriceRange> {
        Some(PriceRange {
            currency: "AED".into(),
            min_minor: min,
            max_minor: max,
        })
    }

    #[test]
    fn the_example() {
        let f = Filters {
            bedrooms: Bounds {
                min: Some(3),
                max: Some(3),
            },
            communities: vec!["Dubai Marina".into()],
            price: price(None, Some(250_000_000)),
            ..Filters::default()
        };
        assert_eq!(
            describe_filters(&f),
            "3 bedrooms · Dubai Marina · under AED 2.5M"
        );
    }

    #[test]
    fn table() {
        let cases: Vec<(Filters, &str)> = vec![
            (Filters::default(), ""),
            (
                Filters {
                    bedrooms: Bounds {
                        min: Some(0),
                        max: Some(0),
                    },
                    furnished: Some(true),
                    ..Filters::default()
                },
                "studio · furnished",
            ),
            (
                Filters {
                    bedrooms: Bounds {
                        min: Some(2),
                        max: None,
                    },
                    bathrooms_min: Some(1.5),
                    property_types: vec!["Villa".into(), "Townhouse".into()],
                    statuses: vec!["for rent".into()],
                    ..Filters::default()
                },
                "2+ bedrooms · 1.5+ bathrooms · Villa or Townhouse · for rent",
            ),
            (
                Filters {
                    bedrooms: Bounds {
                        min: None,
                        max: Some(1),
                    },
                    size_sqft: Bounds {
                        min: Some(1000.0),
                        max: Some(2500.0),
                    },
                    attributes: vec![("View".into(), "Sea".into())],
                    price: price(Some(100_000_000), Some(250_000_000)),
                    ..Filters::default()
                },
                "up to 1 bedroom · 1,000–2,500 sqft · View: Sea · between AED 1M and AED 2.5M",
            ),
            (
                Filters {
                    bedrooms: Bounds {
                        min: Some(2),
                        max: Some(4),
                    },
                    size_sqft: Bounds {
                        min: Some(1200.0),
                        max: None,
                    },
                    price: price(Some(85_000_000), None),
                    ..Filters::default()
                },
                "2–4 bedrooms · over 1,200 sqft · from AED 850K",
            ),
        ];
        for (f, want) in cases {
            assert_eq!(describe_filters(&f), want, "{f:?}");
        }
    }
}
