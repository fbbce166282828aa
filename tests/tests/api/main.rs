//! The API over real HTTP on 127.0.0.1, each test on SQLite and on PostgreSQL.

mod actions;
mod audit;
mod auth;
mod chat;
mod config;
mod crash;
mod embeddings;
mod errors;
mod imports;
mod isolation;
mod knowledge;
mod media;
mod sync;
mod tenants;
mod webhooks;
