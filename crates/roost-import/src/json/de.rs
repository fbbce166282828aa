//! Lenient value types for JSON items: people write `"AED 1.2M"` or `1200000`,
//! `"6.5%"` or `6.5`. Each checks its value while deserialising, so a bad
//! value's error carries its JSON path.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::values::{
    Date, DateOrder, DecimalMark, ParsedPrice, Period, parse_bedrooms, parse_date, parse_decimal,
    parse_list, parse_period, parse_price,
};

/// A money amount, maybe with its currency: `"AED 1,150,000"`, `"1.2M"` or `1150000`.
#[derive(Debug, Clone, Copy)]
pub struct Money(pub ParsedPrice);

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount: a number or a string such as \"AED 1.2M\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
                parse_price(v, DecimalMark::Auto)
                    .map(Money)
                    .map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                if v < 0 {
                    return Err(E::custom("amount must be positive"));
                }
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
                if !v.is_finite() || v <= 0.0 {
                    return Err(E::custom("amount must be a positive number"));
                }
                // `{}` prints the shortest text that reads back as the same
                // float, so 1210.5 stays 1210.5 rather than 1210.499….
                let amount = parse_decimal(&plain_float(v), DecimalMark::Point)
                    .map_err(|e| E::custom(e.to_string()))?;
                Ok(Money(ParsedPrice {
                    amount,
                    currency: None,
                }))
            }
        }
        d.deserialize_any(V)
    }
}

/// A float as digits without an exponent (`1e21` → `1000000000000000000000`).
fn plain_float(v: f64) -> String {
    let s = v.to_string();
    if s.contains(['e', 'E']) {
        format!("{v:.0}")
    } else {
        s
    }
}

/// A percentage: `6.5`, `"6.5%"`, `"+3.2 %"`, `-1.5`.
#[derive(Debug, Clone, Copy)]
pub struct Percent(pub f64);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a percentage: a number such as 6.5 or a string such as \"6.5%\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent, E> {
                if v.is_finite() {
                    Ok(Percent(v))
                } else {
                    Err(E::custom("not a finite number"))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent, E> {
                Ok(Percent(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
                Ok(Percent(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Percent, E> {
                let t = v.trim();
                let t = t.strip_suffix('%').unwrap_or(t).trim();
                let t = t.strip_prefix('+').unwrap_or(t);
                match t.parse::<f64>() {
                    Ok(n) if n.is_finite() && !t.contains(['e', 'E', 'i', 'I', 'n', 'N']) => {
                        Ok(Percent(n))
                    }
                    _ => Err(E::custom(format!("not a percentage: {v:?}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A bedroom count: `2`, `"2"`, `"2BR"`, `"studio"` (0).
#[derive(Debug, Clone, Copy)]
pub struct Bedrooms(pub u16);

impl<'de> Deserialize<'de> for Bedrooms {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bedrooms;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a bedroom count such as 2 or \"studio\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bedrooms, E> {
                u16::try_from(v)
                    .ok()
                    .filter(|n| *n <= 50)
                    .map(Bedrooms)
                    .ok_or_else(|| E::custom(format!("{v} bedrooms is not plausible")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bedrooms, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom("bedrooms cannot be negative")),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bedrooms, E> {
                parse_bedrooms(v).map(Bedrooms).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A calendar date as a string, ISO preferred.
#[derive(Debug, Clone, Copy)]
pub struct JsonDate(pub Date);

impl<'de> Deserialize<'de> for JsonDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_date(&text, DateOrder::Auto)
            .map(JsonDate)
            .map_err(de::Error::custom)
    }
}

/// `"2026-Q3"`, `"2026-09"`, or `{ "from": "2026-07-01", "to": "2026-09-30" }`.
#[derive(Debug, Clone)]
pub struct JsonPeriod(pub Period);

impl<'de> Deserialize<'de> for JsonPeriod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsonPeriod;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a period such as \"2026-Q3\" or \"2026-09\", or {\"from\", \"to\"}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonPeriod, E> {
                parse_period(v).map(JsonPeriod).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonPeriod, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<JsonPeriod, A::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Range {
                    from: JsonDate,
                    to: JsonDate,
                }
                let r = Range::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Period::range(r.from.0, r.to.0)
                    .map(JsonPeriod)
                    .map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A list of short strings: `["English", "Arabic"]` or `"English, Arabic"`.
#[derive(Debug, Clone, Default)]
pub struct StringList(pub Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of strings or one comma-separated string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StringList, E> {
                Ok(StringList(parse_list(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StringList, A::Error> {
                let mut out: Vec<String> = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    let item = item.split_whitespace().collect::<Vec<_>>().join(" ");
                    if !item.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&item)) {
                        out.push(item);
                    }
                }
                Ok(StringList(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(json: &str) -> Result<(u128, u32, Option<&'static str>), String> {
        let m: Money = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Ok((
            m.0.amount.digits,
            m.0.amount.scale,
            m.0.currency.map(|c| c.code()),
        ))
    }

    #[test]
    fn amounts() {
        assert_eq!(money("1150000"), Ok((1_150_000, 0, None)));
        assert_eq!(money("1210.5"), Ok((12105, 1, None)));
        assert_eq!(money("\"AED 1.2M\""), Ok((1_200_000, 0, Some("AED"))));
        assert!(money("-5").is_err());
        assert!(money("true").is_err());
        assert!(money("\"lots\"").is_err());
        assert_eq!(plain_float(1e21), "1000000000000000000000");
    }

    #[test]
    fn percents() {
        let p = |j: &str| serde_json::from_str::<Percent>(j).map(|p| p.0).ok();
        assert_eq!(p("6.5"), Some(6.5));
        assert_eq!(p("\"6.5%\""), Some(6.5));
        assert_eq!(p("\"+3.2 %\""), Some(3.2));
        assert_eq!(p("-2"), Some(-2.0));
        assert_eq!(p("\"high\""), None);
        assert_eq!(p("\"inf\""), None);
        assert_eq!(p("\"NaN\""), None);
    }

    #[test]
    fn periods_and_lists() {
        let p: JsonPeriod =
            serde_json::from_str(r#"{"from":"2026-07-01","to":"2026-09-30"}"#).unwrap();
        assert_eq!(p.0.describe(), "Q3 2026");
        assert!(serde_json::from_str::<JsonPeriod>(r#"{"from":"2026-07-01"}"#).is_err());
        let l: StringList = serde_json::from_str(r#"["a", " b ", "A"]"#).unwrap();
        assert_eq!(l.0, ["a", "b"]);
        let l: StringList = serde_json::from_str(r#""x; y""#).unwrap();
        assert_eq!(l.0, ["x", "y"]);
    }
}
