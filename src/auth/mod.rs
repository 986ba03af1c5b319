//! Users, passwords, API tokens, JWT sessions, roles and login throttling (no HTTP here).
//!
//! - [`credentials`] parses the `Authorization` header, [`authenticate`] turns it into a
//!   [`Principal`] (with the [`login_throttle`] of password logins);
//! - [`password`] hashes (argon2id; bcrypt verified and upgraded), [`secret`] makes tokens;
//! - [`jwt`] access tokens, [`session`] login/refresh/logout, [`api_tokens`] `Token` credentials;
//! - [`cache`] the users and tokens behind `Bearer` and `Token`, in memory;
//! - [`accounts`] user management, [`bootstrap`] the first admin.

pub mod accounts;
pub mod api_tokens;
pub mod authenticate;
pub mod bootstrap;
pub mod cache;
pub mod console_session;
pub mod credentials;
mod error;
pub mod jwt;
pub mod login_throttle;
pub mod password;
pub mod principal;
pub mod secret;
pub mod session;

pub use authenticate::authenticate;
pub use cache::AuthCache;
pub use credentials::Credentials;
pub use error::AuthError;
pub use principal::{Principal, Role};
