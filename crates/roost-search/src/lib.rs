//! The search engine without storage, shared by the device (offline search and answers) and
//! the server (chat retrieval), so a question reads the same filters on both.
//!
//! - [`query`]: "3 bed villa under 4M in Arabian Ranches" → exact filters + residual words.
//! - [`index`]: one tenant's listings in memory — filter fields ([`columns`]), BM25 words
//!   ([`keywords`]), int8 vectors ([`quantised`]) — and the fused ranking over them.
//! - [`retrieve`]: what a chat question is about, and knowledge/client ranking by role.
//! - [`snippet`]: the words around a match, for result cards.

pub mod columns;
pub mod index;
pub mod keywords;
pub mod quantised;
pub mod query;
pub mod retrieve;
pub mod snippet;

pub use columns::RowFields;
pub use index::{Index, Ranked, RowText, fuse};
pub use query::{ParseContext, ParsedQuery, parse};
