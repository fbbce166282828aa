//! Clients (buyers, tenants, leads): the canonical fields, the record, and how a
//! row becomes one.

mod build;

use serde::Serialize;

use crate::mapping::Field;
use crate::property::Attribute;
use crate::values::{Date, Phone, Price};

pub(crate) use build::Clients;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientField {
    Id,
    Name,
    FirstName,
    LastName,
    Email,
    Phone,
    Whatsapp,
    Nationality,
    Languages,
    BudgetMin,
    BudgetMax,
    Currency,
    Interests,
    PreferredCommunities,
    AgentEmail,
    Stage,
    Notes,
    CreatedAt,
}

impl Field for ClientField {
    const ALL: &'static [Self] = &[
        Self::Id,
        Self::Name,
        Self::FirstName,
        Self::LastName,
        Self::Email,
        Self::Phone,
        Self::Whatsapp,
        Self::Nationality,
        Self::Languages,
        Self::BudgetMin,
        Self::BudgetMax,
        Self::Currency,
        Self::Interests,
        Self::PreferredCommunities,
        Self::AgentEmail,
        Self::Stage,
        Self::Notes,
        Self::CreatedAt,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Name => "name",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Whatsapp => "whatsapp",
            Self::Nationality => "nationality",
            Self::Languages => "languages",
            Self::BudgetMin => "budget_min",
            Self::BudgetMax => "budget_max",
            Self::Currency => "currency",
            Self::Interests => "interests",
            Self::PreferredCommunities => "preferred_communities",
            Self::AgentEmail => "agent_email",
            Self::Stage => "stage",
            Self::Notes => "notes",
            Self::CreatedAt => "created_at",
        }
    }

    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Self::Id => &[
                "id",
                "clientid",
                "clientref",
                "clientreference",
                "clientno",
                "clientnumber",
                "customerid",
                "customerref",
                "customerno",
                "contactid",
                "leadid",
                "crmid",
                "ref",
                "reference",
                "refno",
            ],
            Self::Name => &[
                "name",
                "fullname",
                "clientname",
                "customername",
                "contactname",
                "leadname",
                "client",
                "customer",
            ],
            Self::FirstName => &["firstname", "givenname", "forename", "fname"],
            Self::LastName => &["lastname", "surname", "familyname", "lname"],
            Self::Email => &[
                "email",
                "emailaddress",
                "mail",
                "clientemail",
                "customeremail",
                "primaryemail",
                "emailid",
            ],
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
                "cellnumber",
                "contactnumber",
                "contactno",
                "primaryphone",
            ],
            Self::Whatsapp => &[
                "whatsapp",
                "whatsappno",
                "whatsappnumber",
                "whatsappphone",
                "whatsappmobile",
                "wa",
            ],
            Self::Nationality => &["nationality", "citizenship"],
            Self::Languages => &[
                "languages",
                "language",
                "languagesspoken",
                "spokenlanguages",
                "preferredlanguage",
                "preferredlanguages",
            ],
            Self::BudgetMin => &[
                "budgetmin",
                "minbudget",
                "minimumbudget",
                "budgetfrom",
                "minprice",
                "pricemin",
                "pricefrom",
            ],
            Self::BudgetMax => &[
                "budget",
                "budgetmax",
                "maxbudget",
                "maximumbudget",
                "budgetto",
                "maxprice",
                "pricemax",
                "priceto",
                "budgetrange",
            ],
            Self::Currency => &["currency", "budgetcurrency", "currencycode", "ccy"],
            Self::Interests => &[
                "interests",
                "interest",
                "requirements",
                "requirement",
                "lookingfor",
                "propertyinterest",
                "preferences",
                "wants",
            ],
            Self::PreferredCommunities => &[
                "preferredcommunities",
                "preferredcommunity",
                "preferredareas",
                "preferredlocations",
                "communities",
                "community",
                "areas",
                "area",
                "locations",
                "location",
            ],
            Self::AgentEmail => &[
                "agentemail",
                "agent",
                "assignedagent",
                "assignedto",
                "agentassigned",
                "owner",
                "owneremail",
                "leadowner",
                "salesagent",
                "accountmanager",
                "broker",
            ],
            Self::Stage => &[
                "stage",
                "status",
                "clientstatus",
                "leadstatus",
                "pipelinestage",
                "leadstage",
                "clientstage",
            ],
            Self::Notes => &["notes", "note", "comments", "comment", "remarks"],
            Self::CreatedAt => &[
                "createdat",
                "created",
                "createdon",
                "datecreated",
                "createddate",
                "dateadded",
                "added",
                "registeredon",
                "leaddate",
                "since",
            ],
        }
    }
}

/// Where a client is in the sales pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientStage {
    /// Not yet qualified.
    Lead,
    /// Qualified, in conversation.
    Prospect,
    /// Viewing, negotiating or making offers.
    Active,
    /// Bought or rented.
    Closed,
    /// Gone elsewhere or unreachable.
    Lost,
}

impl ClientStage {
    pub fn parse(text: &str) -> Option<ClientStage> {
        let key: String = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "lead" | "new" | "newlead" | "cold" | "unqualified" | "open" => Self::Lead,
            "prospect" | "qualified" | "contacted" | "warm" | "hot" | "followup" => Self::Prospect,
            "active" | "viewing" | "viewings" | "negotiating" | "negotiation" | "offer"
            | "offermade" | "underoffer" => Self::Active,
            "closed" | "won" | "closedwon" | "converted" | "deal" | "dealclosed" | "bought"
            | "rented" | "sold" => Self::Closed,
            "lost" | "closedlost" | "dead" | "inactive" | "dormant" | "archived"
            | "notinterested" => Self::Lost,
            _ => return None,
        })
    }
}

/// One valid client row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientRecord {
    /// Source row, 1-based with the header as row 1.
    pub row: usize,
    /// The company's own client reference.
    pub id: String,
    /// From a name column, or first and last name joined.
    pub name: String,
    /// Lowercased.
    pub email: Option<String>,
    pub phone: Option<Phone>,
    pub whatsapp: Option<Phone>,
    pub nationality: Option<String>,
    pub languages: Vec<String>,
    pub budget_min: Option<Price>,
    pub budget_max: Option<Price>,
    /// Split on `;`, `|`, `,` and line breaks (not `/`, which reads as "or" in
    /// `3/4 bed` or `sale/rent`).
    pub interests: Vec<String>,
    pub preferred_communities: Vec<String>,
    /// The agent who owns this client (lowercased); decides who may see it.
    pub agent_email: Option<String>,
    /// Set instead of `agent_email` when the agent column holds a name; the
    /// caller matches it to an employee or asks the admin.
    pub agent_name: Option<String>,
    pub stage: Option<ClientStage>,
    pub notes: Option<String>,
    pub created_at: Option<Date>,
    pub attributes: Vec<Attribute>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::normalise_header;

    #[test]
    fn synonyms_are_normalised() {
        for f in ClientField::ALL {
            for s in f.synonyms() {
                assert_eq!(normalise_header(s), *s, "{f:?}");
            }
        }
    }

    #[test]
    fn stages() {
        assert_eq!(ClientStage::parse("New Lead"), Some(ClientStage::Lead));
        assert_eq!(ClientStage::parse("closed-won"), Some(ClientStage::Closed));
        assert_eq!(ClientStage::parse("Viewing"), Some(ClientStage::Active));
        assert_eq!(ClientStage::parse("maybe"), None);
    }
}
