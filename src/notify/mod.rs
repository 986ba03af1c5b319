//! Notifications: every new alert reaches the matching people by email, SMS and Telegram, once,
//! with a record of each delivery (`docs/notifications.md`).
//!
//! The alert run hands each new alert to [`plan_deliveries`] inside the transaction that records
//! the alert's DHIS2 confirmation; the rows it writes are the system of record, and a Redis queue
//! holds the deliveries in flight, rebuilt from PostgreSQL by a reconciler as for submissions.

pub mod address;
pub mod attempt;
pub mod deliver;
pub mod directory;
pub mod email;
pub mod error;
pub mod log;
pub mod matching;
pub mod notice;
pub mod send;
pub mod sms;
pub mod telegram;
pub mod templates;

pub use error::NotifyError;
pub use notice::{AlertKind, AlertNotice, plan_deliveries};
