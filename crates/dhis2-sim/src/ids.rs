//! Identifiers and timestamps the way DHIS2 prints them.

use chrono::{NaiveDateTime, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;

/// A fresh DHIS2 UID (`CodeGenerator`): a letter, then ten letters or digits.
pub fn new_uid() -> String {
    let mut rng = rand::rng();
    let first = loop {
        let c = char::from(rng.sample(Alphanumeric));
        if c.is_ascii_alphabetic() {
            break c;
        }
    };
    std::iter::once(first)
        .chain((0..10).map(|_| char::from(rng.sample(Alphanumeric))))
        .collect()
}

/// The server clock (UTC, DHIS2's `serverTimeZoneId: Etc/UTC`).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Jackson's `java.util.Date` format in DHIS2: `yyyy-MM-dd'T'HH:mm:ss.SSS`, no time zone.
pub fn timestamp(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_uids_follow_the_rule() {
        for _ in 0..100 {
            assert!(crate::catalog::is_uid(&new_uid()));
        }
        let at = NaiveDateTime::parse_from_str("2024-03-11 10:00:34", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(timestamp(at), "2024-03-11T10:00:34.000");
    }
}
