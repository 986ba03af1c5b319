//! Hostile input against the real binary: secrets never leave it (log at trace level, API
//! answers, `check-config`), and malformed requests are 4xx, never a panic.

mod malformed;
mod secrets;
