//! The one integration-test binary: every test starts the real app (or the simulator) against
//! private PostgreSQL and Redis instances started by `packaging/local-services.sh`.

mod support;

mod adopt;
mod aggregate;
mod alert_rules;
mod alert_run;
mod auth;
mod config;
mod console;
mod detect_cli;
mod dhis2_client;
mod dropin;
mod faults;
mod health;
mod hostile;
mod lifecycle;
mod mappings;
mod metrics;
mod migrations;
mod notify;
mod pipeline;
mod queue;
mod scheduler;
mod supervision;
mod users;
