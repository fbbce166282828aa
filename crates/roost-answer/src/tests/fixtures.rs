//! Small records to build sources from.

use std::collections::BTreeMap;

use roost_api::knowledge::{Client, KnowledgeItem, KnowledgeKind};
use roost_api::listings::{Area, AreaUnit, Listing, Price};
use roost_api::search::{Bounds, Filters, PriceRange};
use serde_json::Value;
use uuid::Uuid;

use crate::{Record, Source};

pub fn listing(
    id: u128,
    title: &str,
    reference: &str,
    community: &str,
    beds: u16,
    sqft: f64,
    aed: i64,
) -> Listing {
    Listing {
        id: Uuid::from_u128(id),
        external_id: reference.into(),
        title: (!title.is_empty()).then(|| title.to_string()),
        description: Some(format!("Bright {beds}-bed home in {community}.")),
        price: Some(Price {
            amount_minor: aed * 100,
            currency: "AED".into(),
        }),
        bedrooms: Some(beds),
        bathrooms: Some(2.0),
        size: Some(Area::new(sqft, AreaUnit::Sqft)),
        property_type: Some("Apartment".into()),
        community: Some(community.into()),
        city: Some("Dubai".into()),
        status: Some("for sale".into()),
        latitude: None,
        longitude: None,
        furnished: None,
        photos: Vec::new(),
        listed_at: None,
        attributes: BTreeMap::new(),
        updated_at: 0,
    }
}

pub fn item(id: u128, kind: KnowledgeKind, title: &str, body: &str) -> KnowledgeItem {
    KnowledgeItem {
        id: Uuid::from_u128(id),
        kind,
        title: title.into(),
        body: body.into(),
        audience: Vec::new(),
        data: Value::Null,
        source: None,
        updated_at: 0,
    }
}

pub fn client(id: u128, name: &str, data: Value) -> Client {
    Client {
        id: Uuid::from_u128(id),
        external_id: format!("C-{id}"),
        name: name.into(),
        email: None,
        phone: None,
        agent_user_id: None,
        agent_email: None,
        data,
        updated_at: 0,
    }
}

pub fn knowledge(item: KnowledgeItem) -> Record {
    Record::Knowledge {
        item,
        shared: false,
    }
}

/// Numbered 1.. in the order given.
pub fn numbered(records: Vec<Record>) -> Vec<Source> {
    records
        .into_iter()
        .enumerate()
        .map(|(i, record)| Source {
            n: i as u32 + 1,
            record,
        })
        .collect()
}

/// 3 bedrooms · Dubai Marina · under AED 2.5M
pub fn marina_filters() -> Filters {
    Filters {
        bedrooms: Bounds {
            min: Some(3),
            max: Some(3),
        },
        communities: vec!["Dubai Marina".into()],
        price: Some(PriceRange {
            currency: "AED".into(),
            min_minor: None,
            max_minor: Some(250_000_000),
        }),
        ..Filters::default()
    }
}

/// Marina 3-beds under 2.5M, numbered ids 1.., references DM-101…
pub fn marina_listings(count: usize) -> Vec<Listing> {
    (0..count)
        .map(|i| {
            listing(
                i as u128 + 1,
                &format!("Marina Heights Tower {}", i + 1),
                &format!("DM-{}", 101 + i),
                "Dubai Marina",
                3,
                1_600.0 + i as f64 * 10.0,
                2_000_000 + i as i64 * 25_000,
            )
        })
        .collect()
}

pub fn policy_doc(id: u128) -> KnowledgeItem {
    item(
        id,
        KnowledgeKind::Document,
        "Commission policy",
        "Welcome to the handbook. Annual leave is 30 days.\n\n\
         Off-plan deals: the commission is split 50/50 between the listing agent and the \
         selling agent. Splits above 50% need the manager's approval. Parking at the office \
         is free for all staff.",
    )
}
