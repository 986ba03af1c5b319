//! A drop-in replacement for the original gateway: its other URLs (landing page, operator docs,
//! logs viewer, the unauthenticated mappings template), CORS for browsers on other origins, the
//! raw dataValueSet route, and the queue stats at the original's path.

mod audit;
mod cors;
mod data_value_sets;
mod jwt;
mod pages;
