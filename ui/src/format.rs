//! How listings read on screen: prices in the listing's currency, sizes in the unit the company
//! uses, counts and times in words.

use roost_api::Millis;
use roost_api::listings::{Area, AreaUnit, Listing, Price};
use roost_api::money::{format_amount, format_amount_short, group_thousands};

pub fn price(p: &Price) -> String {
    format_amount(p.amount_minor, &p.currency)
}

pub fn price_short(p: &Price) -> String {
    format_amount_short(p.amount_minor, &p.currency)
}

/// `1,250 sq ft` or `116 m²`, in the unit the listing was given in.
pub fn area(a: &Area) -> String {
    let value = group_thousands(a.value.round().max(0.0) as u64);
    match a.unit {
        AreaUnit::Sqft => format!("{value} sq ft"),
        AreaUnit::Sqm => format!("{value} m²"),
    }
}

/// `Studio`, `1 bed`, `3 beds`.
pub fn beds(n: u16) -> String {
    match n {
        0 => "Studio".into(),
        1 => "1 bed".into(),
        n => format!("{n} beds"),
    }
}

/// `1 bath`, `2.5 baths`.
pub fn baths(n: f32) -> String {
    let text = if n.fract() == 0.0 {
        format!("{}", n as u32)
    } else {
        format!("{n:.1}")
    };
    if n == 1.0 {
        "1 bath".into()
    } else {
        format!("{text} baths")
    }
}

/// The facts line of a card: `3 beds · 4 baths · 2,400 sq ft`.
pub fn facts(l: &Listing) -> String {
    let mut parts = vec![];
    if let Some(b) = l.bedrooms {
        parts.push(beds(b));
    }
    if let Some(b) = l.bathrooms {
        parts.push(baths(b));
    }
    if let Some(a) = &l.size {
        parts.push(area(a));
    }
    parts.join(" · ")
}

/// `Villa in Arabian Ranches, Dubai`.
pub fn place(l: &Listing) -> String {
    let where_ = [l.community.as_deref(), l.city.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    match (l.property_type.as_deref(), where_.is_empty()) {
        (Some(t), false) => format!("{} in {where_}", capitalise(t)),
        (Some(t), true) => capitalise(t),
        (None, _) => where_,
    }
}

pub fn title(l: &Listing) -> String {
    l.title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| place(l))
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `just now`, `5 min ago`, `3 h ago`, `2 days ago`.
pub fn ago(then: Millis, now: Millis) -> String {
    let secs = (now - then).max(0) / 1000;
    match secs {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        86_400..=172_799 => "yesterday".into(),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// `512 KB`, `3.4 MB`.
pub fn bytes(n: u64) -> String {
    const KB: f64 = 1024.0;
    let n = n as f64;
    if n < KB {
        format!("{n} B")
    } else if n < KB * KB {
        format!("{:.0} KB", n / KB)
    } else if n < KB * KB * KB {
        format!("{:.1} MB", n / KB / KB)
    } else {
        format!("{:.2} GB", n / KB / KB / KB)
    }
}

/// `1 listing`, `2,345 listings`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", group_thousands(n))
    }
}

/// The fields of a record's free-form data (`{"price_per_sqft": 1450, "areas": ["JVC"]}`) as
/// rows for people: `Price per sqft` / `1450`, `Areas` / `JVC`. Empty values are left out.
pub fn data_rows(data: &serde_json::Value) -> Vec<(String, String)> {
    use serde_json::Value;
    fn words(v: &Value) -> String {
        match v {
            Value::Null => String::new(),
            Value::String(s) => s.trim().to_string(),
            Value::Bool(b) => if *b { "Yes" } else { "No" }.into(),
            Value::Number(n) => n.to_string(),
            Value::Array(items) => items
                .iter()
                .map(words)
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            Value::Object(_) => v.to_string(),
        }
    }
    let Value::Object(map) = data else {
        let w = words(data);
        return if w.is_empty() {
            vec![]
        } else {
            vec![("Details".into(), w)]
        };
    };
    map.iter()
        .map(|(k, v)| (capitalise(&k.replace('_', " ")), words(v)))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_reads_as_rows() {
        let data = serde_json::json!({
            "price_per_sqft": 1450, "areas": ["JVC", "", "JLT"], "notes": " ", "ready": true, "x": null
        });
        assert_eq!(
            data_rows(&data),
            vec![
                ("Areas".to_string(), "JVC, JLT".to_string()),
                ("Price per sqft".to_string(), "1450".to_string()),
                ("Ready".to_string(), "Yes".to_string()),
            ]
        );
        assert!(data_rows(&serde_json::Value::Null).is_empty());
    }

    #[test]
    fn prices_follow_the_currency() {
        let p = Price {
            amount_minor: 245_000_000,
            currency: "AED".into(),
        };
        assert_eq!(price(&p), "AED 2,450,000");
        assert_eq!(price_short(&p), "AED 2.45M");
        let p = Price {
            amount_minor: 95_000_000,
            currency: "JPY".into(),
        };
        assert_eq!(price(&p), "JPY 95,000,000");
    }

    #[test]
    fn sizes_keep_their_unit() {
        assert_eq!(area(&Area::new(2400.4, AreaUnit::Sqft)), "2,400 sq ft");
        assert_eq!(area(&Area::new(116.0, AreaUnit::Sqm)), "116 m²");
    }

    #[test]
    fn rooms() {
        assert_eq!(beds(0), "Studio");
        assert_eq!(beds(1), "1 bed");
        assert_eq!(beds(4), "4 beds");
        assert_eq!(baths(1.0), "1 bath");
        assert_eq!(baths(2.5), "2.5 baths");
        assert_eq!(baths(3.0), "3 baths");
    }

    #[test]
    fn times_and_sizes_in_words() {
        assert_eq!(ago(0, 30_000), "just now");
        assert_eq!(ago(0, 5 * 60_000), "5 min ago");
        assert_eq!(ago(0, 3 * 3_600_000), "3 h ago");
        assert_eq!(ago(0, 30 * 3_600_000), "yesterday");
        assert_eq!(ago(0, 5 * 86_400_000), "5 days ago");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 * 1024 * 1024 + 400_000), "3.4 MB");
        assert_eq!(count(1, "listing", "listings"), "1 listing");
        assert_eq!(count(2345, "listing", "listings"), "2,345 listings");
    }
}
