//! The change feed devices sync from: `GET /api/v1/sync/changes?since=CURSOR&limit=N`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::VersionedConfig;
use crate::knowledge::{Client, KnowledgeItem};
use crate::listings::Listing;

/// The vector space of the embeddings in a feed. A device never mixes two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmbeddingModel {
    pub id: String,
    pub dim: u32,
    /// How vectors are encoded: `f32le` (little-endian f32, base64 in JSON).
    pub encoding: String,
}

/// One change, in the order the server made them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A listing was added or changed. `embedding` is base64 of the vector in the feed's
    /// model and encoding; absent while the server has not embedded this version yet.
    Listing {
        seq: i64,
        listing: Listing,
        embedding: Option<String>,
    },
    /// A listing was removed.
    ListingDeleted { seq: i64, id: Uuid },
    /// The tenant configuration (branding, features) changed.
    Config { seq: i64, config: VersionedConfig },
    /// A knowledge item the caller may see was added or changed (with its vector, as for
    /// listings).
    Knowledge {
        seq: i64,
        item: KnowledgeItem,
        embedding: Option<String>,
    },
    /// A knowledge item was removed, or the caller may no longer see it.
    KnowledgeDeleted { seq: i64, id: Uuid },
    /// A client the caller may see was added or changed.
    Client { seq: i64, client: Client },
    /// A client was removed, or is no longer the caller's.
    ClientDeleted { seq: i64, id: Uuid },
    /// One of the signed-in user's own actions, after its state changed on the server (its
    /// outcome, or a later WhatsApp status): the device's outbox follows it.
    Action {
        seq: i64,
        action: crate::actions::ActionRecord,
    },
}

impl Change {
    pub fn seq(&self) -> i64 {
        match self {
            Change::Listing { seq, .. }
            | Change::ListingDeleted { seq, .. }
            | Change::Config { seq, .. }
            | Change::Knowledge { seq, .. }
            | Change::KnowledgeDeleted { seq, .. }
            | Change::Client { seq, .. }
            | Change::ClientDeleted { seq, .. }
            | Change::Action { seq, .. } => *seq,
        }
    }
}

/// Response headers of a feed page that repeat its `next_cursor` (only when `has_more`) and
/// `scope`, so a device can ask for the next page as soon as the headers arrive, while this
/// page's body is still coming and being applied. The body stays the authority.
pub const NEXT_CURSOR_HEADER: &str = "x-roost-next-cursor";
pub const SCOPE_HEADER: &str = "x-roost-scope";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePage {
    /// Ascending by `seq`, all greater than the `since` asked for.
    pub changes: Vec<Change>,
    /// Pass as `since` next time; stays equal to `since` when there was nothing new.
    pub next_cursor: i64,
    /// More changes wait after this page.
    pub has_more: bool,
    /// The feed's committed head when this page was read: `head - next_cursor` is about how
    /// many changes are still to come (a progress bar's denominator). 0 from older servers.
    #[serde(default)]
    pub head: i64,
    /// The model of every embedding in this page; absent when the server embeds nothing.
    pub embedding_model: Option<EmbeddingModel>,
    /// What the caller may see (their roles, as acted in). When it differs from the scope the
    /// device synced under, the device drops its cache and syncs again from 0, so data a role
    /// no longer allows leaves the device.
    pub scope: String,
}
