//! Numbered sources: the records an answer may use and cite as `[n]`.

use roost_api::chat::{Citation, SourceKind};
use roost_api::knowledge::{Client, KnowledgeItem};
use roost_api::listings::Listing;
use uuid::Uuid;

/// One retrieved record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Listing(Listing),
    /// `shared`: from the operator's shared knowledge base rather than the company's own.
    Knowledge {
        item: KnowledgeItem,
        shared: bool,
    },
    Client(Client),
}

/// A record with the number the answer cites it by.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// 1-based, as cited `[n]`; sources are given best first with `n` = position + 1.
    pub n: u32,
    pub record: Record,
}

impl Source {
    pub fn citation(&self) -> Citation {
        Citation {
            n: self.n,
            kind: self.kind(),
            id: self.id(),
            title: self.title(),
            shared: matches!(self.record, Record::Knowledge { shared: true, .. }),
        }
    }

    pub fn kind(&self) -> SourceKind {
        match &self.record {
            Record::Listing(_) => SourceKind::Listing,
            Record::Knowledge { item, .. } => item.kind.into(),
            Record::Client(_) => SourceKind::Client,
        }
    }

    pub fn id(&self) -> Uuid {
        match &self.record {
            Record::Listing(l) => l.id,
            Record::Knowledge { item, .. } => item.id,
            Record::Client(c) => c.id,
        }
    }

    /// The chip label: listing title (or "<type> in <community>", or its reference), item
    /// title, client name.
    pub fn title(&self) -> String {
        match &self.record {
            Record::Listing(l) => listing_label(l),
            Record::Knowledge { item, .. } => item.title.trim().to_string(),
            Record::Client(c) => c.name.trim().to_string(),
        }
    }
}

pub(crate) fn listing_label(l: &Listing) -> String {
    let some = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let Some(title) = some(&l.title) {
        return title;
    }
    match (some(&l.property_type), some(&l.community)) {
        (Some(t), Some(c)) => format!("{t} in {c}"),
        _ => l.external_id.trim().to_string(),
    }
}
