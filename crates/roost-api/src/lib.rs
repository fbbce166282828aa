//! Plain data shared by the Roost server, the offline core and the UI.
//!
//! Invariant: this crate builds for `wasm32-unknown-unknown` and depends on nothing that does
//! I/O (no tokio, sqlx, reqwest). Validation that both sides need (tenant config) lives here so
//! the UI can check a form before sending it and the server enforces the same rules.

pub mod actions;
pub mod app;
pub mod audit;
pub mod auth;
pub mod chat;
pub mod config;
pub mod error;
pub mod import_formats;
pub mod imports;
pub mod knowledge;
pub mod listings;
pub mod media;
pub mod money;
pub mod search;
pub mod sync;
pub mod tenants;
pub mod users;

pub use error::{ApiError, ErrorBody, ErrorCode};

/// Every route lives under this prefix.
pub const API_PREFIX: &str = "/api/v1";

/// Header an app sends with its API version; the server answers `client_outdated` when it is
/// older than it supports, so an old app can say "please update" instead of failing to parse.
pub const API_VERSION_HEADER: &str = "x-roost-api-version";

/// Header naming the one role a request acts in (the app's role switcher); without it a
/// request acts in all of the user's roles.
pub const ROLE_HEADER: &str = "x-roost-role";

/// The API version this crate describes.
pub const API_VERSION: u32 = 1;

/// Unix time in milliseconds; every timestamp in the API uses it.
pub type Millis = i64;
