//! Listings for unit tests.

use std::collections::BTreeMap;

use roost_api::listings::{Area, AreaUnit, Listing, Price};
use uuid::Uuid;

/// A complete listing whose id follows from `n`.
pub fn listing(n: i64) -> Listing {
    Listing {
        id: Uuid::from_u128(n as u128 + 1),
        external_id: format!("L-{n:04}"),
        title: Some(format!("{n} bed villa")),
        description: Some("Garden and a private pool".into()),
        price: Some(Price {
            amount_minor: 350_000_000 + n,
            currency: "AED".into(),
        }),
        bedrooms: Some(3),
        bathrooms: Some(2.5),
        size: Some(Area::new(250.0, AreaUnit::Sqm)),
        property_type: Some("Villa".into()),
        community: Some("Arabian Ranches".into()),
        city: Some("Dubai".into()),
        status: Some("For Sale".into()),
        latitude: Some(25.05),
        longitude: Some(55.27),
        furnished: Some(false),
        photos: vec!["https://img.example/1.jpg".into()],
        listed_at: Some("2026-01-02".into()),
        attributes: BTreeMap::from([("View".to_string(), "Golf".to_string())]),
        updated_at: 1_700_000_000_000 + n,
    }
}
