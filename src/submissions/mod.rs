//! The submission pipeline: validate and map, log in PostgreSQL, enqueue, deliver to DHIS2, record, retry, reconcile.
