//! Test helpers: the private services, the app on port 0, the binary as a process, and the one
//! request helper for both.

pub mod app;
pub mod http;
pub mod pipeline;
pub mod process;
pub mod services;
pub mod users;

pub use app::{Deliveries, TestApp, test_settings};
