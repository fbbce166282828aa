//! Reporting periods of market figures: `2026-Q3`, `2026-09`, `2026-H1`, `2026`,
//! or an explicit date range.

use std::fmt;

use serde::Serialize;

use super::date::{Date, DateOrder, parse_date};

/// A period with its first and last day, so that "last quarter" can be found by
/// date whatever the label looked like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// Normalised label: `2026-Q3`, `2026-09`, `2026-H1`, `2026`, or
    /// `2026-07-01/2026-09-30` for a range.
    pub label: String,
    pub start: Date,
    pub end: Date,
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Period {
    /// First to last day; `from` after `to` is an error.
    pub fn range(from: Date, to: Date) -> Result<Period, String> {
        if from > to {
            return Err(format!("period starts ({from}) after it ends ({to})"));
        }
        Ok(Period {
            label: format!("{from}/{to}"),
            start: from,
            end: to,
        })
    }

    fn months(year: u16, first: u8, last: u8, label: String) -> Option<Period> {
        Some(Period {
            label,
            start: Date::new(year, first, 1)?,
            end: Date::new(year, last, days_in_month(year, last))?,
        })
    }

    /// Words for a sentence: `Q3 2026`, `September 2026`, `H1 2026`, `2026`,
    /// `2026-07-01 to 2026-09-30`.
    pub fn describe(&self) -> String {
        let (s, e) = (self.start, self.end);
        let whole_months = s.day == 1 && e.day == days_in_month(e.year, e.month);
        if s.year == e.year && whole_months {
            let year = s.year;
            match (s.month, e.month) {
                (1, 12) => return year.to_string(),
                (a, b) if a == b => return format!("{} {year}", MONTH_NAMES[a as usize - 1]),
                (a, b) if b == a + 2 && a % 3 == 1 => return format!("Q{} {year}", a / 3 + 1),
                (1, 6) => return format!("H1 {year}"),
                (7, 12) => return format!("H2 {year}"),
                _ => {}
            }
        }
        format!("{s} to {e}")
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    (28..=31)
        .rev()
        .find(|d| Date::new(year, month, *d).is_some())
        .unwrap_or(28)
}

/// Reads `2026-Q3`, `Q3 2026`, `2026-09`, `Sep 2026`, `2026-H1`, `2026`, or an
/// ISO interval `2026-07-01/2026-09-30`.
pub fn parse_period(text: &str) -> Result<Period, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "not a period: {text:?}; use a quarter (2026-Q3), a month (2026-09), a half (2026-H1), a year (2026) or from/to dates"
        )
    };
    if let Some((from, to)) = t.split_once('/').filter(|(a, _)| a.len() >= 8) {
        let from = parse_date(from, DateOrder::Auto)?;
        let to = parse_date(to, DateOrder::Auto)?;
        return Period::range(from, to);
    }
    let parts: Vec<String> = t
        .split(['-', ' ', '/', '.', ','])
        .filter(|p| !p.is_empty())
        .map(str::to_uppercase)
        .collect();
    let year_of = |s: &str| -> Option<u16> {
        (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (year, other) = match parts.as_slice() {
        [y] => (year_of(y).ok_or_else(bad)?, None),
        [a, b] => match (year_of(a), year_of(b)) {
            (Some(y), _) => (y, Some(b.as_str())),
            (None, Some(y)) => (y, Some(a.as_str())),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    let Some(other) = other else {
        return Period::months(year, 1, 12, year.to_string()).ok_or_else(bad);
    };
    let number = |s: &str| s.parse::<u8>().ok();
    let period = if let Some(q) = other.strip_prefix('Q').and_then(number) {
        (1..=4)
            .contains(&q)
            .then(|| Period::months(year, q * 3 - 2, q * 3, format!("{year}-Q{q}")))
            .flatten()
    } else if let Some(h) = other.strip_prefix('H').and_then(number) {
        (1..=2)
            .contains(&h)
            .then(|| Period::months(year, h * 6 - 5, h * 6, format!("{year}-H{h}")))
            .flatten()
    } else if let Some(m) = number(other).filter(|_| other.len() <= 2) {
        Period::months(year, m, m, format!("{year}-{m:02}"))
    } else {
        let lower = other.to_lowercase();
        MONTH_NAMES
            .iter()
            .position(|name| lower.len() >= 3 && name.to_lowercase().starts_with(&lower))
            .and_then(|i| {
                let m = i as u8 + 1;
                Period::months(year, m, m, format!("{year}-{m:02}"))
            })
    };
    period.ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let p =
            |s: &str| parse_period(s).map(|p| (p.label, p.start.to_string(), p.end.to_string()));
        let ok = |l: &str, s: &str, e: &str| Ok((l.to_string(), s.to_string(), e.to_string()));
        assert_eq!(p("2026-Q3"), ok("2026-Q3", "2026-07-01", "2026-09-30"));
        assert_eq!(p("Q1 2024"), ok("2024-Q1", "2024-01-01", "2024-03-31"));
        assert_eq!(p("2026-09"), ok("2026-09", "2026-09-01", "2026-09-30"));
        assert_eq!(p("2024-2"), ok("2024-02", "2024-02-01", "2024-02-29"));
        assert_eq!(p("Sept 2026"), ok("2026-09", "2026-09-01", "2026-09-30"));
        assert_eq!(p("2026-H2"), ok("2026-H2", "2026-07-01", "2026-12-31"));
        assert_eq!(p("2025"), ok("2025", "2025-01-01", "2025-12-31"));
        assert_eq!(
            p("2026-07-01/2026-09-30"),
            ok("2026-07-01/2026-09-30", "2026-07-01", "2026-09-30")
        );
        for bad in [
            "2026-Q5",
            "2026-13",
            "Q3",
            "last quarter",
            "2026-09-31/2026-10-01",
            "26-Q3",
        ] {
            assert!(parse_period(bad).is_err(), "{bad:?}");
        }
        assert!(
            parse_period("2026-09-30/2026-07-01")
                .unwrap_err()
                .contains("after it ends")
        );
    }

    #[test]
    fn descriptions() {
        let d = |s: &str| parse_period(s).unwrap().describe();
        assert_eq!(d("2026-Q3"), "Q3 2026");
        assert_eq!(d("2026-09"), "September 2026");
        assert_eq!(d("2026-H1"), "H1 2026");
        assert_eq!(d("2026"), "2026");
        assert_eq!(d("2026-07-01/2026-09-30"), "Q3 2026");
        assert_eq!(d("2026-07-05/2026-09-30"), "2026-07-05 to 2026-09-30");
    }
}
