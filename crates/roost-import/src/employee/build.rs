//! One row → one `EmployeeRecord`, or the list of what is wrong with it.

use super::{EmployeeField as F, EmployeeRecord, Role};
use crate::error::RowError;
use crate::import::{Entity, Settings};
use crate::mapping::ColumnBinding;
use crate::row::{Problems, one_line_breaks, walk};
use crate::source::Row;
use crate::values::{parse_email, parse_list, parse_phone};

pub(crate) struct Employees;

impl Entity for Employees {
    type Field = F;
    type Record = EmployeeRecord;
    const REQUIRED: &'static [&'static [F]] = &[&[F::Email], &[F::Name, F::FirstName, F::LastName]];
    const KEY: F = F::Email;

    fn key_form(text: &str) -> String {
        text.trim().to_lowercase()
    }

    fn build(
        _settings: &Settings,
        row: &Row,
        columns: &[ColumnBinding<F>],
    ) -> Result<EmployeeRecord, Vec<RowError>> {
        let mut problems = Problems::new(row.number, columns);
        let mut r = EmployeeRecord {
            row: row.number,
            email: String::new(),
            name: String::new(),
            phone: None,
            roles: Vec::new(),
            languages: Vec::new(),
            communities: Vec::new(),
            specialties: Vec::new(),
            bio: None,
            license_number: None,
            title: None,
            attributes: Vec::new(),
        };
        let (mut first, mut last) = (None::<String>, None::<String>);
        let mut attributes = Vec::new();
        walk(row, &mut problems, &mut attributes, |field, _, cell| {
            let text = cell.text.trim();
            let one_line = || text.split_whitespace().collect::<Vec<_>>().join(" ");
            match field {
                F::Email => r.email = parse_email(text)?,
                F::Name => r.name = one_line(),
                F::FirstName => first = Some(one_line()),
                F::LastName => last = Some(one_line()),
                F::Phone => r.phone = Some(parse_phone(text)?),
                F::Role => r.roles = parse_roles(text)?,
                F::Languages => r.languages = parse_list(text),
                F::Communities => r.communities = parse_list(text),
                F::Specialties => r.specialties = parse_list(text),
                F::Bio => r.bio = Some(one_line_breaks(text)),
                F::LicenseNumber => r.license_number = Some(text.to_string()),
                F::Title => r.title = Some(one_line()),
            }
            Ok(())
        });
        r.attributes = attributes;

        if r.name.is_empty() {
            r.name = [first, last]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
        }
        if r.email.is_empty() && !problems.failed(F::Email) {
            problems.add(F::Email, None, "email is required");
        }
        if r.name.is_empty() {
            problems.add(F::Name, None, "name is required");
        }
        if r.roles.is_empty() {
            r.roles = vec![Role::Agent];
        }
        problems.finish(r)
    }
}

/// `Agent`, `agent, manager`, `Manager/Admin`.
fn parse_roles(text: &str) -> Result<Vec<Role>, String> {
    let mut roles = Vec::new();
    for item in parse_list(text) {
        let role = Role::parse(&item).ok_or(format!(
            "unknown role {item:?}; expected agent, manager or admin"
        ))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles.sort();
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles() {
        assert_eq!(
            parse_roles("Manager / agent"),
            Ok(vec![Role::Agent, Role::Manager])
        );
        assert!(parse_roles("agent, ceo").unwrap_err().contains("\"ceo\""));
    }
}
