//! Exact decimal reading with thousands separators in either convention.

/// A non-negative decimal read exactly: `digits / 10^scale`. Floats would turn
/// `1,200,000.10` into a price nobody typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub digits: u128,
    pub scale: u32,
}

impl Decimal {
    /// Multiplies by `10^power` without losing precision.
    pub fn shift(self, power: u32) -> Option<Decimal> {
        if self.scale >= power {
            return Some(Decimal {
                digits: self.digits,
                scale: self.scale - power,
            });
        }
        let digits = self
            .digits
            .checked_mul(10u128.checked_pow(power - self.scale)?)?;
        Some(Decimal { digits, scale: 0 })
    }

    pub fn to_f64(self) -> f64 {
        // Precision loss is fine here: only sizes and coordinates use it.
        self.digits as f64 / 10f64.powi(self.scale.min(300) as i32)
    }

    pub fn is_zero(self) -> bool {
        self.digits == 0
    }
}

/// Which character separates the fraction. `Auto` guesses per value and refuses
/// to guess when a value reads differently in the two conventions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecimalMark {
    #[default]
    Auto,
    Point,
    Comma,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("not a number")]
    NotANumber,
    #[error(
        "ambiguous decimal separator: could be a fraction or thousands; write it without the dot or set the decimal mark"
    )]
    Ambiguous,
    #[error("misplaced thousands separator")]
    BadGrouping,
    #[error("number too large")]
    TooLarge,
}

pub(crate) fn is_separator(c: char) -> bool {
    matches!(c, ',' | '.' | ' ' | '\u{a0}' | '\u{202f}' | '\'' | '’')
}

fn is_mark(c: char) -> bool {
    matches!(c, ',' | '.')
}

/// Reads digits with optional grouping (`,` `.` space or apostrophe) and one
/// decimal separator.
///
/// In `Auto` mode: with both `,` and `.` the last one is the decimal mark
/// (`1,200.50`, `300.000,00`); a mark repeated is grouping (`1.200.000`); a single
/// mark followed by other than three digits is decimal (`1.2`, `99,5`); a single
/// `,` followed by exactly three digits is grouping (`1,250`) because that is how
/// the product's markets write prices; a single `.` followed by exactly three digits
/// (`215.000`) is rejected as ambiguous rather than guessed.
pub fn parse_decimal(text: &str, mark: DecimalMark) -> Result<Decimal, NumberError> {
    let mut groups: Vec<&str> = Vec::new();
    let mut seps: Vec<char> = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii_digit() {
            continue;
        }
        if !is_separator(c) {
            return Err(NumberError::NotANumber);
        }
        groups.push(&text[start..i]);
        seps.push(c);
        start = i + c.len_utf8();
    }
    groups.push(&text[start..]);
    if groups.iter().any(|g| g.is_empty()) {
        return Err(NumberError::NotANumber);
    }

    let decimal_at = decimal_position(&seps, &groups, mark)?;
    let (int_groups, fraction) = match decimal_at {
        Some(i) => (&groups[..=i], groups[i + 1]),
        None => (&groups[..], ""),
    };
    check_grouping(int_groups, &seps[..int_groups.len() - 1])?;

    let count = int_groups.iter().map(|g| g.len()).sum::<usize>() + fraction.len();
    if count > 30 {
        return Err(NumberError::TooLarge);
    }
    let mut digits: u128 = 0;
    for b in int_groups.iter().chain([&fraction]).flat_map(|g| g.bytes()) {
        digits = digits * 10 + u128::from(b - b'0');
    }
    Ok(Decimal {
        digits,
        scale: fraction.len() as u32,
    })
}

/// Index into `seps` of the decimal separator, if any.
fn decimal_position(
    seps: &[char],
    groups: &[&str],
    mark: DecimalMark,
) -> Result<Option<usize>, NumberError> {
    let Some(last) = seps.len().checked_sub(1) else {
        return Ok(None);
    };
    let last_sep = seps[last];
    let fixed = match mark {
        DecimalMark::Point => Some('.'),
        DecimalMark::Comma => Some(','),
        DecimalMark::Auto => None,
    };
    if let Some(dec) = fixed {
        return match seps.iter().filter(|&&c| c == dec).count() {
            0 => Ok(None),
            1 if last_sep == dec => Ok(Some(last)),
            _ => Err(NumberError::BadGrouping),
        };
    }
    if !is_mark(last_sep) {
        return Ok(None);
    }
    let same = seps.iter().filter(|&&c| c == last_sep).count();
    let other_mark = seps.iter().any(|&c| is_mark(c) && c != last_sep);
    if other_mark {
        // `1,200.50` / `300.000,00`: the last mark is the decimal one.
        return if same == 1 {
            Ok(Some(last))
        } else {
            Err(NumberError::BadGrouping)
        };
    }
    if same > 1 {
        return Ok(None);
    }
    if groups[last + 1].len() == 3 {
        return match last_sep {
            ',' => Ok(None),
            _ => Err(NumberError::Ambiguous),
        };
    }
    Ok(Some(last))
}

/// Accepts western (`1,234,567`) and Indian (`12,34,567`) grouping.
fn check_grouping(groups: &[&str], seps: &[char]) -> Result<(), NumberError> {
    if groups.len() < 2 {
        return Ok(());
    }
    if seps.windows(2).any(|w| w[0] != w[1]) {
        return Err(NumberError::BadGrouping);
    }
    let (first, rest) = groups.split_first().ok_or(NumberError::NotANumber)?;
    let (last, middle) = rest.split_last().ok_or(NumberError::NotANumber)?;
    let western = (1..=3).contains(&first.len()) && rest.iter().all(|g| g.len() == 3);
    let indian = (1..=2).contains(&first.len())
        && last.len() == 3
        && !middle.is_empty()
        && middle.iter().all(|g| g.len() == 2);
    if western || indian {
        Ok(())
    } else {
        Err(NumberError::BadGrouping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DecimalMark::*;

    fn dec(digits: u128, scale: u32) -> Result<Decimal, NumberError> {
        Ok(Decimal { digits, scale })
    }

    #[test]
    fn table() {
        let cases = [
            ("0", Auto, dec(0, 0)),
            ("1200000", Auto, dec(1_200_000, 0)),
            ("1,200,000", Auto, dec(1_200_000, 0)),
            ("1,250", Auto, dec(1250, 0)),
            ("1.2", Auto, dec(12, 1)),
            ("99,5", Auto, dec(995, 1)),
            ("1,200.50", Auto, dec(120_050, 2)),
            ("300.000,00", Auto, dec(30_000_000, 2)),
            ("1.200.000", Auto, dec(1_200_000, 0)),
            ("1 200 000", Auto, dec(1_200_000, 0)),
            ("1'200'000", Auto, dec(1_200_000, 0)),
            ("1\u{a0}200", Auto, dec(1200, 0)),
            ("12,34,567", Auto, dec(1_234_567, 0)),
            ("215.000", Auto, Err(NumberError::Ambiguous)),
            ("215.000", Comma, dec(215_000, 0)),
            ("215.000", Point, dec(215_000, 3)),
            ("1,250", Comma, dec(1250, 3)),
            ("1.200.000", Point, Err(NumberError::BadGrouping)),
            ("1,20", Auto, dec(120, 2)),
            ("1,2000", Auto, dec(12000, 4)),
            ("12,00,000,000", Auto, Err(NumberError::BadGrouping)),
            ("1,2,3", Auto, Err(NumberError::BadGrouping)),
            ("1,200.000.5", Auto, Err(NumberError::BadGrouping)),
            ("1 200,5", Auto, dec(12005, 1)),
            ("1,", Auto, Err(NumberError::NotANumber)),
            (",5", Auto, Err(NumberError::NotANumber)),
            ("1..2", Auto, Err(NumberError::NotANumber)),
            ("1x", Auto, Err(NumberError::NotANumber)),
            ("", Auto, Err(NumberError::NotANumber)),
            (
                "1234567890123456789012345678901",
                Auto,
                Err(NumberError::TooLarge),
            ),
        ];
        for (input, mark, want) in cases {
            assert_eq!(parse_decimal(input, mark), want, "{input:?} {mark:?}");
        }
    }

    #[test]
    fn shift_moves_the_point() {
        let d = Decimal {
            digits: 12,
            scale: 1,
        };
        assert_eq!(
            d.shift(6),
            Some(Decimal {
                digits: 1_200_000,
                scale: 0
            })
        );
        assert_eq!(
            d.shift(1),
            Some(Decimal {
                digits: 12,
                scale: 0
            })
        );
        assert_eq!(
            Decimal {
                digits: u128::MAX,
                scale: 0
            }
            .shift(1),
            None
        );
    }
}
