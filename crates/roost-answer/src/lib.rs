//! Chat logic shared by the server and the device: numbered sources, the prompt for LLM
//! providers, the built-in grounded answerer (no model, no key), citation parsing, streaming
//! pieces and the grounding check.
//!
//! Invariant: no I/O and no async (no tokio, sqlx, reqwest, rusqlite), so the device can answer
//! offline with the same code the server uses. Output is deterministic: the same question and
//! sources always give the same answer.

mod cite;
mod filters_text;
mod grounded;
mod grounding;
mod money_text;
mod prompt;
mod source;
mod stream;
mod text;

#[cfg(test)]
mod tests;

use roost_api::search::Filters;

pub use cite::{citations, cited_numbers};
pub use filters_text::describe_filters;
pub use grounded::grounded_answer;
pub use grounding::ungrounded_mentions;
pub use prompt::{Prompt, prompt};
pub use source::{Record, Source};
pub use stream::stream_pieces;

/// What the user asked, with what retrieval read from it.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub text: &'a str,
    /// Exact filters read from the question (and applied by retrieval).
    pub filters: &'a Filters,
    /// Listings passing the filters in the whole data; may exceed the listing sources given.
    pub listing_total: u64,
    /// The tenant's display name, for "… in Acme Realty's data"; empty reads "the data".
    pub company: &'a str,
}

/// A composed answer: markdown text and the source numbers it cites, in first-use order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    pub cited: Vec<u32>,
}

/// "Acme Realty's data", or "the data" when the company has no name.
pub(crate) fn data_of(company: &str) -> String {
    let company = company.trim();
    if company.is_empty() {
        "the data".to_string()
    } else if company.ends_with('s') || company.ends_with('S') {
        format!("{company}' data")
    } else {
        format!("{company}'s data")
    }
}
