//! Floor areas: `1,250 sqft`, `116 m²`, `116 sqm`.

use serde::{Deserialize, Serialize};

use super::number::{DecimalMark, parse_decimal};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeUnit {
    Sqft,
    Sqm,
}

impl SizeUnit {
    /// Recognises a unit written after a number or inside a header, e.g. `sq. ft.`,
    /// `m²`, `square metres`.
    pub fn parse(text: &str) -> Option<SizeUnit> {
        let key: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect();
        match key.as_str() {
            "sqft" | "ft2" | "ft²" | "sf" | "squarefeet" | "squarefoot" | "sqfeet" | "feet" => {
                Some(SizeUnit::Sqft)
            }
            "sqm" | "m2" | "m²" | "sqmt" | "sqmtr" | "sqmeters" | "sqmetres" | "squaremeters"
            | "squaremetres" | "squaremeter" | "squaremetre" | "m" => Some(SizeUnit::Sqm),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Size {
    pub value: f64,
    pub unit: SizeUnit,
}

/// Parses a positive area; the unit written in the cell wins over `default_unit`
/// (which comes from the header, the mapping or the tenant).
pub fn parse_size(
    text: &str,
    default_unit: Option<SizeUnit>,
    mark: DecimalMark,
) -> Result<Size, String> {
    let (lead, core, rest) = super::split_number(text.trim()).ok_or("not a size")?;
    if !lead.trim().is_empty() {
        return Err(format!("unexpected {:?} before the size", lead.trim()));
    }
    let amount = parse_decimal(core, mark).map_err(|e| e.to_string())?;
    let unit = match rest.trim() {
        "" => default_unit.ok_or("no unit: write sqft or sqm, or set size_unit")?,
        written => SizeUnit::parse(written).ok_or(format!("unknown unit {written:?}"))?,
    };
    if amount.is_zero() {
        return Err("size must be greater than zero".into());
    }
    Ok(Size {
        value: amount.to_f64(),
        unit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use SizeUnit::*;

    #[test]
    fn table() {
        let ok = [
            ("1,250 sqft", None, 1250.0, Sqft),
            ("1250 sq. ft.", None, 1250.0, Sqft),
            ("1250sqft", None, 1250.0, Sqft),
            ("116 m²", None, 116.0, Sqm),
            ("116 m2", None, 116.0, Sqm),
            ("116m2", None, 116.0, Sqm),
            ("116 sqm", None, 116.0, Sqm),
            ("116 SQ M", None, 116.0, Sqm),
            ("116.5 square metres", None, 116.5, Sqm),
            ("850", Some(Sqft), 850.0, Sqft),
            ("80 sqm", Some(Sqft), 80.0, Sqm),
        ];
        for (input, default, value, unit) in ok {
            assert_eq!(
                parse_size(input, default, DecimalMark::Auto),
                Ok(Size { value, unit }),
                "{input:?}"
            );
        }
        let bad = [
            ("850", "no unit"),
            ("850 acres", "unknown unit \"acres\""),
            ("about 850 sqft", "unexpected \"about\""),
            ("0 sqft", "greater than zero"),
            ("big", "not a size"),
        ];
        for (input, reason) in bad {
            let err = parse_size(input, None, DecimalMark::Auto).unwrap_err();
            assert!(err.contains(reason), "{input:?}: {err}");
        }
    }
}
