//! Test helpers: the private services, the app on port 0, and the binary as a process.

pub mod app;
pub mod pipeline;
pub mod process;
pub mod services;
pub mod users;

pub use app::{TestApp, test_settings};
