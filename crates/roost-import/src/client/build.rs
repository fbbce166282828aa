//! One row → one `ClientRecord`, or the list of what is wrong with it.

use super::{ClientField as F, ClientRecord, ClientStage};
use crate::error::RowError;
use crate::import::{Entity, Settings};
use crate::mapping::ColumnBinding;
use crate::row::{PendingMoney, Problems, decimal_mark, one_line_breaks, walk};
use crate::source::Row;
use crate::values::{
    Currency, DecimalMark, parse_date, parse_email, parse_list, parse_phone, split_list,
};

pub(crate) struct Clients;

impl Entity for Clients {
    type Field = F;
    type Record = ClientRecord;
    const REQUIRED: &'static [&'static [F]] = &[
        &[F::Id],
        &[F::Name, F::FirstName, F::LastName],
        &[F::Email, F::Phone, F::Whatsapp],
    ];
    const KEY: F = F::Id;

    fn build(
        settings: &Settings,
        row: &Row,
        columns: &[ColumnBinding<F>],
    ) -> Result<ClientRecord, Vec<RowError>> {
        let mut problems = Problems::new(row.number, columns);
        let mut r = empty(row.number);
        let mut parts = NameParts::default();
        let mut budget = Budget::default();
        let mut currency: Option<Currency> = None;
        let mut attributes = Vec::new();
        walk(
            row,
            &mut problems,
            &mut attributes,
            |field, column, cell| {
                let text = cell.text.trim();
                match field {
                    F::Id => r.id = text.to_string(),
                    F::Name => r.name = one_line(text),
                    F::FirstName => parts.first = Some(one_line(text)),
                    F::LastName => parts.last = Some(one_line(text)),
                    F::Email => r.email = Some(parse_email(text)?),
                    F::Phone => r.phone = Some(parse_phone(text)?),
                    F::Whatsapp => r.whatsapp = Some(parse_phone(text)?),
                    F::Nationality => r.nationality = Some(text.to_string()),
                    F::Languages => r.languages = parse_list(text),
                    F::BudgetMin | F::BudgetMax => {
                        budget.read(field, text, &column.column, decimal_mark(settings, cell))?
                    }
                    F::Currency => {
                        currency = Some(
                            Currency::parse(text).ok_or(format!("unknown currency {text:?}"))?,
                        )
                    }
                    F::Interests => r.interests = split_list(text, &[';', '|', ',', '\n']),
                    F::PreferredCommunities => r.preferred_communities = parse_list(text),
                    F::AgentEmail if text.contains('@') => r.agent_email = Some(parse_email(text)?),
                    F::AgentEmail => r.agent_name = Some(one_line(text)),
                    F::Stage => {
                        r.stage = Some(ClientStage::parse(text).ok_or(
                            "unknown stage; expected lead, prospect, active, closed or lost",
                        )?)
                    }
                    F::Notes => r.notes = Some(one_line_breaks(text)),
                    F::CreatedAt => r.created_at = Some(parse_date(text, settings.date_order)?),
                }
                Ok(())
            },
        );
        r.attributes = attributes;

        if r.name.is_empty() {
            r.name = parts.joined();
        }
        if r.id.is_empty() && !problems.failed(F::Id) {
            problems.add(F::Id, None, "id is required");
        }
        if r.name.is_empty() {
            problems.add(F::Name, None, "name is required");
        }
        let contact_failed = [F::Email, F::Phone, F::Whatsapp]
            .iter()
            .any(|f| problems.failed(*f));
        if r.email.is_none() && r.phone.is_none() && r.whatsapp.is_none() && !contact_failed {
            problems.add_row(
                Some(F::Email),
                "needs a contact: an email, a phone or a WhatsApp number",
            );
        }
        budget.resolve(&mut r, currency, settings, &mut problems);
        problems.finish(r)
    }
}

fn empty(row: usize) -> ClientRecord {
    ClientRecord {
        row,
        id: String::new(),
        name: String::new(),
        email: None,
        phone: None,
        whatsapp: None,
        nationality: None,
        languages: Vec::new(),
        budget_min: None,
        budget_max: None,
        interests: Vec::new(),
        preferred_communities: Vec::new(),
        agent_email: None,
        agent_name: None,
        stage: None,
        notes: None,
        created_at: None,
        attributes: Vec::new(),
    }
}

/// Names in one line with single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Default)]
struct NameParts {
    first: Option<String>,
    last: Option<String>,
}

impl NameParts {
    fn joined(&self) -> String {
        [&self.first, &self.last]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Budget cells, kept until the currency column has been read.
#[derive(Default)]
struct Budget {
    min: Option<PendingMoney>,
    max: Option<PendingMoney>,
}

impl Budget {
    /// A single budget column may hold a range, `AED 1.5M - 2M` or
    /// `1,500,000 to 2,000,000`, which sets both ends.
    fn read(
        &mut self,
        field: F,
        text: &str,
        column: &str,
        mark: DecimalMark,
    ) -> Result<(), String> {
        if let Some((low, high)) = split_range(text) {
            let mut low = PendingMoney::read(low, column, mark)?;
            let high = PendingMoney::read(high, column, mark)?;
            // `AED 1.5M - 2M`: the currency written once covers both ends.
            low.parsed.currency = low.parsed.currency.or(high.parsed.currency);
            let mut high = high;
            high.parsed.currency = high.parsed.currency.or(low.parsed.currency);
            self.min = Some(low);
            self.max = Some(high);
            return Ok(());
        }
        let money = PendingMoney::read(text, column, mark)?;
        match field {
            F::BudgetMin => self.min = Some(money),
            _ => self.max = Some(money),
        }
        Ok(())
    }

    fn resolve(
        self,
        r: &mut ClientRecord,
        currency: Option<Currency>,
        settings: &Settings,
        problems: &mut Problems<'_, F>,
    ) {
        for (field, pending) in [(F::BudgetMin, self.min), (F::BudgetMax, self.max)] {
            let Some(pending) = pending else { continue };
            let text = pending.text.clone();
            match pending.resolve(currency, settings) {
                Ok(price) if field == F::BudgetMin => r.budget_min = Some(price),
                Ok(price) => r.budget_max = Some(price),
                Err(reason) => problems.add(field, Some(&text), reason),
            }
        }
        if let (Some(min), Some(max)) = (r.budget_min, r.budget_max) {
            if min.currency != max.currency {
                problems.add_row(
                    Some(F::BudgetMax),
                    format!(
                        "budget range mixes currencies {} and {}",
                        min.currency, max.currency
                    ),
                );
            } else if min.minor_units > max.minor_units {
                problems.add_row(
                    Some(F::BudgetMax),
                    "the minimum budget is above the maximum",
                );
            }
        }
    }
}

/// `1.5M - 2M`, `1.5M–2M`, `1,500,000 to 2,000,000`. A dash counts only with a
/// digit before it, so a leading minus stays an (invalid) negative amount.
fn split_range(text: &str) -> Option<(&str, &str)> {
    let lower = text.to_ascii_lowercase();
    if let Some(i) = lower.find(" to ") {
        return Some((&text[..i], &text[i + 4..]));
    }
    let dash = text.char_indices().find(|&(i, c)| {
        matches!(c, '-' | '–' | '—')
            && text[..i]
                .trim_end()
                .chars()
                .last()
                .is_some_and(|p| p.is_ascii_alphanumeric())
    })?;
    let (i, c) = dash;
    Some((&text[..i], &text[i + c.len_utf8()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(split_range("1.5M - 2M"), Some(("1.5M ", " 2M")));
        assert_eq!(split_range("AED 1.5M–2M"), Some(("AED 1.5M", "2M")));
        assert_eq!(
            split_range("1,500,000 to 2,000,000"),
            Some(("1,500,000", "2,000,000"))
        );
        assert_eq!(split_range("-5"), None);
        assert_eq!(split_range("2M"), None);
    }
}
