//! Employees (agent profiles): the canonical fields, the record, and how a row
//! becomes one. The email is the key: it is how a person signs in and how
//! clients name their agent.

mod build;

use serde::{Deserialize, Serialize};

use crate::mapping::Field;
use crate::property::Attribute;
use crate::values::Phone;

pub(crate) use build::Employees;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmployeeField {
    Email,
    Name,
    FirstName,
    LastName,
    Phone,
    Role,
    Languages,
    Communities,
    Specialties,
    Bio,
    LicenseNumber,
    Title,
}

impl Field for EmployeeField {
    const ALL: &'static [Self] = &[
        Self::Email,
        Self::Name,
        Self::FirstName,
        Self::LastName,
        Self::Phone,
        Self::Role,
        Self::Languages,
        Self::Communities,
        Self::Specialties,
        Self::Bio,
        Self::LicenseNumber,
        Self::Title,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Name => "name",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::Phone => "phone",
            Self::Role => "role",
            Self::Languages => "languages",
            Self::Communities => "communities",
            Self::Specialties => "specialties",
            Self::Bio => "bio",
            Self::LicenseNumber => "license_number",
            Self::Title => "title",
        }
    }

    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Self::Email => &[
                "email",
                "emailaddress",
                "mail",
                "workemail",
                "agentemail",
                "employeeemail",
                "staffemail",
                "login",
                "username",
            ],
            Self::Name => &[
                "name",
                "fullname",
                "agentname",
                "employeename",
                "staffname",
                "agent",
                "employee",
                "displayname",
            ],
            Self::FirstName => &["firstname", "givenname", "forename", "fname"],
            Self::LastName => &["lastname", "surname", "familyname", "lname"],
            Self::Phone => &[
                "phone",
                "mobile",
                "cell",
                "tel",
                "telephone",
                "phonenumber",
                "phoneno",
                "mobilenumber",
                "mobileno",
                "mobilephone",
                "cellphone",
                "workphone",
                "whatsapp",
                "whatsappno",
                "whatsappnumber",
                "contactnumber",
            ],
            Self::Role => &[
                "role",
                "roles",
                "accessrole",
                "userrole",
                "accesslevel",
                "permission",
                "permissions",
            ],
            Self::Languages => &[
                "languages",
                "language",
                "languagesspoken",
                "spokenlanguages",
            ],
            Self::Communities => &[
                "communities",
                "community",
                "areas",
                "area",
                "areascovered",
                "communitiescovered",
                "coverage",
                "territory",
                "territories",
                "locations",
                "focusareas",
                "patch",
            ],
            Self::Specialties => &[
                "specialties",
                "specialities",
                "specialty",
                "speciality",
                "specialisation",
                "specialization",
                "specialisations",
                "specializations",
                "expertise",
                "focus",
            ],
            Self::Bio => &[
                "bio",
                "biography",
                "about",
                "aboutme",
                "profile",
                "summary",
                "description",
            ],
            Self::LicenseNumber => &[
                "licensenumber",
                "licencenumber",
                "license",
                "licence",
                "licenseno",
                "licenceno",
                "brn",
                "brnno",
                "brnnumber",
                "rerano",
                "reranumber",
                "permitno",
                "permitnumber",
            ],
            Self::Title => &["title", "jobtitle", "position", "designation", "jobrole"],
        }
    }
}

/// What a person may do in the app. Mirrors the roles of the API; this crate
/// does not depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Manager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Agent, Role::Manager, Role::Admin];

    pub fn parse(text: &str) -> Option<Role> {
        let key: String = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "agent" | "salesagent" | "broker" | "consultant" | "propertyconsultant"
            | "associate" | "user" => Self::Agent,
            "manager" | "salesmanager" | "teamleader" | "teamlead" | "supervisor" | "director" => {
                Self::Manager
            }
            "admin" | "administrator" | "companyadmin" | "superuser" => Self::Admin,
            _ => return None,
        })
    }
}

/// One valid employee row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmployeeRecord {
    /// Source row, 1-based with the header as row 1.
    pub row: usize,
    /// Lowercased; unique in the file (ignoring case).
    pub email: String,
    pub name: String,
    pub phone: Option<Phone>,
    /// Several roles (`agent, manager`) are allowed; `[Agent]` when not given.
    pub roles: Vec<Role>,
    pub languages: Vec<String>,
    /// Communities or areas the person covers.
    pub communities: Vec<String>,
    pub specialties: Vec<String>,
    pub bio: Option<String>,
    pub license_number: Option<String>,
    /// Job title as shown on a profile, e.g. `Senior Property Consultant`.
    pub title: Option<String>,
    pub attributes: Vec<Attribute>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::normalise_header;

    #[test]
    fn synonyms_are_normalised() {
        for f in EmployeeField::ALL {
            for s in f.synonyms() {
                assert_eq!(normalise_header(s), *s, "{f:?}");
            }
        }
    }

    #[test]
    fn roles() {
        assert_eq!(Role::parse("Team Leader"), Some(Role::Manager));
        assert_eq!(Role::parse("ADMIN"), Some(Role::Admin));
        assert_eq!(Role::parse("sales-agent"), Some(Role::Agent));
        assert_eq!(Role::parse("ceo"), None);
    }
}
