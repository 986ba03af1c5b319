//! dhis2gw: a gateway that takes aggregate and tracker data from third-party systems and delivers
//! it to DHIS2 through a durable Redis queue with a PostgreSQL log, and runs outbreak alerts.
//!
//! The module map and the flow of a request are drawn in `docs/ARCHITECTURE.md`.

pub mod alerts;
pub mod app;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod dhis2;
pub mod domain;
pub mod group_commit;
pub mod health;
pub mod http;
pub mod mappings;
pub mod metrics;
pub mod notify;
pub mod queue;
pub mod run;
pub mod scheduler;
pub mod state;
pub mod submissions;
pub mod supervise;
pub mod telemetry;
