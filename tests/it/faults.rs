//! Faults and what dhis2gw makes of them. The DHIS2 faults here complete those of
//! `pipeline::delivery` and `dhis2_client::faults` (see docs/reliability.md for the whole list);
//! the dependency and daemon faults under load are in `packaging/faults.sh`.

mod aborted_transaction;
mod dhis2;
mod shutdown;
mod statement_timeout;
