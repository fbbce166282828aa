//! Picks the numbered sources for a question from the tenant's data and the shared
//! knowledge base, as the asker may see them.

use roost_answer::{Record, Source};
use roost_api::chat::SourceKind;
use roost_api::search::Filters;
use roost_search::retrieve::{Asker, DOC_SOURCES, LISTING_SOURCES, plan};

use super::index::{DocRecord, TenantData};

/// Shared knowledge items added per kind, after the company's own.
const SHARED_SOURCES: usize = 2;

#[derive(Debug)]
pub struct Retrieved {
    pub sources: Vec<Source>,
    pub filters: Filters,
    pub listing_total: u64,
}

/// The sources for `question`, best first and numbered from 1. `query_vector` is the
/// question in the tenant's vector space, when the server embeds.
pub fn retrieve(
    tenant: &TenantData,
    shared: &TenantData,
    question: &str,
    query_vector: Option<&[f32]>,
    asker: Asker<'_>,
) -> Retrieved {
    let parsed = roost_search::parse(question, &tenant.parse_context);
    let plan = plan(question, &parsed);
    let mut records: Vec<Record> = Vec::new();
    let mut listing_total = 0;

    if plan.listings {
        let vector = query_vector.filter(|v| v.len() == tenant.listings.vectors.dim());
        let ranked = tenant.listings.rank(
            &parsed.residual,
            &parsed.filters,
            vector,
            0,
            LISTING_SOURCES,
        );
        listing_total = ranked.total;
        records.extend(
            ranked
                .page
                .iter()
                .filter_map(|(row, _)| tenant.listing(*row))
                .map(|l| Record::Listing(l.clone())),
        );
    } else if !parsed.filters.is_empty() {
        // Not asked for listings, but the answerer must not read 0 as "none match".
        listing_total = tenant.listings.rank("", &parsed.filters, None, 0, 1).total;
    }

    for kind in plan.kinds {
        let own_vector = query_vector.filter(|v| v.len() == tenant.docs.dim());
        for row in tenant
            .docs
            .rank(question, own_vector, kind, asker, DOC_SOURCES)
        {
            match tenant.doc(row) {
                Some(DocRecord::Knowledge(item)) => records.push(Record::Knowledge {
                    item: item.clone(),
                    shared: false,
                }),
                Some(DocRecord::Client(c)) => records.push(Record::Client(c.clone())),
                None => {}
            }
        }
        if kind == SourceKind::Client {
            continue;
        }
        let shared_vector = query_vector.filter(|v| v.len() == shared.docs.dim());
        for row in shared
            .docs
            .rank(question, shared_vector, kind, asker, SHARED_SOURCES)
        {
            if let Some(DocRecord::Knowledge(item)) = shared.doc(row) {
                records.push(Record::Knowledge {
                    item: item.clone(),
                    shared: true,
                });
            }
        }
    }

    Retrieved {
        sources: records
            .into_iter()
            .enumerate()
            .map(|(i, record)| Source {
                n: i as u32 + 1,
                record,
            })
            .collect(),
        filters: parsed.filters,
        listing_total,
    }
}
