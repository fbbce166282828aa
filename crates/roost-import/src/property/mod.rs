//! Listings: the canonical fields, the record, and how a row becomes one.

mod build;

use serde::Serialize;

use crate::mapping::Field;
use crate::values::{Date, Price, Size, SizeUnit, parse_size};

pub(crate) use build::Properties;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropertyField {
    Id,
    Title,
    Description,
    Price,
    Currency,
    Bedrooms,
    Bathrooms,
    Size,
    PropertyType,
    Community,
    City,
    Status,
    Latitude,
    Longitude,
    Furnished,
    Photos,
    ListedAt,
}

impl Field for PropertyField {
    const ALL: &'static [Self] = &[
        Self::Id,
        Self::Title,
        Self::Description,
        Self::Price,
        Self::Currency,
        Self::Bedrooms,
        Self::Bathrooms,
        Self::Size,
        Self::PropertyType,
        Self::Community,
        Self::City,
        Self::Status,
        Self::Latitude,
        Self::Longitude,
        Self::Furnished,
        Self::Photos,
        Self::ListedAt,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Title => "title",
            Self::Description => "description",
            Self::Price => "price",
            Self::Currency => "currency",
            Self::Bedrooms => "bedrooms",
            Self::Bathrooms => "bathrooms",
            Self::Size => "size",
            Self::PropertyType => "property_type",
            Self::Community => "community",
            Self::City => "city",
            Self::Status => "status",
            Self::Latitude => "latitude",
            Self::Longitude => "longitude",
            Self::Furnished => "furnished",
            Self::Photos => "photos",
            Self::ListedAt => "listed_at",
        }
    }

    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Self::Id => &[
                "ref",
                "reference",
                "listingid",
                "propertyid",
                "id",
                "refno",
                "referenceno",
                "referencenumber",
                "listingref",
                "listingreference",
                "propertyref",
                "propertyreference",
                "mls",
                "mlsid",
                "mlsnumber",
            ],
            Self::Title => &["title", "listingtitle", "propertytitle", "headline", "name"],
            Self::Description => &[
                "description",
                "desc",
                "details",
                "remarks",
                "publicremarks",
                "listingdescription",
                "propertydescription",
            ],
            Self::Price => &[
                "price",
                "askingprice",
                "listprice",
                "saleprice",
                "listingprice",
                "asking",
                "rent",
                "rentalprice",
                "rentprice",
                "amount",
            ],
            Self::Currency => &["currency", "currencycode", "curr", "ccy"],
            Self::Bedrooms => &[
                "beds",
                "bedrooms",
                "br",
                "bedroomcount",
                "noofbedrooms",
                "bed",
                "bedroom",
                "numberofbedrooms",
                "numbedrooms",
                "nobedrooms",
            ],
            Self::Bathrooms => &[
                "baths",
                "bathrooms",
                "ba",
                "bathroomcount",
                "noofbathrooms",
                "bath",
                "bathroom",
                "numberofbathrooms",
                "numbathrooms",
                "nobathrooms",
            ],
            Self::Size => &[
                "sqft",
                "area",
                "size",
                "livingarea",
                "builtuparea",
                "builtup",
                "sqm",
                "m2",
                "m²",
                "floorarea",
                "totalarea",
                "squarefeet",
                "squaremeters",
                "squaremetres",
                "sizesqft",
                "sizesqm",
                "areasqft",
                "areasqm",
                "bua",
            ],
            Self::PropertyType => &[
                "type",
                "propertytype",
                "category",
                "propertycategory",
                "unittype",
                "listingcategory",
            ],
            Self::Community => &[
                "community",
                "area",
                "neighbourhood",
                "neighborhood",
                "location",
                "district",
                "locality",
                "subcommunity",
            ],
            Self::City => &["city", "town", "emirate", "municipality"],
            Self::Status => &[
                "status",
                "listingstatus",
                "offeringtype",
                "purpose",
                "listingtype",
                "transactiontype",
                "availability",
            ],
            Self::Latitude => &["lat", "latitude"],
            Self::Longitude => &["lng", "lon", "long", "longitude"],
            Self::Furnished => &["furnished", "furnishing", "isfurnished", "furnishingstatus"],
            Self::Photos => &[
                "photos",
                "images",
                "photourls",
                "imageurls",
                "pictures",
                "photo",
                "image",
                "gallery",
                "media",
            ],
            Self::ListedAt => &[
                "listedat",
                "listed",
                "listingdate",
                "datelisted",
                "listdate",
                "dateadded",
                "publishedat",
                "publishdate",
                "published",
                "createdat",
            ],
        }
    }

    /// `Area` means floor area in some markets and neighbourhood in others; the
    /// values decide.
    fn fits(self, value: &str) -> bool {
        let numeric = parse_size(value, Some(SizeUnit::Sqft), Default::default()).is_ok();
        match self {
            Self::Size => numeric,
            Self::Community => !numeric,
            _ => true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    ForSale,
    ForRent,
    OffPlan,
    UnderOffer,
    Sold,
    Rented,
    Withdrawn,
}

impl ListingStatus {
    pub fn parse(text: &str) -> Option<ListingStatus> {
        let key: String = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "forsale" | "sale" | "sell" | "buy" | "resale" => Self::ForSale,
            "forrent" | "rent" | "rental" | "tolet" | "forlease" | "lease" | "let" => Self::ForRent,
            "offplan" | "newlaunch" | "underconstruction" => Self::OffPlan,
            "underoffer" | "pending" | "undercontract" | "reserved" | "sstc" => Self::UnderOffer,
            "sold" => Self::Sold,
            "rented" | "leased" | "letagreed" => Self::Rented,
            "withdrawn" | "offmarket" | "inactive" | "expired" => Self::Withdrawn,
            _ => return None,
        })
    }
}

/// A column we did not map, kept as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    pub column: String,
    pub value: String,
}

/// One valid listing row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyRecord {
    /// Source row, 1-based with the header as row 1.
    pub row: usize,
    /// The file's own listing reference.
    pub id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub price: Price,
    pub bedrooms: Option<u16>,
    /// Full bathrooms; `2.5` reads as 2 full and 1 half.
    pub bathrooms: Option<u16>,
    pub half_bathrooms: Option<u16>,
    pub size: Option<Size>,
    pub property_type: Option<String>,
    pub community: Option<String>,
    pub city: Option<String>,
    pub status: Option<ListingStatus>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub furnished: Option<bool>,
    pub photos: Vec<String>,
    pub listed_at: Option<Date>,
    pub attributes: Vec<Attribute>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::normalise_header;

    #[test]
    fn synonyms_are_normalised() {
        for f in PropertyField::ALL {
            for s in f.synonyms() {
                assert_eq!(normalise_header(s), *s, "{f:?}");
            }
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(
            ListingStatus::parse("For Sale"),
            Some(ListingStatus::ForSale)
        );
        assert_eq!(
            ListingStatus::parse("for-rent"),
            Some(ListingStatus::ForRent)
        );
        assert_eq!(
            ListingStatus::parse("Off-Plan"),
            Some(ListingStatus::OffPlan)
        );
        assert_eq!(ListingStatus::parse("SOLD"), Some(ListingStatus::Sold));
        assert_eq!(ListingStatus::parse("maybe"), None);
    }
}
