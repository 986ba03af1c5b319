//! Mappings: the table and its uniqueness, CRUD and list filters over HTTP, CSV/Excel import and
//! export round trips, limits, and metadata sync against the DHIS2 simulator.

mod api;
mod common;
mod db;
mod files;
mod import;
mod limits;
mod openapi;
mod pipeline;
mod sheets;
mod sync;
