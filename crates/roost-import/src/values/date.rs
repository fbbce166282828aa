//! Calendar dates: ISO, `15/03/2024`, `03/15/2024`, `15 Mar 2024`, `Mar 15, 2024`.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// A calendar date, serialised as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1..=days).contains(&day) && (1000..=9999).contains(&year)).then_some(Date {
            year,
            month,
            day,
        })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How to read `01/02/2024`. `Auto` accepts it only when one part is above 12.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    #[default]
    Auto,
    DayFirst,
    MonthFirst,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

pub fn parse_date(text: &str, order: DateOrder) -> Result<Date, String> {
    let t = text.trim();
    // Drop a time part: `2024-03-15T10:00:00`, `2024-03-15 10:00`.
    let t = match t.get(10..11) {
        Some("T" | "t") => &t[..10],
        _ => t,
    };
    let parts: Vec<&str> = t
        .split(['-', '/', '.', ' ', ','])
        .filter(|p| !p.is_empty())
        .take(4)
        .collect();
    let bad = || format!("not a date (use YYYY-MM-DD): {text:?}");
    let [a, b, c] = parts[..] else {
        // Three parts plus a trailing `10:00` time is fine.
        return match parts[..] {
            [a, b, c, time] if time.contains(':') => parse_parts(a, b, c, order, text),
            _ => Err(bad()),
        };
    };
    parse_parts(a, b, c, order, text)
}

fn parse_parts(a: &str, b: &str, c: &str, order: DateOrder, text: &str) -> Result<Date, String> {
    let bad = || format!("not a date (use YYYY-MM-DD): {text:?}");
    let num = |s: &str| -> Option<u16> {
        (s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let month_name = |s: &str| {
        let lower = s.to_lowercase();
        (lower.len() >= 3)
            .then(|| MONTHS.iter().position(|m| lower.starts_with(m)))
            .flatten()
            .map(|i| i as u16 + 1)
    };
    let (year, month, day) = if a.len() == 4 {
        (num(a), num(b).or_else(|| month_name(b)), num(c))
    } else if let Some(m) = month_name(a) {
        (num(c), Some(m), num(b))
    } else if let Some(m) = month_name(b) {
        (num(c), Some(m), num(a))
    } else {
        let (x, y, year) = (num(a).ok_or_else(bad)?, num(b).ok_or_else(bad)?, num(c));
        let day_first = match order {
            DateOrder::DayFirst => true,
            DateOrder::MonthFirst => false,
            DateOrder::Auto if x > 12 && y <= 12 => true,
            DateOrder::Auto if y > 12 && x <= 12 => false,
            DateOrder::Auto if x == y => true,
            DateOrder::Auto => {
                return Err(format!(
                    "ambiguous date {text:?}: day/month order unknown; use YYYY-MM-DD or set date_order"
                ));
            }
        };
        if day_first {
            (year, Some(y), Some(x))
        } else {
            (year, Some(x), Some(y))
        }
    };
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return Err(bad());
    };
    let (Ok(month), Ok(day)) = (u8::try_from(month), u8::try_from(day)) else {
        return Err(bad());
    };
    if year < 1000 {
        return Err(format!("year must have four digits: {text:?}"));
    }
    Date::new(year, month, day).ok_or_else(|| format!("no such date: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use DateOrder::*;

    #[test]
    fn table() {
        let d = |y, m, d| Ok(Date::new(y, m, d).unwrap());
        let cases = [
            ("2024-03-15", Auto, d(2024, 3, 15)),
            ("2024-03-15T10:00:00Z", Auto, d(2024, 3, 15)),
            ("2024-03-15 10:00", Auto, d(2024, 3, 15)),
            ("2024/3/5", Auto, d(2024, 3, 5)),
            ("15/03/2024", Auto, d(2024, 3, 15)),
            ("03/15/2024", Auto, d(2024, 3, 15)),
            ("05/05/2024", Auto, d(2024, 5, 5)),
            ("04/05/2024", DayFirst, d(2024, 5, 4)),
            ("04/05/2024", MonthFirst, d(2024, 4, 5)),
            ("15.03.2024", Auto, d(2024, 3, 15)),
            ("15 Mar 2024", Auto, d(2024, 3, 15)),
            ("15-March-2024", Auto, d(2024, 3, 15)),
            ("March 15, 2024", Auto, d(2024, 3, 15)),
            ("2024-02-29", Auto, d(2024, 2, 29)),
            ("15 Oct 2024", Auto, d(2024, 10, 15)),
            ("1 Sept 2024", Auto, d(2024, 9, 1)),
        ];
        for (input, order, want) in cases {
            assert_eq!(parse_date(input, order), want, "{input:?}");
        }
        let bad = [
            ("04/05/2024", "ambiguous date"),
            ("2023-02-29", "no such date"),
            ("2024-13-01", "no such date"),
            ("15/03/24", "four digits"),
            ("yesterday", "not a date"),
            ("2024-03", "not a date"),
            ("2024-03-15-16-17", "not a date"),
        ];
        for (input, reason) in bad {
            let err = parse_date(input, Auto).unwrap_err();
            assert!(err.contains(reason), "{input:?}: {err}");
        }
    }

    #[test]
    fn displays_iso() {
        assert_eq!(Date::new(2024, 3, 5).unwrap().to_string(), "2024-03-05");
    }
}
