pub mod audit;
pub mod auth;
pub mod config;
pub mod health;
pub mod me;
pub mod tenants;
pub mod users;
