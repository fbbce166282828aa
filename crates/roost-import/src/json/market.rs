//! Market intelligence: figures per area, period and kind of home, shaped for
//! what agents ask ("what did 2-beds in JVC sell for per sqft last quarter?").

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::de::{Bedrooms, Money, Percent};
use super::{ItemProblems, ParsedItems, envelope, typed};
use crate::error::FileError;
use crate::options::ImportOptions;
use crate::values::{Currency, Period, Price};

/// One market figure set. Amounts are exact minor units with their currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarketRecord {
    /// 0-based position in the file's array.
    pub index: usize,
    /// Community or area, as written.
    pub area: String,
    pub city: Option<String>,
    pub period: Option<Period>,
    pub property_type: Option<String>,
    /// `Some(0)` is studios; `None` is all sizes together.
    pub bedrooms: Option<u16>,
    /// Median sale price.
    pub median_price: Option<Price>,
    pub median_price_per_sqft: Option<Price>,
    /// Average rent as the source states it (annual in most Gulf markets).
    pub average_rent: Option<Price>,
    pub gross_yield_pct: Option<f64>,
    /// Number of sales in the period.
    pub transactions: Option<u32>,
    /// Change of the median price against the previous period, in percent.
    pub price_change_pct: Option<f64>,
    pub days_on_market: Option<u32>,
    pub notes: Option<String>,
    pub source: Option<String>,
    /// One sentence with every figure, for search and embedding.
    pub text: String,
}

/// An item as written. Unknown keys are errors so that a typo such as
/// `median_prize` is not silently dropped.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    #[serde(alias = "community")]
    area: String,
    city: Option<String>,
    period: Option<super::de::JsonPeriod>,
    #[serde(alias = "type")]
    property_type: Option<String>,
    #[serde(alias = "beds")]
    bedrooms: Option<Bedrooms>,
    median_price: Option<Money>,
    currency: Option<Currency>,
    median_price_per_sqft: Option<Money>,
    average_rent: Option<Money>,
    gross_yield_pct: Option<Percent>,
    transactions: Option<u32>,
    price_change_pct: Option<Percent>,
    days_on_market: Option<u32>,
    notes: Option<String>,
    source: Option<String>,
}

/// Document-wide defaults beside the `items` array.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Defaults {
    currency: Option<Currency>,
    source: Option<String>,
}

pub(crate) fn parse(
    bytes: &[u8],
    file_name: &str,
    opts: &ImportOptions,
) -> Result<ParsedItems<MarketRecord>, FileError> {
    let env = envelope(bytes, file_name, opts, "items", &["currency", "source"])?;
    let defaults: Defaults =
        typed(Value::Object(env.settings), "$").map_err(|(path, reason)| FileError {
            file: file_name.to_string(),
            kind: crate::error::FileErrorKind::Json { path, reason },
        })?;
    let currency = defaults.currency.or(opts.default_currency);
    let items_read = env.items.len();
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for (index, value) in env.items.into_iter().enumerate() {
        match build(
            index,
            value,
            &env.prefix,
            currency,
            defaults.source.as_deref(),
        ) {
            Ok(record) => records.push(record),
            Err(mut e) => errors.append(&mut e),
        }
    }
    Ok(ParsedItems {
        records,
        errors,
        items_read,
    })
}

fn build(
    index: usize,
    value: Value,
    prefix: &str,
    default_currency: Option<Currency>,
    default_source: Option<&str>,
) -> Result<MarketRecord, Vec<crate::error::ItemError>> {
    let mut p = ItemProblems::new(prefix, index);
    let raw: RawItem = match typed(value, &p.base) {
        Ok(raw) => raw,
        Err((path, reason)) => {
            p.add_at(path, reason);
            return Err(p.errors);
        }
    };
    let area = one_line(&raw.area);
    if area.is_empty() {
        p.add(Some("area"), "area is required");
    }
    let currency = raw.currency.or(default_currency);
    let mut money = |name: &str, m: Option<Money>| -> Option<Price> {
        let m = m?;
        let resolved = match (m.0.currency, raw.currency) {
            (Some(a), Some(b)) if a != b => {
                Err(format!("amount is in {a} but the item's currency is {b}"))
            }
            (stated, _) => stated
                .or(currency)
                .ok_or_else(|| {
                    "amount has no currency; add \"currency\" to the item or the document"
                        .to_string()
                })
                .and_then(|c| Price::new(m.0.amount, c)),
        };
        resolved.map_err(|reason| p.add(Some(name), reason)).ok()
    };
    let median_price = money("median_price", raw.median_price);
    let median_price_per_sqft = money("median_price_per_sqft", raw.median_price_per_sqft);
    let average_rent = money("average_rent", raw.average_rent);

    let yield_pct = raw.gross_yield_pct.map(|x| x.0);
    if yield_pct.is_some_and(|y| !(0.0..=100.0).contains(&y)) {
        p.add(
            Some("gross_yield_pct"),
            "gross yield must be between 0 and 100 percent",
        );
    }
    let change_pct = raw.price_change_pct.map(|x| x.0);
    if change_pct.is_some_and(|c| !(-100.0..=1000.0).contains(&c)) {
        p.add(
            Some("price_change_pct"),
            "price change must be between -100 and 1000 percent",
        );
    }
    if !p.errors.is_empty() {
        return Err(p.errors);
    }

    let mut record = MarketRecord {
        index,
        area,
        city: raw.city.as_deref().map(one_line).filter(|s| !s.is_empty()),
        period: raw.period.map(|p| p.0),
        property_type: raw
            .property_type
            .as_deref()
            .map(one_line)
            .filter(|s| !s.is_empty()),
        bedrooms: raw.bedrooms.map(|b| b.0),
        median_price,
        median_price_per_sqft,
        average_rent,
        gross_yield_pct: yield_pct,
        transactions: raw.transactions,
        price_change_pct: change_pct,
        days_on_market: raw.days_on_market,
        notes: raw
            .notes
            .map(|n| n.trim().to_string())
            .filter(|s| !s.is_empty()),
        source: raw
            .source
            .or_else(|| default_source.map(str::to_string))
            .map(|s| one_line(&s))
            .filter(|s| !s.is_empty()),
        text: String::new(),
    };
    record.text = summary(&record);
    Ok(record)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// E.g. "Jumeirah Village Circle, Dubai, Q3 2026, 2-bedroom apartments: median
/// sale price AED 1,150,000; median AED 1,210 per sq ft; …".
pub(crate) fn summary(r: &MarketRecord) -> String {
    let mut subject = vec![r.area.clone()];
    subject.extend(r.city.clone());
    subject.extend(r.period.as_ref().map(Period::describe));
    let kind = match (r.bedrooms, r.property_type.as_deref()) {
        (Some(0), Some(t)) => Some(format!("studio {}", t.to_lowercase())),
        (Some(0), None) => Some("studios".to_string()),
        (Some(b), Some(t)) => Some(format!("{b}-bedroom {}", t.to_lowercase())),
        (Some(b), None) => Some(format!("{b}-bedroom homes")),
        (None, Some(t)) => Some(t.to_lowercase()),
        (None, None) => None,
    };
    subject.extend(kind);

    let mut facts: Vec<String> = Vec::new();
    if let Some(p) = r.median_price {
        facts.push(format!("median sale price {p}"));
    }
    if let Some(p) = r.median_price_per_sqft {
        facts.push(format!("median {p} per sq ft"));
    }
    if let Some(p) = r.average_rent {
        facts.push(format!("average rent {p}"));
    }
    if let Some(y) = r.gross_yield_pct {
        facts.push(format!("gross yield {}%", number(y)));
    }
    if let Some(t) = r.transactions {
        let noun = if t == 1 { "sale" } else { "sales" };
        facts.push(format!("{t} {noun}"));
    }
    if let Some(c) = r.price_change_pct {
        facts.push(if c > 0.0 {
            format!("prices up {}% on the previous period", number(c))
        } else if c < 0.0 {
            format!("prices down {}% on the previous period", number(-c))
        } else {
            "prices unchanged on the previous period".to_string()
        });
    }
    if let Some(d) = r.days_on_market {
        facts.push(format!("{d} days on market"));
    }

    let mut text = subject.join(", ");
    if facts.is_empty() {
        text.push('.');
    } else {
        text.push_str(": ");
        text.push_str(&facts.join("; "));
        text.push('.');
    }
    if let Some(notes) = &r.notes {
        text.push(' ');
        text.push_str(&one_line(notes));
        if !notes.ends_with(['.', '!', '?']) {
            text.push('.');
        }
    }
    if let Some(source) = &r.source {
        text.push_str(&format!(" Source: {source}."));
    }
    text
}

/// `7.4`, `3`, `0.25`: at most two decimals, no trailing zeros.
fn number(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
