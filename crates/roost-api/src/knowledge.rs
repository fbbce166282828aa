use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Millis;
use crate::users::Role;

/// What a knowledge item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KnowledgeKind {
    /// Area figures: prices, price per sqft, rents, yields, trends for a period.
    MarketIntelligence,
    /// Guides, scripts, checklists for the team.
    AgentResource,
    /// A chunk of a policy or training document.
    Document,
    /// An agent's profile: languages, areas, specialties.
    Employee,
}

impl KnowledgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KnowledgeKind::MarketIntelligence => "market_intelligence",
            KnowledgeKind::AgentResource => "agent_resource",
            KnowledgeKind::Document => "document",
            KnowledgeKind::Employee => "employee",
        }
    }

    pub fn parse(s: &str) -> Option<KnowledgeKind> {
        [
            KnowledgeKind::MarketIntelligence,
            KnowledgeKind::AgentResource,
            KnowledgeKind::Document,
            KnowledgeKind::Employee,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One retrievable piece of a company's (or the shared) knowledge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KnowledgeItem {
    pub id: Uuid,
    pub kind: KnowledgeKind,
    pub title: String,
    /// The text retrieval and answers quote.
    pub body: String,
    /// Roles that may see it; empty means everyone in the company.
    pub audience: Vec<Role>,
    /// The structured record behind it (e.g. market figures), for tables and filters.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
    /// Where it came from (file name, document title).
    pub source: Option<String>,
    pub updated_at: Millis,
}

/// A client of the company. Agents see only the clients assigned to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Client {
    pub id: Uuid,
    /// The company's own reference.
    pub external_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The assigned agent (a user of the tenant), when the file named one we know.
    pub agent_user_id: Option<Uuid>,
    pub agent_email: Option<String>,
    /// Everything else the import had: budget, interests, stage, notes …
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
    pub updated_at: Millis,
}

impl Client {
    /// The numbers a message to the client may go to, best first: the import's WhatsApp
    /// column, the record's phone, the import's phone column (imports keep numbers in `data`
    /// as `{number, original}`). Not checked; blank ones left out.
    pub fn phone_candidates(&self) -> Vec<String> {
        let in_data = |key: &str| {
            let v = &self.data[key];
            v["number"].as_str().or(v.as_str()).map(str::to_string)
        };
        [in_data("whatsapp"), self.phone.clone(), in_data("phone")]
            .into_iter()
            .flatten()
            .filter(|n| !n.trim().is_empty())
            .collect()
    }

    /// The client's email address: the record's, else an `email` column the import kept.
    pub fn email_address(&self) -> Option<String> {
        self.email
            .clone()
            .or_else(|| self.data["email"].as_str().map(str::to_string))
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
    }
}
