//! Prices: `1,200,000`, `$215,000`, `AED 1.2M`, `2.5 million`, `€ 300.000,00`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::number::{Decimal, DecimalMark, parse_decimal};

/// An ISO 4217 code from the list below. Unknown codes are rejected so that a
/// stray word (`MIL`, `EST`) is never taken for a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(&'static str);

/// Codes we accept, with the number of minor-unit digits.
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2),
    ("AUD", 2),
    ("BHD", 3),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("INR", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PKR", 2),
    ("QAR", 2),
    ("SAR", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TRY", 2),
    ("USD", 2),
    ("ZAR", 2),
];

/// Symbols and local abbreviations, lowercase.
const ALIASES: &[(&str, &str)] = &[
    ("$", "USD"),
    ("us$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₹", "INR"),
    ("rs", "INR"),
    ("dhs", "AED"),
    ("dh", "AED"),
];

impl Currency {
    pub const AED: Currency = Currency("AED");
    pub const EUR: Currency = Currency("EUR");
    pub const GBP: Currency = Currency("GBP");
    pub const USD: Currency = Currency("USD");

    /// Looks up an ISO code (any case) or a symbol such as `$`.
    pub fn parse(text: &str) -> Option<Currency> {
        let t = text.trim();
        let lower = t.to_lowercase();
        let code = ALIASES
            .iter()
            .find(|(alias, _)| *alias == lower)
            .map_or(t, |(_, code)| *code);
        CURRENCIES
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(code))
            .map(|(c, _)| Currency(c))
    }

    pub fn code(self) -> &'static str {
        self.0
    }

    /// Digits after the decimal point in this currency's minor unit.
    pub fn exponent(self) -> u32 {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == self.0)
            .map_or(2, |(_, e)| *e)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Currency::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown currency {text:?}")))
    }
}

/// An amount in the currency's minor unit (cents, fils), so that
/// `AED 1,200,000.50` is `120000050` exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Price {
    pub minor_units: i64,
    pub currency: Currency,
}

impl Price {
    /// Builds a price, refusing fractions finer than the currency's minor unit.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Price, String> {
        let exp = currency.exponent();
        let minor = if amount.scale <= exp {
            amount.shift(exp).map(|d| d.digits)
        } else {
            let divisor = 10u128.pow((amount.scale - exp).min(38));
            amount
                .digits
                .is_multiple_of(divisor)
                .then_some(amount.digits / divisor)
        };
        let minor =
            minor.ok_or_else(|| format!("more than {exp} decimal places for {currency}"))?;
        let minor_units = i64::try_from(minor).map_err(|_| "price too large".to_string())?;
        Ok(Price {
            minor_units,
            currency,
        })
    }
}

/// `AED 1,150,000`, `AED 1,210.50`, `JPY 5,000`: whole amounts without
/// decimals, for sentences people and search read.
impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = self.currency.exponent();
        let scale = 10u64.pow(exp);
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let minor = self.minor_units.unsigned_abs();
        let (whole, fraction) = (minor / scale, minor % scale);
        let digits = whole.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{} {sign}{grouped}", self.currency)?;
        if fraction != 0 {
            write!(f, ".{fraction:0width$}", width = exp as usize)?;
        }
        Ok(())
    }
}

/// What the text of a price cell says: an amount and maybe a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedPrice {
    pub amount: Decimal,
    pub currency: Option<Currency>,
}

/// Magnitude words, all powers of ten, lowercase.
const MULTIPLIERS: &[(&str, u32)] = &[
    ("k", 3),
    ("thousand", 3),
    ("m", 6),
    ("mn", 6),
    ("mm", 6),
    ("mil", 6),
    ("mio", 6),
    ("million", 6),
    ("millions", 6),
    ("b", 9),
    ("bn", 9),
    ("billion", 9),
    ("lakh", 5),
    ("lakhs", 5),
    ("lac", 5),
    ("lacs", 5),
    ("cr", 7),
    ("crore", 7),
    ("crores", 7),
];

/// Parses a positive price with optional currency (code or symbol, before or after)
/// and magnitude suffix (`K`, `M`, `million`, `lakh`…).
pub fn parse_price(text: &str, mark: DecimalMark) -> Result<ParsedPrice, String> {
    let t = text.trim().trim_end_matches("/-");
    let (lead, core, rest) = super::split_number(t).ok_or("not a price")?;

    let mut currency = None;
    for token in tokens(lead) {
        if token == "-" {
            return Err("price must be positive".into());
        }
        if token == "+" || token == "~" {
            continue;
        }
        let found =
            Currency::parse(&token).ok_or(format!("unexpected {token:?} before the amount"))?;
        set_currency(&mut currency, found)?;
    }

    let mut power = 0;
    for token in tokens(rest) {
        if token == "." {
            continue; // `1.2 mil.`
        }
        if let Some((_, p)) = MULTIPLIERS.iter().find(|(w, _)| *w == token) {
            if power != 0 {
                return Err(format!("two magnitude words in {text:?}"));
            }
            power = *p;
        } else if let Some(found) = Currency::parse(&token) {
            set_currency(&mut currency, found)?;
        } else {
            return Err(format!("unexpected {token:?} after the amount"));
        }
    }

    let amount = parse_decimal(core, mark).map_err(|e| e.to_string())?;
    let amount = amount.shift(power).ok_or("price too large")?;
    if amount.is_zero() {
        return Err("price must be greater than zero".into());
    }
    Ok(ParsedPrice { amount, currency })
}

fn set_currency(slot: &mut Option<Currency>, found: Currency) -> Result<(), String> {
    match slot {
        Some(c) if *c != found => Err(format!("two currencies: {c} and {found}")),
        _ => {
            *slot = Some(found);
            Ok(())
        }
    }
}

/// Lowercase words (letter runs) and single symbol characters, skipping spaces.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphabetic() {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    // `US$` arrives as `us` + `$`.
    if let Some(i) = out.windows(2).position(|w| w[0] == "us" && w[1] == "$") {
        out.splice(i..i + 2, ["us$".to_string()]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(text: &str) -> Result<(i64, Option<&'static str>), String> {
        let p = parse_price(text, DecimalMark::Auto)?;
        let cur = p.currency.unwrap_or(Currency::parse("USD").unwrap());
        let value = Price::new(p.amount, cur)?;
        Ok((value.minor_units, p.currency.map(Currency::code)))
    }

    #[test]
    fn table() {
        let ok = [
            ("1,200,000", 120_000_000, None),
            ("1200000", 120_000_000, None),
            ("$215,000", 21_500_000, Some("USD")),
            ("US$ 215,000", 21_500_000, Some("USD")),
            ("AED 1.2M", 120_000_000, Some("AED")),
            ("AED1.2M", 120_000_000, Some("AED")),
            ("1.2M AED", 120_000_000, Some("AED")),
            ("USD 215K", 21_500_000, Some("USD")),
            ("usd 215k", 21_500_000, Some("USD")),
            ("1.2m", 120_000_000, None),
            ("2.5 million", 250_000_000, None),
            ("2.5 Mil.", 250_000_000, None),
            ("€ 300.000,00", 30_000_000, Some("EUR")),
            ("300.000,00 €", 30_000_000, Some("EUR")),
            ("£1,250,000.50", 125_000_050, Some("GBP")),
            ("1,5M", 150_000_000, None),
            ("Dhs 950,000", 95_000_000, Some("AED")),
            ("₹ 1.5 crore", 1_500_000_000, Some("INR")),
            ("12,50,000/-", 125_000_000, None),
            ("SAR 3 500 000", 350_000_000, Some("SAR")),
            ("$ 215,000 USD", 21_500_000, Some("USD")),
        ];
        for (input, minor, cur) in ok {
            assert_eq!(price(input), Ok((minor, cur)), "{input:?}");
        }
        let bad = [
            ("POA", "not a price"),
            ("-5000", "price must be positive"),
            ("0", "price must be greater than zero"),
            ("215.000", "ambiguous decimal separator"),
            ("300.000 €", "ambiguous decimal separator"),
            ("$ 215,000 EUR", "two currencies: USD and EUR"),
            ("1.2 MK", "unexpected \"mk\" after the amount"),
            ("approx 1M", "unexpected \"approx\" before the amount"),
            ("1.2M 3", "unexpected \"3\" after the amount"),
            ("1,234.567", "more than 2 decimal places for USD"),
            ("99999999999999999999", "price too large"),
            ("1M K", "two magnitude words"),
            ("120000/yr", "unexpected \"/\" after the amount"),
        ];
        for (input, reason) in bad {
            let err = price(input).unwrap_err();
            assert!(
                err.contains(reason),
                "{input:?}: got {err:?}, want {reason:?}"
            );
        }
    }

    #[test]
    fn minor_units_follow_the_currency() {
        let amount = Decimal {
            digits: 1234,
            scale: 3,
        };
        let kwd = Currency::parse("kwd").unwrap();
        assert_eq!(Price::new(amount, kwd).unwrap().minor_units, 1234);
        let jpy = Currency::parse("JPY").unwrap();
        assert!(Price::new(amount, jpy).is_err());
        assert_eq!(
            Price::new(
                Decimal {
                    digits: 5,
                    scale: 0
                },
                jpy
            )
            .unwrap()
            .minor_units,
            5
        );
    }

    #[test]
    fn displays_grouped() {
        let p = |minor, code| Price {
            minor_units: minor,
            currency: Currency::parse(code).unwrap(),
        };
        assert_eq!(p(115_000_000, "AED").to_string(), "AED 1,150,000");
        assert_eq!(p(121_050, "AED").to_string(), "AED 1,210.50");
        assert_eq!(p(5000, "JPY").to_string(), "JPY 5,000");
        assert_eq!(p(1234, "KWD").to_string(), "KWD 1.234");
        assert_eq!(p(99, "USD").to_string(), "USD 0.99");
    }

    #[test]
    fn currency_lookup() {
        assert_eq!(Currency::parse("$").map(Currency::code), Some("USD"));
        assert_eq!(Currency::parse(" eur ").map(Currency::code), Some("EUR"));
        assert_eq!(Currency::parse("XYZ"), None);
        assert_eq!(Currency::parse("mil"), None);
    }
}
