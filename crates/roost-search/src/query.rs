//! Reads structured filters out of what an agent types ("3 bed villa under 4M in Arabian
//! Ranches") and leaves the rest as text for ranking. Pure: what the cache knows (its
//! communities, property types, statuses, currency) comes in as a [`ParseContext`].
//!
//! The parser only takes what it is sure of; anything it does not understand stays in the
//! residual text, where keyword and semantic ranking still use it.

use serde::{Deserialize, Serialize};

use roost_api::search::{Filters, PriceRange};

/// What the cache holds, for matching names the agent types against real values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParseContext {
    pub communities: Vec<String>,
    pub property_types: Vec<String>,
    pub statuses: Vec<String>,
    /// ISO 4217 code prices in the text are read in, e.g. `AED`.
    pub currency: String,
}

pub use roost_api::search::ParsedQuery;

pub fn parse(text: &str, ctx: &ParseContext) -> ParsedQuery {
    let mut p = Parser {
        text,
        toks: tokenize(text),
        used: vec![],
        filters: Filters::default(),
        ctx,
    };
    p.used = vec![false; p.toks.len()];
    p.run();
    ParsedQuery {
        residual: p.residual(),
        filters: p.filters,
    }
}

pub use roost_api::money::minor_unit_exponent;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Lower-cased letters and digits, starting with a letter.
    Word(String),
    Num(f64),
    /// One of `< > + - = $ ≤ ≥`.
    Sym(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |c| c.0);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_ascii_digit() {
            let mut digits = String::new();
            let mut j = i;
            while j < chars.len() {
                let d = chars[j].1;
                let next_is_digit = chars.get(j + 1).is_some_and(|n| n.1.is_ascii_digit());
                if d.is_ascii_digit() {
                    digits.push(d);
                } else if d == ',' && next_is_digit {
                    // Thousands separator: "4,000,000".
                } else if d == '.' && next_is_digit && !digits.contains('.') {
                    digits.push('.');
                } else {
                    break;
                }
                j += 1;
            }
            if let Ok(n) = digits.parse() {
                out.push(Token {
                    tok: Tok::Num(n),
                    start,
                    end: end_of(j),
                });
            }
            i = j;
        } else if c.is_alphabetic() {
            let mut j = i;
            while j < chars.len() && (chars[j].1.is_alphanumeric() || chars[j].1 == '\'') {
                j += 1;
            }
            out.push(Token {
                tok: Tok::Word(text[start..end_of(j)].to_lowercase()),
                start,
                end: end_of(j),
            });
            i = j;
        } else {
            let sym = match c {
                '–' | '—' => Some('-'),
                '<' | '>' | '+' | '-' | '=' | '$' | '≤' | '≥' => Some(c),
                _ => None,
            };
            if let Some(s) = sym {
                out.push(Token {
                    tok: Tok::Sym(s),
                    start,
                    end: end_of(i + 1),
                });
            }
            i += 1;
        }
    }
    out
}

const BED_WORDS: &[&str] = &[
    "bed",
    "beds",
    "bedroom",
    "bedrooms",
    "br",
    "bd",
    "bdr",
    "bdrm",
    "bdrms",
    "bhk",
    "bedroomed",
];
const BATH_WORDS: &[&str] = &["bath", "baths", "bathroom", "bathrooms", "ba", "bth"];
const STOP_AFTER_IN: &[&str] = &["the", "a", "an"];

/// Capitalised words that end a place name rather than continue it. "in Dubai Creek Harbour"
/// (a community this company has no listing in) must not name every community with "Dubai"
/// in it, while "in Marina With a view" still names the Marina.
const AFTER_A_NAME: &[&str] = &[
    "with",
    "without",
    "and",
    "or",
    "for",
    "to",
    "under",
    "over",
    "below",
    "above",
    "between",
    "from",
    "near",
    "at",
    "in",
    "on",
    "less",
    "more",
    "than",
    "max",
    "min",
    "up",
    "around",
    "about",
    "by",
    "that",
    "which",
    "please",
    "only",
    "the",
    "a",
    "an",
    "of",
    "bed",
    "beds",
    "bedroom",
    "bedrooms",
    "br",
    "bath",
    "baths",
    "bathroom",
    "bathrooms",
    "studio",
    "studios",
    "sqft",
    "sqm",
    "sq",
    "furnished",
    "unfurnished",
    "rent",
    "rental",
    "sale",
    "buy",
    "listing",
    "listings",
    "property",
    "properties",
    "home",
    "homes",
    "house",
    "houses",
    "flat",
    "flats",
    "view",
    "views",
];

/// (word, canonical type) for the property types agents name.
const TYPE_WORDS: &[(&str, &str)] = &[
    ("villa", "villa"),
    ("villas", "villa"),
    ("apartment", "apartment"),
    ("apartments", "apartment"),
    ("apt", "apartment"),
    ("apts", "apartment"),
    ("flat", "apartment"),
    ("flats", "apartment"),
    ("townhouse", "townhouse"),
    ("townhouses", "townhouse"),
    ("townhome", "townhouse"),
    ("townhomes", "townhouse"),
    ("penthouse", "penthouse"),
    ("penthouses", "penthouse"),
    ("duplex", "duplex"),
    ("duplexes", "duplex"),
    ("office", "office"),
    ("offices", "office"),
    ("plot", "plot"),
    ("plots", "plot"),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Bedrooms,
    Bathrooms,
    /// Factor to square feet.
    Area(f64),
}

#[derive(Debug, Clone, PartialEq)]
struct Amount {
    number: f64,
    /// From "k", "M", "million"…
    multiplier: Option<f64>,
    currency: Option<String>,
}

impl Amount {
    fn value(&self) -> f64 {
        self.number * self.multiplier.unwrap_or(1.0)
    }

    /// Bare small numbers ("under 4") are too ambiguous to read as a price.
    fn looks_like_price(&self) -> bool {
        self.multiplier.is_some() || self.currency.is_some() || self.value() >= 1000.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Compare {
    AtMost,
    Below,
    AtLeast,
    Above,
    Between,
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    used: Vec<bool>,
    filters: Filters,
    ctx: &'a ParseContext,
}

impl Parser<'_> {
    fn run(&mut self) {
        let mut i = 0;
        while i < self.toks.len() {
            if self.used[i] {
                i += 1;
                continue;
            }
            let matched = self
                .comparison(i)
                .or_else(|| self.counted(i))
                .or_else(|| self.community(i))
                .or_else(|| self.status(i))
                .or_else(|| self.furnished(i))
                .or_else(|| self.studio(i))
                .or_else(|| self.property_type(i));
            match matched {
                Some(next) => {
                    for u in &mut self.used[i..next] {
                        *u = true;
                    }
                    i = next;
                }
                None => i += 1,
            }
        }
    }

    fn residual(&self) -> String {
        self.toks
            .iter()
            .zip(&self.used)
            .filter(|(t, used)| !**used && !matches!(t.tok, Tok::Sym(_)))
            .map(|(t, _)| &self.text[t.start..t.end])
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether token `i` starts with a capital letter in the text as typed.
    fn capitalised(&self, i: usize) -> bool {
        self.toks
            .get(i)
            .and_then(|t| self.text[t.start..t.end].chars().next())
            .is_some_and(char::is_uppercase)
    }

    fn word(&self, i: usize) -> Option<&str> {
        match self.toks.get(i) {
            Some(Token {
                tok: Tok::Word(w), ..
            }) if !self.used[i] => Some(w),
            _ => None,
        }
    }

    fn sym(&self, i: usize, c: char) -> bool {
        matches!(self.toks.get(i), Some(Token { tok: Tok::Sym(s), .. }) if *s == c && !self.used[i])
    }

    fn words_are(&self, i: usize, words: &[&str]) -> bool {
        words
            .iter()
            .enumerate()
            .all(|(k, w)| self.word(i + k) == Some(w))
    }

    /// "under 4M", "at least 2 baths", "> 1500 sqft", "between 1M and 2M".
    fn comparison(&mut self, i: usize) -> Option<usize> {
        let (cmp, j) = self.comparator(i)?;
        let (a, k) = self.amount(j)?;
        if cmp == Compare::Between {
            let sep =
                if self.word(k) == Some("and") || self.word(k) == Some("to") || self.sym(k, '-') {
                    k + 1
                } else {
                    return None;
                };
            let (b, end) = self.amount(sep)?;
            return self.range(a, b, end);
        }
        let (unit, end) = match self.unit(k) {
            Some((u, e)) => (Some(u), e),
            None => (None, k),
        };
        let value = a.value();
        match unit {
            Some(Unit::Bedrooms) => {
                let n = count(value)?;
                let b = &mut self.filters.bedrooms;
                match cmp {
                    Compare::AtMost => b.max = Some(n),
                    Compare::Below => b.max = Some(n.checked_sub(1)?),
                    Compare::AtLeast => b.min = Some(n),
                    Compare::Above => b.min = Some(n + 1),
                    Compare::Between => unreachable!("handled above"),
                }
            }
            Some(Unit::Bathrooms) => match cmp {
                Compare::AtLeast => self.filters.bathrooms_min = Some(value as f32),
                Compare::Above => self.filters.bathrooms_min = Some(value as f32 + 1.0),
                // The filters keep no bathroom maximum: leave the words for ranking.
                _ => return None,
            },
            Some(Unit::Area(factor)) => {
                let sqft = value * factor;
                match cmp {
                    Compare::AtMost | Compare::Below => self.filters.size_sqft.max = Some(sqft),
                    Compare::AtLeast | Compare::Above => self.filters.size_sqft.min = Some(sqft),
                    Compare::Between => unreachable!("handled above"),
                }
            }
            None if a.looks_like_price() => {
                let minor = self.minor(&a);
                let currency = self.currency_of(&a);
                let price = self.price_range(currency);
                match cmp {
                    Compare::AtMost | Compare::Below => price.max_minor = Some(minor),
                    Compare::AtLeast | Compare::Above => price.min_minor = Some(minor),
                    Compare::Between => unreachable!("handled above"),
                }
            }
            None => return None,
        }
        Some(end)
    }

    fn comparator(&self, i: usize) -> Option<(Compare, usize)> {
        use Compare::*;
        const PHRASES: &[(&[&str], Compare)] = &[
            (&["less", "than"], Below),
            (&["fewer", "than"], Below),
            (&["more", "than"], Above),
            (&["up", "to"], AtMost),
            (&["at", "most"], AtMost),
            (&["at", "least"], AtLeast),
            (&["no", "more", "than"], AtMost),
            (&["under"], AtMost),
            (&["below"], AtMost),
            (&["max"], AtMost),
            (&["maximum"], AtMost),
            (&["upto"], AtMost),
            (&["over"], AtLeast),
            (&["above"], AtLeast),
            (&["min"], AtLeast),
            (&["minimum"], AtLeast),
            (&["from"], AtLeast),
            (&["between"], Between),
        ];
        for (words, cmp) in PHRASES {
            if self.words_are(i, words) {
                return Some((*cmp, i + words.len()));
            }
        }
        let or_equal = self.sym(i + 1, '=');
        let after = if or_equal { i + 2 } else { i + 1 };
        if self.sym(i, '<') || self.sym(i, '≤') {
            return Some((AtMost, after));
        }
        if self.sym(i, '>') || self.sym(i, '≥') {
            return Some((AtLeast, after));
        }
        None
    }

    /// "3 bed", "2-4 beds", "3+ beds", "2 baths", "1500 sqft", "1M-2M".
    fn counted(&mut self, i: usize) -> Option<usize> {
        let (a, mut j) = self.amount(i)?;
        // "3-bed", "2-beds": a hyphen before the unit, not a range.
        if self.sym(j, '-') && self.unit(j + 1).is_some() {
            j += 1;
        } else if self.sym(j, '-') || self.word(j) == Some("to") {
            let (b, end) = self.amount(j + 1)?;
            return self.range(a, b, end);
        }
        let plus = self.sym(j, '+');
        let (unit, end) = self.unit(if plus { j + 1 } else { j })?;
        match unit {
            Unit::Bedrooms => {
                let n = count(a.value())?;
                self.filters.bedrooms.min = Some(n);
                self.filters.bedrooms.max = if plus { None } else { Some(n) };
            }
            // The filters keep only a minimum: "2 baths" means at least two.
            Unit::Bathrooms => self.filters.bathrooms_min = Some(a.value() as f32),
            // A size alone ("1500 sqft villa") is read as the smallest acceptable.
            Unit::Area(factor) => self.filters.size_sqft.min = Some(a.value() * factor),
        }
        Some(end)
    }

    /// Two amounts and the unit after them: bedrooms, size or (with a price sign) price.
    fn range(&mut self, mut a: Amount, b: Amount, k: usize) -> Option<usize> {
        if let Some((unit, end)) = self.unit(k) {
            match unit {
                Unit::Bedrooms => {
                    self.filters.bedrooms.min = Some(count(a.value())?);
                    self.filters.bedrooms.max = Some(count(b.value())?);
                }
                Unit::Bathrooms => self.filters.bathrooms_min = Some(a.value() as f32),
                Unit::Area(factor) => {
                    self.filters.size_sqft.min = Some(a.value() * factor);
                    self.filters.size_sqft.max = Some(b.value() * factor);
                }
            }
            return Some(end);
        }
        if !(a.looks_like_price() || b.looks_like_price()) {
            return None;
        }
        // "between 1 and 2M": the second amount's multiplier applies to both.
        if a.multiplier.is_none() {
            a.multiplier = b.multiplier;
        }
        if a.currency.is_none() {
            a.currency.clone_from(&b.currency);
        }
        let (min, max) = (self.minor(&a), self.minor(&b));
        let currency = self.currency_of(&a);
        let price = self.price_range(currency);
        price.min_minor = Some(min.min(max));
        price.max_minor = Some(min.max(max));
        Some(k)
    }

    /// `[currency] number [multiplier] [currency]`.
    fn amount(&self, i: usize) -> Option<(Amount, usize)> {
        let mut j = i;
        let mut currency = self.currency_at(j);
        if currency.is_some() {
            j += 1;
        }
        let value = match self.toks.get(j) {
            Some(Token {
                tok: Tok::Num(n), ..
            }) if !self.used[j] => *n,
            _ => return None,
        };
        j += 1;
        let mut amount = Amount {
            number: value,
            multiplier: None,
            currency: None,
        };
        if let Some(m) = self.word(j).and_then(multiplier) {
            amount.multiplier = Some(m);
            j += 1;
        }
        if currency.is_none() {
            currency = self.currency_at(j);
            if currency.is_some() {
                j += 1;
            }
        }
        amount.currency = currency;
        Some((amount, j))
    }

    fn currency_at(&self, i: usize) -> Option<String> {
        if self.sym(i, '$') {
            return Some("USD".into());
        }
        let code = match self.word(i)? {
            "aed" | "dhs" | "dh" | "dirham" | "dirhams" => "AED",
            "usd" | "dollars" => "USD",
            "eur" | "euro" | "euros" => "EUR",
            "gbp" | "pounds" => "GBP",
            "sar" | "riyal" | "riyals" => "SAR",
            _ => return None,
        };
        Some(code.into())
    }

    fn unit(&self, i: usize) -> Option<(Unit, usize)> {
        let w = self.word(i)?;
        if BED_WORDS.contains(&w) {
            return Some((Unit::Bedrooms, i + 1));
        }
        if BATH_WORDS.contains(&w) {
            return Some((Unit::Bathrooms, i + 1));
        }
        let sqm = roost_api::listings::SQFT_PER_SQM;
        match w {
            "sqft" | "sqf" | "ft2" | "ft" | "feet" => Some((Unit::Area(1.0), i + 1)),
            "sqm" | "m2" | "sqmt" => Some((Unit::Area(sqm), i + 1)),
            "sq" | "square" => match self.word(i + 1)? {
                "ft" | "feet" | "foot" => Some((Unit::Area(1.0), i + 2)),
                "m" | "meters" | "metres" | "meter" | "metre" => Some((Unit::Area(sqm), i + 2)),
                _ => None,
            },
            _ => None,
        }
    }

    fn minor(&self, a: &Amount) -> i64 {
        let currency = self.currency_of(a);
        let scale = 10f64.powi(minor_unit_exponent(&currency) as i32);
        (a.value() * scale).round() as i64
    }

    fn currency_of(&self, a: &Amount) -> String {
        a.currency
            .clone()
            .unwrap_or_else(|| self.ctx.currency.clone())
    }

    fn price_range(&mut self, currency: String) -> &mut PriceRange {
        self.filters.price.get_or_insert(PriceRange {
            currency,
            min_minor: None,
            max_minor: None,
        })
    }

    /// "in Arabian Ranches", "Dubai Marina", and with "in", one word of a name ("in Marina").
    fn community(&mut self, i: usize) -> Option<usize> {
        let preposition = matches!(self.word(i), Some("in" | "at" | "near"));
        let start = if preposition { i + 1 } else { i };
        if let Some((name, end)) = self.longest_name(start, &self.ctx.communities) {
            push_unique(&mut self.filters.communities, name);
            return Some(end);
        }
        if !preposition {
            return None;
        }
        let mut start = start;
        if self.word(start).is_some_and(|w| STOP_AFTER_IN.contains(&w)) {
            start += 1;
        }
        let word = self.word(start)?.to_string();
        // One word of a name, unless more of an unknown name follows it: a capitalised word
        // that is no filter word.
        if let Some(next) = self.word(start + 1)
            && self.capitalised(start + 1)
            && !AFTER_A_NAME.contains(&next)
            && !TYPE_WORDS.iter().any(|(w, _)| *w == next)
            && !self
                .ctx
                .property_types
                .iter()
                .chain(&self.ctx.statuses)
                .any(|v| name_words(v).iter().any(|w| w == next))
        {
            return None;
        }
        let partial: Vec<String> = self
            .ctx
            .communities
            .iter()
            .filter(|c| name_words(c).contains(&word))
            .cloned()
            .collect();
        if partial.is_empty() {
            return None;
        }
        for name in partial {
            push_unique(&mut self.filters.communities, name);
        }
        Some(start + 1)
    }

    /// The longest of `names` whose words start at token `i`, case-insensitively.
    fn longest_name(&self, i: usize, names: &[String]) -> Option<(String, usize)> {
        names
            .iter()
            .filter_map(|name| {
                let words = name_words(name);
                let matches = !words.is_empty()
                    && words
                        .iter()
                        .enumerate()
                        .all(|(k, w)| match self.toks.get(i + k) {
                            Some(Token {
                                tok: Tok::Word(t), ..
                            }) => !self.used[i + k] && t == w,
                            Some(Token {
                                tok: Tok::Num(n), ..
                            }) => !self.used[i + k] && w.parse::<f64>().ok() == Some(*n),
                            _ => false,
                        });
                matches.then(|| (name.clone(), i + words.len()))
            })
            .max_by_key(|(_, end)| *end)
    }

    /// "for rent", "to rent", "rental", "for sale", "buy".
    fn status(&mut self, i: usize) -> Option<usize> {
        let lead = matches!(self.word(i), Some("for" | "to"));
        let at = if lead { i + 1 } else { i };
        let (key, fallback) = match self.word(at)? {
            "rent" | "rental" | "rentals" | "lease" | "renting" => ("rent", "for rent"),
            "sale" | "buy" | "buying" | "purchase" => ("sale", "for sale"),
            _ => return None,
        };
        let known: Vec<String> = self
            .ctx
            .statuses
            .iter()
            .filter(|s| {
                let s = s.to_lowercase();
                s.contains(key) || (key == "rent" && s.contains("lease"))
            })
            .cloned()
            .collect();
        let statuses = if known.is_empty() {
            vec![fallback.to_string()]
        } else {
            known
        };
        for s in statuses {
            push_unique(&mut self.filters.statuses, s);
        }
        Some(at + 1)
    }

    fn furnished(&mut self, i: usize) -> Option<usize> {
        let (value, end) = match self.word(i)? {
            "furnished" => (true, i + 1),
            "unfurnished" => (false, i + 1),
            "not" | "non" | "un" => {
                let j = if self.sym(i + 1, '-') { i + 2 } else { i + 1 };
                (self.word(j)? == "furnished").then_some((false, j + 1))?
            }
            _ => return None,
        };
        self.filters.furnished = Some(value);
        Some(end)
    }

    fn studio(&mut self, i: usize) -> Option<usize> {
        if !matches!(self.word(i)?, "studio" | "studios") {
            return None;
        }
        self.filters.bedrooms.min = Some(0);
        self.filters.bedrooms.max = Some(0);
        Some(i + 1)
    }

    fn property_type(&mut self, i: usize) -> Option<usize> {
        // Types the cache holds first (their spelling, multi-word names), then the usual words.
        if let Some((name, end)) = self.longest_name(i, &self.ctx.property_types) {
            push_unique(&mut self.filters.property_types, name);
            return Some(end);
        }
        let word = self.word(i)?;
        let canonical = TYPE_WORDS.iter().find(|(w, _)| *w == word)?.1;
        let name = self
            .ctx
            .property_types
            .iter()
            .find(|t| t.eq_ignore_ascii_case(canonical))
            .cloned()
            .unwrap_or_else(|| canonical.to_string());
        push_unique(&mut self.filters.property_types, name);
        Some(i + 1)
    }
}

fn multiplier(word: &str) -> Option<f64> {
    match word {
        "k" | "thousand" => Some(1e3),
        "m" | "mn" | "mil" | "million" | "millions" => Some(1e6),
        "b" | "bn" | "billion" => Some(1e9),
        _ => None,
    }
}

/// A count of rooms: a whole number of a sane size.
fn count(value: f64) -> Option<u16> {
    (value.fract() == 0.0 && (0.0..=100.0).contains(&value)).then_some(value as u16)
}

fn name_words(name: &str) -> Vec<String> {
    tokenize(name)
        .into_iter()
        .filter_map(|t| match t.tok {
            Tok::Word(w) => Some(w),
            Tok::Num(n) => Some(n.to_string()),
            Tok::Sym(_) => None,
        })
        .collect()
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.iter().any(|v| v.eq_ignore_ascii_case(&value)) {
        list.push(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roost_api::search::Bounds;

    fn ctx() -> ParseContext {
        ParseContext {
            communities: vec![
                "Arabian Ranches".into(),
                "Arabian Ranches 2".into(),
                "Dubai Marina".into(),
                "JVC".into(),
                "Palm Jumeirah".into(),
            ],
            property_types: vec!["Villa".into(), "Apartment".into(), "Townhouse".into()],
            statuses: vec!["For Sale".into(), "For Rent".into(), "Sold".into()],
            currency: "AED".into(),
        }
    }

    fn aed(min: Option<i64>, max: Option<i64>) -> Option<PriceRange> {
        Some(PriceRange {
            currency: "AED".into(),
            min_minor: min.map(|v| v * 100),
            max_minor: max.map(|v| v * 100),
        })
    }

    fn beds(min: Option<u16>, max: Option<u16>) -> Bounds<u16> {
        Bounds { min, max }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_headline_query() {
        let q = parse("3 bed villa under 4M in Arabian Ranches", &ctx());
        assert_eq!(
            q.filters,
            Filters {
                bedrooms: beds(Some(3), Some(3)),
                property_types: strings(&["Villa"]),
                price: aed(None, Some(4_000_000)),
                communities: strings(&["Arabian Ranches"]),
                ..Filters::default()
            }
        );
        assert_eq!(q.residual, "");
    }

    #[test]
    fn table() {
        let f = Filters::default;
        #[rustfmt::skip]
        let cases: Vec<(&str, Filters, &str)> = vec![
            ("2-4 beds", Filters { bedrooms: beds(Some(2), Some(4)), ..f() }, ""),
            ("2 to 4 bedrooms in JVC", Filters { bedrooms: beds(Some(2), Some(4)), communities: strings(&["JVC"]), ..f() }, ""),
            ("3+ beds", Filters { bedrooms: beds(Some(3), None), ..f() }, ""),
            ("3-bed listings in JVC", Filters { bedrooms: beds(Some(3), Some(3)), communities: strings(&["JVC"]), ..f() }, "listings"),
            ("2-beds", Filters { bedrooms: beds(Some(2), Some(2)), ..f() }, ""),
            ("3br apartment", Filters { bedrooms: beds(Some(3), Some(3)), property_types: strings(&["Apartment"]), ..f() }, ""),
            ("studio near the metro", Filters { bedrooms: beds(Some(0), Some(0)), ..f() }, "near the metro"),
            ("under 2.5M", Filters { price: aed(None, Some(2_500_000)), ..f() }, ""),
            ("between 1M and 2M", Filters { price: aed(Some(1_000_000), Some(2_000_000)), ..f() }, ""),
            ("between 1 and 2 million", Filters { price: aed(Some(1_000_000), Some(2_000_000)), ..f() }, ""),
            ("1.2M-1.5M", Filters { price: aed(Some(1_200_000), Some(1_500_000)), ..f() }, ""),
            ("over 800k", Filters { price: aed(Some(800_000), None), ..f() }, ""),
            ("under AED 4,000,000", Filters { price: aed(None, Some(4_000_000)), ..f() }, ""),
            ("max 950000 dhs", Filters { price: aed(None, Some(950_000)), ..f() }, ""),
            ("at least 2 baths", Filters { bathrooms_min: Some(2.0), ..f() }, ""),
            ("2 bathrooms", Filters { bathrooms_min: Some(2.0), ..f() }, ""),
            ("for rent", Filters { statuses: strings(&["For Rent"]), ..f() }, ""),
            ("villa to buy", Filters { statuses: strings(&["For Sale"]), property_types: strings(&["Villa"]), ..f() }, ""),
            ("furnished", Filters { furnished: Some(true), ..f() }, ""),
            ("unfurnished flat", Filters { furnished: Some(false), property_types: strings(&["Apartment"]), ..f() }, ""),
            ("not furnished", Filters { furnished: Some(false), ..f() }, ""),
            ("> 1500 sqft", Filters { size_sqft: Bounds { min: Some(1500.0), max: None }, ..f() }, ""),
            (">= 1500 sq ft", Filters { size_sqft: Bounds { min: Some(1500.0), max: None }, ..f() }, ""),
            ("under 2000 sqft", Filters { size_sqft: Bounds { min: None, max: Some(2000.0) }, ..f() }, ""),
            ("more than 2 beds", Filters { bedrooms: beds(Some(3), None), ..f() }, ""),
            ("less than 3 bedrooms", Filters { bedrooms: beds(None, Some(2)), ..f() }, ""),
            ("in arabian ranches 2", Filters { communities: strings(&["Arabian Ranches 2"]), ..f() }, ""),
            ("in Marina with sea view", Filters { communities: strings(&["Dubai Marina"]), ..f() }, "with sea view"),
            ("in marina", Filters { communities: strings(&["Dubai Marina"]), ..f() }, ""),
            ("3 bed in Marina are there any", Filters { bedrooms: beds(Some(3), Some(3)), communities: strings(&["Dubai Marina"]), ..f() }, "are there any"),
            ("villa in Marina under 2M", Filters { property_types: strings(&["Villa"]), communities: strings(&["Dubai Marina"]), price: aed(None, Some(2_000_000)), ..f() }, ""),
            ("in Marina penthouse", Filters { communities: strings(&["Dubai Marina"]), property_types: strings(&["penthouse"]), ..f() }, ""),
            ("apartment in Dubai Creek Harbour", Filters { property_types: strings(&["Apartment"]), ..f() }, "in Dubai Creek Harbour"),
            ("in Dubai Hills Estate 3 bed", Filters { bedrooms: beds(Some(3), Some(3)), ..f() }, "in Dubai Hills Estate"),
            ("dubai marina penthouse", Filters { communities: strings(&["Dubai Marina"]), property_types: strings(&["penthouse"]), ..f() }, ""),
            ("villa or townhouse", Filters { property_types: strings(&["Villa", "Townhouse"]), ..f() }, "or"),
            ("family home with a swimming pool", f(), "family home with a swimming pool"),
            ("under 4", f(), "under 4"),
            ("in Karama", f(), "in Karama"),
            ("3 bed villa with garden under 4M", Filters { bedrooms: beds(Some(3), Some(3)), property_types: strings(&["Villa"]), price: aed(None, Some(4_000_000)), ..f() }, "with garden"),
            ("", f(), ""),
        ];
        for (text, filters, residual) in cases {
            let q = parse(text, &ctx());
            assert_eq!(q.filters, filters, "{text}");
            assert_eq!(q.residual, residual, "{text}");
        }
    }

    #[test]
    fn prices_use_the_currency_minor_unit() {
        let mut c = ctx();
        c.currency = "KWD".into();
        let q = parse("under 100k", &c);
        assert_eq!(q.filters.price.unwrap().max_minor, Some(100_000_000));
        let q = parse("under $2M", &ctx());
        let p = q.filters.price.unwrap();
        assert_eq!(
            (p.currency.as_str(), p.max_minor),
            ("USD", Some(200_000_000))
        );
    }

    #[test]
    fn sqm_become_sqft() {
        let q = parse("over 100 sqm", &ctx());
        let min = q.filters.size_sqft.min.unwrap();
        assert!((min - 1076.39).abs() < 0.01, "{min}");
    }

    #[test]
    fn arbitrary_text_never_panics() {
        for text in [
            "-",
            "between",
            "between 1M and",
            "3 -",
            "$",
            "≥≥",
            "1,",
            "1.",
            "ünïcödé 3 bëd",
            "under under 4M",
        ] {
            let _ = parse(text, &ctx());
        }
    }
}
