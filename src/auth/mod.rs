//! Users, passwords, API tokens, JWT sessions, roles and login throttling (no HTTP here).

pub mod principal;

pub use principal::{Principal, Role};
