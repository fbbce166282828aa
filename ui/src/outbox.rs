//! How the agent's actions read on screen (the send and lead forms, the Activity list): what
//! an action is in words, its state, when it goes next, and the checks a form makes before it
//! lets the agent submit. Pure, so the host tests cover it.

use roost_api::Millis;
use roost_api::actions::{ActionRequest, ActionStatus, Channel, ClientRef, LeadInput};
use roost_api::knowledge::Client;
use roost_api::listings::Price;
use uuid::Uuid;

use crate::form::parse_amount;

pub fn status_label(s: ActionStatus) -> &'static str {
    match s {
        ActionStatus::Queued => "Queued",
        ActionStatus::Sending => "Sending",
        ActionStatus::Delivered => "Delivered",
        ActionStatus::Read => "Read",
        ActionStatus::Failed => "Failed",
    }
}

/// The status as the wire spells it (`data-status`, CSS classes).
pub fn status_key(s: ActionStatus) -> &'static str {
    match s {
        ActionStatus::Queued => "queued",
        ActionStatus::Sending => "sending",
        ActionStatus::Delivered => "delivered",
        ActionStatus::Read => "read",
        ActionStatus::Failed => "failed",
    }
}

/// Still on its way: the Activity tab counts these.
pub fn is_pending(s: ActionStatus) -> bool {
    matches!(s, ActionStatus::Queued | ActionStatus::Sending)
}

pub fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Whatsapp => "WhatsApp",
        Channel::Email => "Email",
    }
}

/// `Showcase of 3 listings to Dana Smith · WhatsApp`, `Lead: Omar Haddad`. `client_name`
/// names a synced client by id.
pub fn describe(request: &ActionRequest, client_name: impl Fn(Uuid) -> Option<String>) -> String {
    match request {
        ActionRequest::SendShowcase {
            channel,
            client,
            listings,
            ..
        } => {
            let who = match client {
                ClientRef::Existing { id } => client_name(*id),
                ClientRef::New { name, .. } => Some(name.trim().to_string()),
            }
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "a client".into());
            let what = if listings.len() == 1 {
                "1 listing".to_string()
            } else {
                format!("{} listings", listings.len())
            };
            format!("Showcase of {what} to {who} · {}", channel_label(*channel))
        }
        ActionRequest::CreateLead { lead } => format!("Lead: {}", lead.name.trim()),
    }
}

/// `Next try in 40 s`, `Next try in 3 min`; `Trying again now` once it is due.
pub fn next_try(at: Millis, now: Millis) -> String {
    let secs = (at - now + 999).max(0) / 1000;
    match secs {
        0 => "Trying again now".into(),
        1..=89 => format!("Next try in {secs} s"),
        90..=5399 => format!("Next try in {} min", (secs + 30) / 60),
        _ => format!("Next try in {} h", (secs + 1800) / 3600),
    }
}

/// `Not sent yet`, `1 attempt`, `3 attempts`.
pub fn attempts(n: u32) -> String {
    match n {
        0 => "Not sent yet".into(),
        1 => "1 attempt".into(),
        n => format!("{n} attempts"),
    }
}

/// The reason an attempt did not settle, for the agent: the technical tail (the address and
/// the library's words, in parentheses at the end) left out.
pub fn error_words(error: &str) -> String {
    let e = error.trim();
    let cut = match tail_in_parentheses(e) {
        Some(at) if e[at..].contains("://") => e[..at].trim_end(),
        _ => e,
    };
    let mut out = cut.to_string();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Where the parenthesised part that ends `text` opens (parentheses may nest inside it).
fn tail_in_parentheses(text: &str) -> Option<usize> {
    if !text.ends_with(')') {
        return None;
    }
    let mut depth = 0usize;
    for (at, c) in text.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

/// What the toast says right after the agent acted, and as the action moves on.
pub fn toast_text(status: ActionStatus, online: bool) -> String {
    match status {
        ActionStatus::Queued if !online => "Queued — it will be sent when you're online".into(),
        ActionStatus::Queued | ActionStatus::Sending => "Sending…".into(),
        ActionStatus::Delivered | ActionStatus::Read => "Sent".into(),
        ActionStatus::Failed => "Not sent — see Activity for why".into(),
    }
}

pub fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or("")
}

/// The message a showcase starts with; the agent edits it.
pub fn default_message(count: usize, company: &str, client: Option<&str>, agent: &str) -> String {
    let hello = match client.map(first_name).filter(|n| !n.is_empty()) {
        Some(n) => format!("Hi {n},"),
        None => "Hi,".into(),
    };
    let from = if company.trim().is_empty() {
        String::new()
    } else {
        format!(" from {}", company.trim())
    };
    let body = if count == 1 {
        format!(
            "here is a property{from} that I think you'll like. Let me know if you'd like to see it."
        )
    } else {
        format!(
            "here are {count} properties{from} that I think you'll like. Let me know which ones you'd like to see."
        )
    };
    let sign = first_name(agent);
    if sign.is_empty() {
        format!("{hello} {body}")
    } else {
        format!("{hello} {body}\n\n{sign}")
    }
}

/// The client's phone: the phone column, else the number an import kept in `data`
/// (`whatsapp`, then `phone`, as `{number}` or a plain string).
pub fn client_phone(c: &Client) -> Option<String> {
    let in_data = |key: &str| {
        let v = &c.data[key];
        v["number"].as_str().or(v.as_str()).map(str::to_string)
    };
    [c.phone.clone(), in_data("whatsapp"), in_data("phone")]
        .into_iter()
        .flatten()
        .map(|p| p.trim().to_string())
        .find(|p| !p.is_empty())
}

pub fn client_email(c: &Client) -> Option<String> {
    c.email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
}

/// Whether `query` finds the client by name, email or phone (digits match whatever the
/// separators).
pub fn client_matches(c: &Client, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return true;
    }
    if c.name.to_lowercase().contains(&q)
        || client_email(c).is_some_and(|e| e.to_lowercase().contains(&q))
    {
        return true;
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let only_number = q
        .chars()
        .all(|ch| ch.is_ascii_digit() || matches!(ch, '+' | ' ' | '-' | '(' | ')' | '.'));
    // A number typed the local way (`050 …`) drops its trunk 0 in the international form.
    let local = digits.trim_start_matches('0');
    only_number
        && digits.len() >= 3
        && client_phone(c).is_some_and(|p| {
            let p: String = p.chars().filter(char::is_ascii_digit).collect();
            p.contains(&digits) || (local.len() >= 3 && p.contains(local))
        })
}

pub use roost_api::actions::{looks_like_email as email_ok, looks_like_phone as phone_ok};

fn some_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Who a showcase goes to, as the form has it.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipient {
    None,
    Existing(Client),
    New {
        name: String,
        phone: String,
        email: String,
    },
}

/// The showcase the form describes, or the one thing the agent still has to do.
pub fn showcase(
    channel: Channel,
    recipient: &Recipient,
    listings: &[Uuid],
    message: &str,
) -> Result<ActionRequest, String> {
    if listings.is_empty() {
        return Err("Add at least one listing.".into());
    }
    let client = match recipient {
        Recipient::None => return Err("Pick a client, or add a new one.".into()),
        Recipient::Existing(c) => {
            match channel {
                Channel::Whatsapp if client_phone(c).is_none() => {
                    return Err(format!(
                        "{} has no phone number on file: WhatsApp needs one. Send by email, or add them as a new client with a phone.",
                        c.name
                    ));
                }
                Channel::Email if client_email(c).is_none() => {
                    return Err(format!(
                        "{} has no email address on file. Send on WhatsApp, or add them as a new client with an email.",
                        c.name
                    ));
                }
                _ => {}
            }
            ClientRef::Existing { id: c.id }
        }
        Recipient::New { name, phone, email } => {
            let name = some_text(name).ok_or("Write the new client's name.")?;
            let phone = some_text(phone);
            let email = some_text(email);
            match channel {
                Channel::Whatsapp if phone.is_none() => {
                    return Err("WhatsApp needs the client's phone number.".into());
                }
                Channel::Email if email.is_none() => {
                    return Err("Email needs the client's email address.".into());
                }
                _ => {}
            }
            if let Some(p) = &phone
                && !phone_ok(p)
            {
                return Err(
                    "Write the phone number with its country code (7 to 15 digits).".into(),
                );
            }
            if let Some(e) = &email
                && !email_ok(e)
            {
                return Err(format!("“{e}” is not an email address."));
            }
            ClientRef::New { name, phone, email }
        }
    };
    if message.trim().is_empty() {
        return Err("Write a message to go with the listings.".into());
    }
    Ok(ActionRequest::SendShowcase {
        channel,
        client,
        listings: listings.to_vec(),
        message: message.trim().to_string(),
    })
}

/// The lead form's fields as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadForm {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub budget: String,
    pub currency: String,
    pub interests: String,
}

/// The lead the form describes, or the one thing the agent still has to do.
pub fn lead(form: &LeadForm, listings: &[Uuid]) -> Result<ActionRequest, String> {
    let name = some_text(&form.name).ok_or("Write the lead's name.")?;
    let phone = some_text(&form.phone);
    let email = some_text(&form.email);
    if phone.is_none() && email.is_none() {
        return Err("Give the lead's phone number or email address.".into());
    }
    if let Some(p) = &phone
        && !phone_ok(p)
    {
        return Err("Write the phone number with its country code (7 to 15 digits).".into());
    }
    if let Some(e) = &email
        && !email_ok(e)
    {
        return Err(format!("“{e}” is not an email address."));
    }
    let currency = form.currency.trim().to_uppercase();
    let budget = match parse_amount(&form.budget, &currency) {
        Ok(None) => None,
        Ok(Some(0)) => return Err("The budget must be more than zero.".into()),
        Ok(Some(amount_minor)) => Some(Price {
            amount_minor,
            currency,
        }),
        Err(e) => return Err(format!("Budget: {e}.")),
    };
    Ok(ActionRequest::CreateLead {
        lead: LeadInput {
            name,
            phone,
            email,
            budget,
            interests: some_text(&form.interests),
            listings: listings.to_vec(),
        },
    })
}

/// Currencies the lead form offers, the company's first.
pub fn currencies(company: &str) -> Vec<String> {
    let mut out = vec![company.to_uppercase()];
    for c in ["AED", "USD", "EUR", "GBP", "SAR", "QAR", "INR"] {
        if !out.iter().any(|o| o == c) {
            out.push(c.into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(name: &str, phone: Option<&str>, email: Option<&str>) -> Client {
        Client {
            id: Uuid::from_u128(7),
            external_id: "C-1".into(),
            name: name.into(),
            email: email.map(Into::into),
            phone: phone.map(Into::into),
            agent_user_id: None,
            agent_email: None,
            data: serde_json::json!({}),
            updated_at: 0,
        }
    }

    #[test]
    fn actions_in_words() {
        let dana = Uuid::from_u128(1);
        let names = |id: Uuid| (id == dana).then(|| "Dana Smith".to_string());
        let send = ActionRequest::SendShowcase {
            channel: Channel::Whatsapp,
            client: ClientRef::Existing { id: dana },
            listings: vec![Uuid::from_u128(2); 3],
            message: "hi".into(),
        };
        assert_eq!(
            describe(&send, names),
            "Showcase of 3 listings to Dana Smith · WhatsApp"
        );
        let one = ActionRequest::SendShowcase {
            channel: Channel::Email,
            client: ClientRef::Existing {
                id: Uuid::from_u128(9),
            },
            listings: vec![Uuid::from_u128(2)],
            message: "hi".into(),
        };
        assert_eq!(
            describe(&one, names),
            "Showcase of 1 listing to a client · Email"
        );
        let form = LeadForm {
            name: " Omar Haddad ".into(),
            email: "omar@example.com".into(),
            currency: "AED".into(),
            ..LeadForm::default()
        };
        assert_eq!(
            describe(&lead(&form, &[]).unwrap(), names),
            "Lead: Omar Haddad"
        );
    }

    #[test]
    fn times_and_errors_in_words() {
        assert_eq!(next_try(41_000, 1_000), "Next try in 40 s");
        assert_eq!(next_try(500, 1_000), "Trying again now");
        assert_eq!(next_try(181_000, 1_000), "Next try in 3 min");
        assert_eq!(attempts(0), "Not sent yet");
        assert_eq!(attempts(2), "2 attempts");
        assert_eq!(
            error_words(
                "Could not reach the server (could not connect); it will be sent again. (http://127.0.0.1:5/api/v1/actions: error sending request for url (http://127.0.0.1:5/api/v1/actions))"
            ),
            "Could not reach the server (could not connect); it will be sent again."
        );
        assert_eq!(
            error_words("The number is not on WhatsApp"),
            "The number is not on WhatsApp."
        );
        assert_eq!(
            toast_text(ActionStatus::Queued, false),
            "Queued — it will be sent when you're online"
        );
        assert_eq!(toast_text(ActionStatus::Queued, true), "Sending…");
        assert_eq!(toast_text(ActionStatus::Delivered, true), "Sent");
    }

    #[test]
    fn the_default_message_names_the_count_and_company() {
        assert_eq!(
            default_message(3, "Roost Demo Realty", Some("Layla Haddad"), "Aisha Agent"),
            "Hi Layla, here are 3 properties from Roost Demo Realty that I think you'll like. \
             Let me know which ones you'd like to see.\n\nAisha"
        );
        assert!(
            default_message(1, "Acme", None, "").starts_with("Hi, here is a property from Acme")
        );
    }

    #[test]
    fn clients_are_found_by_name_email_or_phone() {
        let mut c = client("Layla Haddad", None, Some("layla@example.com"));
        c.data = serde_json::json!({ "phone": { "number": "+971501234567", "original": "050 123 4567" } });
        assert_eq!(client_phone(&c).as_deref(), Some("+971501234567"));
        assert!(client_matches(&c, "layla"));
        assert!(client_matches(&c, "EXAMPLE.COM"));
        assert!(client_matches(&c, "050 123"));
        assert!(client_matches(&c, "+971 50 123"));
        assert!(!client_matches(&c, "ivan"));
        assert!(!client_matches(&c, "12"));
    }

    #[test]
    fn a_showcase_says_what_is_missing() {
        let ids = [Uuid::from_u128(5)];
        let no_phone = Recipient::Existing(client("Ivan Petrov", None, Some("i@example.com")));
        let err = showcase(Channel::Whatsapp, &no_phone, &ids, "hi").unwrap_err();
        assert!(err.contains("no phone number"), "{err}");
        assert!(showcase(Channel::Email, &no_phone, &ids, "hi").is_ok());
        assert!(
            showcase(Channel::Whatsapp, &Recipient::None, &ids, "hi")
                .unwrap_err()
                .contains("Pick a client")
        );
        let new = Recipient::New {
            name: "Dana".into(),
            phone: "12".into(),
            email: String::new(),
        };
        assert!(
            showcase(Channel::Whatsapp, &new, &ids, "hi")
                .unwrap_err()
                .contains("country code")
        );
        let new = Recipient::New {
            name: "Dana".into(),
            phone: "+971 50 111 2222".into(),
            email: String::new(),
        };
        assert!(
            showcase(Channel::Email, &new, &ids, "hi")
                .unwrap_err()
                .contains("email address")
        );
        let ok = showcase(Channel::Whatsapp, &new, &ids, " hello ").unwrap();
        assert_eq!(
            ok,
            ActionRequest::SendShowcase {
                channel: Channel::Whatsapp,
                client: ClientRef::New {
                    name: "Dana".into(),
                    phone: Some("+971 50 111 2222".into()),
                    email: None
                },
                listings: ids.to_vec(),
                message: "hello".into(),
            }
        );
        assert!(
            showcase(Channel::Whatsapp, &new, &ids, "  ")
                .unwrap_err()
                .contains("message")
        );
    }

    #[test]
    fn a_lead_needs_a_name_and_a_way_to_reach_them() {
        let mut form = LeadForm {
            currency: "aed".into(),
            ..LeadForm::default()
        };
        assert!(lead(&form, &[]).unwrap_err().contains("name"));
        form.name = "Omar".into();
        assert!(
            lead(&form, &[])
                .unwrap_err()
                .contains("phone number or email")
        );
        form.phone = "+971 50 765 4321".into();
        form.budget = "2.5M".into();
        form.interests = " 3 bed villa ".into();
        let ActionRequest::CreateLead { lead: l } = lead(&form, &[Uuid::from_u128(3)]).unwrap()
        else {
            panic!("not a lead")
        };
        assert_eq!(
            l.budget,
            Some(Price {
                amount_minor: 250_000_000,
                currency: "AED".into()
            })
        );
        assert_eq!(l.interests.as_deref(), Some("3 bed villa"));
        assert_eq!(l.listings, vec![Uuid::from_u128(3)]);
        form.budget = "lots".into();
        assert!(lead(&form, &[]).unwrap_err().starts_with("Budget"));
        assert_eq!(
            currencies("usd")[..2],
            ["USD".to_string(), "AED".to_string()]
        );
    }
}
