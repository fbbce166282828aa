//! HubSpot CRM: a lead becomes a contact, and a deal associated to it when the lead has a
//! budget or listings.
//!
//! Both go through batch upsert keyed by a custom unique property Roost owns
//! (`roost_lead_id` on contacts, `roost_deal_id` on deals), so a retry after a lost answer
//! updates the record the first attempt made instead of creating a second one. A plain
//! `POST /crm/v3/objects/deals` with inline associations would be one call shorter, but it
//! is not idempotent: the outbox cannot tell a lost answer from a lost request, and every
//! retry of it would add a deal. The association is a `PUT` of the default deal→contact
//! association (v4), idempotent as well.
//!
//! The portal needs both properties created once (single-line text, "unique value") by an
//! admin; their absence is reported as [`CrmError::SetupMissing`].

use std::fmt;
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{self, ConnectorError, seconds, tidy};
use crate::{ConfigError, join, parse_base};

pub const HUBSPOT_BASE_URL: &str = "https://api.hubapi.com";
/// The contact property holding Roost's lead id (unique in the portal).
pub const LEAD_ID_PROPERTY: &str = "roost_lead_id";
/// The deal property holding Roost's deal id (unique in the portal).
pub const DEAL_ID_PROPERTY: &str = "roost_deal_id";
/// HubSpot's limit on inputs per batch call.
pub const BATCH_LIMIT: usize = 100;

/// A lead as the agent entered it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lead {
    /// Made on the device when the lead was created; the upsert key.
    pub roost_lead_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub budget: Option<Budget>,
    pub interests: Option<String>,
    /// Listings the lead is about (reference and title, as the agent sees them).
    pub listings: Vec<String>,
}

impl Lead {
    /// A deal is worth creating when there is something to sell.
    pub fn wants_deal(&self) -> bool {
        self.budget.is_some() || !self.listings.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertedContact {
    /// HubSpot's record id.
    pub id: String,
    pub roost_lead_id: String,
    /// `false` when the upsert found the contact from an earlier attempt.
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertedDeal {
    pub id: String,
    pub roost_deal_id: String,
    pub created: bool,
}

/// Everything one lead produced in HubSpot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedLead {
    pub contact: UpsertedContact,
    pub deal: Option<UpsertedDeal>,
}

/// One input of a batch that failed while others succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFailure {
    /// The Roost id of the input, when HubSpot named it.
    pub roost_id: Option<String>,
    pub error: CrmError,
}

/// A client for one HubSpot portal, authenticated by a private app token.
#[derive(Clone)]
pub struct HubSpot {
    http: reqwest::Client,
    base: url::Url,
    token: String,
    pipeline: String,
    deal_stage: String,
}

impl fmt::Debug for HubSpot {
    // The token stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubSpot")
            .field("base", &self.base.as_str())
            .field("pipeline", &self.pipeline)
            .field("deal_stage", &self.deal_stage)
            .finish_non_exhaustive()
    }
}

impl HubSpot {
    /// `base_url` is normally [`HUBSPOT_BASE_URL`]. New deals go to the default pipeline's
    /// first stage unless [`HubSpot::with_deal_stage`] says otherwise.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        private_app_token: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let base = parse_base("HubSpot", base_url)?;
        let token = private_app_token.into();
        if token.trim().is_empty() {
            return Err(ConfigError::Missing {
                service: "HubSpot",
                what: "private app token",
            });
        }
        Ok(HubSpot {
            http,
            base,
            token,
            pipeline: "default".to_owned(),
            deal_stage: "appointmentscheduled".to_owned(),
        })
    }

    /// The internal ids of the pipeline and stage new deals start in.
    pub fn with_deal_stage(mut self, pipeline: &str, stage: &str) -> Self {
        self.pipeline = pipeline.to_owned();
        self.deal_stage = stage.to_owned();
        self
    }

    /// Creates or updates one contact per lead, keyed by `roost_lead_id`. Results come back
    /// in the order of `leads`. When some inputs fail (HTTP 207), the error is
    /// [`CrmError::Partial`] with the ones that succeeded; repeating the call is safe.
    pub async fn upsert_contacts(&self, leads: &[Lead]) -> Result<Vec<UpsertedContact>, CrmError> {
        let inputs = leads
            .iter()
            .map(|l| check_lead(l).map(|()| (l.roost_lead_id.clone(), contact_properties(l))))
            .collect::<Result<Vec<_>, _>>()?;
        let records = self
            .batch_upsert("contacts", LEAD_ID_PROPERTY, inputs)
            .await?;
        Ok(records
            .into_iter()
            .map(|r| UpsertedContact {
                id: r.id,
                roost_lead_id: r.key,
                created: r.created,
            })
            .collect())
    }

    /// The lead's deal, associated to `contact_id`; `None` when the lead has neither a
    /// budget nor listings. One deal per lead: its `roost_deal_id` is the lead's id.
    pub async fn create_deal(
        &self,
        lead: &Lead,
        contact_id: &str,
    ) -> Result<Option<UpsertedDeal>, CrmError> {
        if !lead.wants_deal() {
            return Ok(None);
        }
        check_lead(lead)?;
        let props = deal_properties(lead, &self.pipeline, &self.deal_stage);
        let deal = self
            .batch_upsert(
                "deals",
                DEAL_ID_PROPERTY,
                vec![(lead.roost_lead_id.clone(), props)],
            )
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| CrmError::Malformed("no deal in the upsert's results".to_owned()))?;
        self.associate_deal(&deal.id, contact_id).await?;
        Ok(Some(UpsertedDeal {
            id: deal.id,
            roost_deal_id: deal.key,
            created: deal.created,
        }))
    }

    /// The contact, then the deal when there is one: what the outbox runs for a lead.
    pub async fn push_lead(&self, lead: &Lead) -> Result<PushedLead, CrmError> {
        let contact = self
            .upsert_contacts(std::slice::from_ref(lead))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| CrmError::Malformed("no contact in the upsert's results".to_owned()))?;
        let deal = self.create_deal(lead, &contact.id).await?;
        Ok(PushedLead { contact, deal })
    }

    /// `PUT /crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}`.
    async fn associate_deal(&self, deal_id: &str, contact_id: &str) -> Result<(), CrmError> {
        let url = join(
            &self.base,
            &[
                "crm",
                "v4",
                "objects",
                "deals",
                deal_id,
                "associations",
                "default",
                "contacts",
                contact_id,
            ],
        );
        let answer = self.call(Method::PUT, url, None).await?;
        if (200..300).contains(&answer.status) {
            // The answer is batch-shaped and may hold errors even with 200.
            let body: BatchBody = serde_json::from_str(&answer.body).unwrap_or_default();
            if let Some(e) = body.errors.into_iter().next() {
                return Err(CrmError::classify(None, e, None, &self.token));
            }
            return Ok(());
        }
        Err(self.error_of(&answer))
    }

    /// `POST /crm/v3/objects/{object}/batch/upsert`, returning one record per input in
    /// input order.
    async fn batch_upsert(
        &self,
        object: &str,
        id_property: &str,
        inputs: Vec<(String, Map<String, Value>)>,
    ) -> Result<Vec<Record>, CrmError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        if inputs.len() > BATCH_LIMIT {
            return Err(CrmError::Invalid(format!(
                "HubSpot takes at most {BATCH_LIMIT} records per call"
            )));
        }
        let keys: Vec<String> = inputs.iter().map(|(k, _)| k.clone()).collect();
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].contains(k) {
                return Err(CrmError::Invalid(format!("the id {k} appears twice")));
            }
        }
        let body = json!({
            "inputs": inputs
                .into_iter()
                .map(|(key, mut props)| {
                    // Also set as a property so results echo it back for matching.
                    props.insert(id_property.to_owned(), json!(key));
                    json!({
                        "idProperty": id_property,
                        "id": key,
                        // Names the input in multi-status errors.
                        "objectWriteTraceId": key,
                        "properties": props,
                    })
                })
                .collect::<Vec<_>>(),
        });
        let url = join(
            &self.base,
            &["crm", "v3", "objects", object, "batch", "upsert"],
        );
        let answer = self.call(Method::POST, url, Some(&body)).await?;
        if !(200..300).contains(&answer.status) {
            return Err(self.error_of(&answer));
        }
        let batch: BatchBody = serde_json::from_str(&answer.body)
            .map_err(|e| CrmError::Malformed(format!("unreadable batch answer: {e}")))?;
        let mut found: Vec<Option<Record>> = vec![None; keys.len()];
        for (i, r) in batch.results.into_iter().enumerate() {
            let key = r
                .properties
                .get(id_property)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or(r.object_write_trace_id.clone())
                // A lone input needs no name.
                .or_else(|| (keys.len() == 1 && i == 0).then(|| keys[0].clone()));
            if let Some(pos) = key.and_then(|k| keys.iter().position(|x| *x == k)) {
                found[pos] = Some(Record {
                    id: r.id,
                    key: keys[pos].clone(),
                    created: r.new.unwrap_or(false),
                });
            }
        }
        let failed: Vec<InputFailure> = batch
            .errors
            .into_iter()
            .map(|e| InputFailure {
                roost_id: e.input_key(),
                error: CrmError::classify(None, e, None, &self.token),
            })
            .collect();
        let done: Vec<Record> = found.iter().flatten().cloned().collect();
        if failed.is_empty() && done.len() == keys.len() {
            return Ok(done);
        }
        let mut failed = failed;
        // Inputs neither saved nor named by an error still failed.
        for (k, r) in keys.iter().zip(&found) {
            if r.is_none() && !failed.iter().any(|f| f.roost_id.as_deref() == Some(k)) {
                failed.push(InputFailure {
                    roost_id: Some(k.clone()),
                    error: CrmError::Malformed(format!("no result for {k}")),
                });
            }
        }
        Err(CrmError::Partial {
            upserted: done
                .into_iter()
                .map(|r| UpsertedContact {
                    id: r.id,
                    roost_lead_id: r.key,
                    created: r.created,
                })
                .collect(),
            failed,
        })
    }

    async fn call(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
    ) -> Result<error::Answer, CrmError> {
        let mut req = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CrmError::Network(error::transport(&e)))?;
        Ok(error::read(resp).await)
    }

    fn error_of(&self, answer: &error::Answer) -> CrmError {
        let body: HsError = serde_json::from_str(&answer.body).unwrap_or_else(|_| HsError {
            message: Some(answer.body.clone()),
            ..HsError::default()
        });
        CrmError::classify(
            Some(answer.status),
            body,
            error::retry_after(&answer.headers),
            &self.token,
        )
    }
}

#[derive(Debug, Clone)]
struct Record {
    id: String,
    key: String,
    created: bool,
}

fn check_lead(lead: &Lead) -> Result<(), CrmError> {
    if lead.roost_lead_id.trim().is_empty() {
        return Err(CrmError::Invalid("the lead has no id".to_owned()));
    }
    let has = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.trim().is_empty());
    if lead.name.trim().is_empty() && !has(&lead.email) {
        return Err(CrmError::Invalid(
            "the lead needs a name or an email".to_owned(),
        ));
    }
    Ok(())
}

/// Standard contact properties: `firstname` is the first word of the name, `lastname` the rest.
fn contact_properties(lead: &Lead) -> Map<String, Value> {
    let mut props = Map::new();
    let name = lead.name.trim();
    let (first, last) = name.split_once(char::is_whitespace).unwrap_or((name, ""));
    let mut put = |k: &str, v: &str| {
        if !v.trim().is_empty() {
            props.insert(k.to_owned(), json!(v.trim()));
        }
    };
    put("firstname", first);
    put("lastname", last);
    put("email", lead.email.as_deref().unwrap_or_default());
    put("phone", lead.phone.as_deref().unwrap_or_default());
    props
}

fn deal_properties(lead: &Lead, pipeline: &str, stage: &str) -> Map<String, Value> {
    let mut props = Map::new();
    let who = if lead.name.trim().is_empty() {
        lead.email.as_deref().unwrap_or_default()
    } else {
        lead.name.trim()
    };
    props.insert("dealname".to_owned(), json!(format!("{who} (Roost lead)")));
    props.insert("pipeline".to_owned(), json!(pipeline));
    props.insert("dealstage".to_owned(), json!(stage));
    if let Some(b) = &lead.budget {
        props.insert(
            "amount".to_owned(),
            json!(decimal(b.amount_minor, &b.currency)),
        );
        props.insert("deal_currency_code".to_owned(), json!(b.currency));
    }
    let mut notes = Vec::new();
    if let Some(i) = lead.interests.as_deref().filter(|i| !i.trim().is_empty()) {
        notes.push(format!("Interests: {}", i.trim()));
    }
    if !lead.listings.is_empty() {
        notes.push(format!("Listings: {}", lead.listings.join("; ")));
    }
    if !notes.is_empty() {
        props.insert("description".to_owned(), json!(notes.join("\n")));
    }
    props
}

/// Minor units as HubSpot's decimal amount: `125000050 AED` → `1250000.50`.
fn decimal(amount_minor: i64, currency: &str) -> String {
    let exp = roost_api::money::minor_unit_exponent(currency);
    let scale = 10u64.pow(exp);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    if exp == 0 {
        return format!("{sign}{abs}");
    }
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = exp as usize
    )
}

/// Why HubSpot did not take a lead, in words the agent (or an admin) can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrmError {
    #[error("HubSpot refused the access token: an admin must reconnect HubSpot.")]
    AuthExpired,
    #[error(
        "HubSpot refused the request ({0}): an admin must grant the app its CRM scopes and reconnect HubSpot."
    )]
    MissingScopes(String),
    #[error(
        "HubSpot has no {property} property: an admin must create it (single-line text, unique values) before leads can sync."
    )]
    SetupMissing { property: String },
    #[error("HubSpot is rate limiting Roost ({}): retry in {}.", policy.as_deref().unwrap_or("too many requests"), seconds(*after))]
    RateLimited {
        after: Duration,
        policy: Option<String>,
    },
    #[error("HubSpot rejected the lead's {}: {message}; correct it and send again.", property.as_deref().unwrap_or("details"))]
    Validation {
        property: Option<String>,
        message: String,
    },
    #[error(
        "HubSpot already has a record that conflicts with this lead ({0}): merge or correct it in HubSpot."
    )]
    Conflict(String),
    #[error("HubSpot is unavailable (HTTP {status}): the lead will be retried.")]
    Unavailable { status: u16 },
    #[error("HubSpot rejected the request (HTTP {status}): {message}.")]
    Rejected { status: u16, message: String },
    #[error("HubSpot could not be reached ({0}): the lead will be retried.")]
    Network(String),
    #[error("HubSpot answered in an unexpected way ({0}): the lead will be retried.")]
    Malformed(String),
    #[error("The lead cannot be sent to HubSpot: {0}.")]
    Invalid(String),
    #[error("HubSpot saved {} of {} records; {}", upserted.len(), upserted.len() + failed.len(), partial_summary(failed))]
    Partial {
        upserted: Vec<UpsertedContact>,
        failed: Vec<InputFailure>,
    },
}

fn partial_summary(failed: &[InputFailure]) -> String {
    failed
        .iter()
        .map(|f| match &f.roost_id {
            Some(id) => format!("{id}: {}", f.error),
            None => f.error.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl CrmError {
    /// Reads HubSpot's error object (`status`, `message`, `category`, `errors[]`,
    /// `errorType`/`policyName` for rate limits) with the HTTP status when there is one.
    fn classify(
        status: Option<u16>,
        e: HsError,
        retry_after: Option<Duration>,
        token: &str,
    ) -> CrmError {
        let category = e.category.as_deref().unwrap_or_default();
        let message = tidy(e.message.as_deref().unwrap_or_default(), &[token]);
        let message = if message.is_empty() {
            status.map_or_else(|| "no details".to_owned(), |s| format!("HTTP {s}"))
        } else {
            message
        };
        if status == Some(401)
            || matches!(
                category,
                "INVALID_AUTHENTICATION" | "EXPIRED_AUTHENTICATION"
            )
        {
            return CrmError::AuthExpired;
        }
        if status == Some(403) || category == "MISSING_SCOPES" {
            return CrmError::MissingScopes(message);
        }
        if status == Some(429)
            || e.error_type.as_deref() == Some("RATE_LIMIT")
            || category == "RATE_LIMITS"
        {
            let default = match e.policy_name.as_deref() {
                Some("SECONDLY") => Duration::from_secs(1),
                Some("DAILY") => Duration::from_secs(3600),
                // TEN_SECONDLY_ROLLING and anything unknown: the rolling window.
                _ => Duration::from_secs(10),
            };
            return CrmError::RateLimited {
                after: retry_after.unwrap_or(default),
                policy: e.policy_name.clone(),
            };
        }
        if status == Some(409) || matches!(category, "CONFLICT" | "OBJECT_ALREADY_EXISTS") {
            return CrmError::Conflict(message);
        }
        if category == "VALIDATION_ERROR" || status == Some(400) {
            let (property, code) = e.property_and_code();
            if code.as_deref() == Some("PROPERTY_DOESNT_EXIST")
                && let Some(p) = property.as_deref().filter(|p| p.starts_with("roost_"))
            {
                return CrmError::SetupMissing {
                    property: p.to_owned(),
                };
            }
            return CrmError::Validation {
                property,
                message: e.specific_message(token).unwrap_or(message),
            };
        }
        match status {
            Some(s @ (408 | 500..=599)) => CrmError::Unavailable { status: s },
            Some(s) => CrmError::Rejected { status: s, message },
            // A per-input error of a batch without a category Roost knows.
            None => CrmError::Rejected {
                status: 207,
                message,
            },
        }
    }
}

impl From<CrmError> for ConnectorError {
    fn from(e: CrmError) -> Self {
        let reason = e.to_string();
        match e {
            CrmError::AuthExpired | CrmError::MissingScopes(_) | CrmError::SetupMissing { .. } => {
                ConnectorError::NeedsAdmin { reason }
            }
            CrmError::RateLimited { after, .. } => ConnectorError::Retryable {
                after: Some(after),
                reason,
            },
            // Upserts are idempotent, so even an unreadable answer is safe to retry.
            CrmError::Unavailable { .. } | CrmError::Network(_) | CrmError::Malformed(_) => {
                ConnectorError::Retryable {
                    after: None,
                    reason,
                }
            }
            CrmError::Validation { .. }
            | CrmError::Conflict(_)
            | CrmError::Rejected { .. }
            | CrmError::Invalid(_) => ConnectorError::Permanent { reason },
            // The batch as a whole: repeating it is safe, so the worst failure decides.
            CrmError::Partial { failed, .. } => {
                let classes: Vec<ConnectorError> =
                    failed.into_iter().map(|f| f.error.into()).collect();
                if classes
                    .iter()
                    .any(|c| matches!(c, ConnectorError::NeedsAdmin { .. }))
                {
                    ConnectorError::NeedsAdmin { reason }
                } else if classes.iter().any(ConnectorError::retryable) {
                    ConnectorError::Retryable {
                        after: classes.iter().filter_map(ConnectorError::retry_after).max(),
                        reason,
                    }
                } else {
                    ConnectorError::Permanent { reason }
                }
            }
        }
    }
}

// HubSpot's bodies, as far as Roost reads them.

#[derive(Deserialize, Default)]
struct BatchBody {
    #[serde(default)]
    results: Vec<BatchResult>,
    #[serde(default)]
    errors: Vec<HsError>,
}

#[derive(Deserialize)]
struct BatchResult {
    id: String,
    new: Option<bool>,
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(rename = "objectWriteTraceId")]
    object_write_trace_id: Option<String>,
}

#[derive(Deserialize, Default)]
struct HsError {
    message: Option<String>,
    category: Option<String>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    #[serde(rename = "policyName")]
    policy_name: Option<String>,
    /// Per-input errors of a batch name their input here (`objectWriteTraceId`, `ids`).
    #[serde(default)]
    context: Map<String, Value>,
    #[serde(default)]
    errors: Vec<HsDetail>,
}

#[derive(Deserialize)]
struct HsDetail {
    message: Option<String>,
    code: Option<String>,
    #[serde(rename = "in")]
    location: Option<String>,
    /// Sometimes an object of string arrays, sometimes a string: read loosely.
    context: Option<Value>,
}

/// `Property values were not valid: [{"isValid":false,"message":…,"error":…,"name":…}]`
#[derive(Deserialize)]
struct PropertyProblem {
    message: Option<String>,
    error: Option<String>,
    name: Option<String>,
}

fn first_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

impl HsError {
    /// The Roost id of the batch input this error is about.
    fn input_key(&self) -> Option<String> {
        first_string(self.context.get("objectWriteTraceId"))
            .or_else(|| first_string(self.context.get("ids")))
            .or_else(|| first_string(self.context.get("id")))
    }

    /// The problems embedded as JSON in a validation message.
    fn embedded(&self) -> Vec<PropertyProblem> {
        let msg = self.message.as_deref().unwrap_or_default();
        msg.find('[')
            .and_then(|i| serde_json::from_str(&msg[i..]).ok())
            .unwrap_or_default()
    }

    /// The property a validation error names and its code, wherever HubSpot put them.
    fn property_and_code(&self) -> (Option<String>, Option<String>) {
        let embedded = self.embedded();
        let from_details = self.errors.iter().find_map(|d| {
            let ctx = d.context.as_ref().and_then(Value::as_object);
            first_string(ctx.and_then(|c| c.get("propertyName")))
                .or_else(|| d.location.clone().filter(|l| l != "body"))
        });
        let property = from_details
            .or_else(|| first_string(self.context.get("propertyName")))
            .or_else(|| embedded.iter().find_map(|p| p.name.clone()))
            .or_else(|| quoted_property(self.message.as_deref().unwrap_or_default()));
        let code = self
            .errors
            .iter()
            .find_map(|d| d.code.clone())
            .or_else(|| embedded.iter().find_map(|p| p.error.clone()));
        (property, code)
    }

    /// The most specific message: the embedded or detailed one over the summary.
    fn specific_message(&self, token: &str) -> Option<String> {
        self.embedded()
            .into_iter()
            .find_map(|p| p.message)
            .or_else(|| self.errors.iter().find_map(|d| d.message.clone()))
            .map(|m| tidy(&m, &[token]))
            .filter(|m| !m.is_empty())
    }
}

/// `Property "email" does not exist` → `email`.
fn quoted_property(message: &str) -> Option<String> {
    let rest = &message[message.find("Property \"")? + "Property \"".len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> HsError {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn amounts_use_the_currency_exponent() {
        assert_eq!(decimal(125_000_050, "AED"), "1250000.50");
        assert_eq!(decimal(5, "USD"), "0.05");
        assert_eq!(decimal(1_500_000, "JPY"), "1500000");
        assert_eq!(decimal(1_234, "KWD"), "1.234");
        assert_eq!(decimal(-250, "EUR"), "-2.50");
    }

    #[test]
    fn names_split_into_first_and_last() {
        let lead = Lead {
            roost_lead_id: "l1".into(),
            name: "  Dana  Al Mansouri ".into(),
            email: Some("dana@example.com".into()),
            ..Lead::default()
        };
        let p = contact_properties(&lead);
        assert_eq!(p["firstname"], "Dana");
        assert_eq!(p["lastname"], "Al Mansouri");
        assert!(!p.contains_key("phone"));
    }

    #[test]
    fn validation_names_the_property_from_the_embedded_json() {
        let e = parse(
            r#"{"status":"error","category":"VALIDATION_ERROR","correlationId":"c",
            "message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Email address bad@ is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]"}"#,
        );
        match CrmError::classify(Some(400), e, None, "tok") {
            CrmError::Validation { property, message } => {
                assert_eq!(property.as_deref(), Some("email"));
                assert_eq!(message, "Email address bad@ is invalid");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_roost_property_needs_an_admin() {
        let e = parse(
            r#"{"status":"error","category":"VALIDATION_ERROR",
            "message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"roost_lead_id\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"roost_lead_id\"}]"}"#,
        );
        let err = CrmError::classify(Some(400), e, None, "tok");
        assert_eq!(
            err,
            CrmError::SetupMissing {
                property: "roost_lead_id".into()
            }
        );
        assert!(matches!(
            ConnectorError::from(err),
            ConnectorError::NeedsAdmin { .. }
        ));
    }

    #[test]
    fn rate_limit_policy_sets_the_default_wait() {
        let body = r#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.",
            "errorType":"RATE_LIMIT","correlationId":"c","policyName":"TEN_SECONDLY_ROLLING"}"#;
        let err = CrmError::classify(Some(429), parse(body), None, "tok");
        assert_eq!(
            err,
            CrmError::RateLimited {
                after: Duration::from_secs(10),
                policy: Some("TEN_SECONDLY_ROLLING".into())
            }
        );
        let daily = body.replace("TEN_SECONDLY_ROLLING", "DAILY");
        let err = CrmError::classify(Some(429), parse(&daily), None, "tok");
        assert_eq!(
            ConnectorError::from(err).retry_after(),
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn partial_failures_take_the_worst_class() {
        let ok = UpsertedContact {
            id: "1".into(),
            roost_lead_id: "a".into(),
            created: true,
        };
        let partial = |error| CrmError::Partial {
            upserted: vec![ok.clone()],
            failed: vec![InputFailure {
                roost_id: Some("b".into()),
                error,
            }],
        };
        let e = ConnectorError::from(partial(CrmError::Validation {
            property: Some("phone".into()),
            message: "bad".into(),
        }));
        assert!(matches!(e, ConnectorError::Permanent { .. }));
        assert_eq!(
            e.to_string(),
            "HubSpot saved 1 of 2 records; b: HubSpot rejected the lead's phone: bad; correct it and send again."
        );
        let e = ConnectorError::from(partial(CrmError::Unavailable { status: 503 }));
        assert!(e.retryable());
    }
}
