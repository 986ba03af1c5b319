//! Sysadmin subcommands that work straight on the database (no HTTP): users and tokens,
//! submission logs, and running a scheduled job once; and `detect`, which needs none of them.

pub mod adopt;
pub mod alert_rules;
pub mod audit;
pub mod detect;
pub mod logs;
pub mod notify_test;
pub mod run_job;
pub mod user;
