//! `POST /api/v2/aggregate` and `POST /api/v2/tracker` at the HTTP edge: the original's body and
//! answer keys, every validation error, mapping schemes, idempotency, roles; and the log routes.

mod accept;
mod logs_api;
mod tracker;
mod validation;
