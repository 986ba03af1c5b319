//! The submission pipeline end to end against the DHIS2 simulator: delivery to each DHIS2
//! version, conflicts, retries, failures, tracker, concurrency and rate limits; and durability
//! (kill -9 of the daemon, Redis FLUSHALL, a PostgreSQL restart) with nothing lost.

mod cli;
mod delivery;
mod durability;
mod limits;
mod open_rows;
mod outages;
