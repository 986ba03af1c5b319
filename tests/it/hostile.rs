//! Hostile input against the real binary: secrets never leave it (log at trace level, API
//! answers, `check-config`), malformed requests are 4xx, never a panic, and exports do not carry
//! formulas to a spreadsheet.

mod exports;
mod malformed;
mod secrets;
