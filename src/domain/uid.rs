//! DHIS2 UIDs: eleven ASCII letters or digits, the first a letter (`^[A-Za-z][A-Za-z0-9]{10}$`,
//! dhis2-core `CodeGenerator`).

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::excerpt;

/// Number of characters in every DHIS2 UID.
pub const UID_LENGTH: usize = 11;

/// Letters first, so the first 52 entries are the characters allowed to open a UID.
const ALPHANUMERIC: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LETTER_COUNT: usize = 52;

/// A valid DHIS2 UID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uid(String);

/// Why a text is not a DHIS2 UID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UidError {
    #[error("a UID has 11 characters, {input:?} has {length}")]
    WrongLength { input: String, length: usize },
    #[error("a UID starts with a letter, {input:?} starts with {found:?}")]
    FirstNotLetter { input: String, found: char },
    #[error("a UID has only letters and digits, {input:?} has {found:?} at position {position}")]
    BadChar {
        input: String,
        /// 1-based, as a person counts.
        position: usize,
        found: char,
    },
}

impl Uid {
    /// Parses a DHIS2 UID; the error says what is wrong with the text.
    pub fn parse(input: &str) -> Result<Uid, UidError> {
        let length = input.chars().count();
        if length != UID_LENGTH {
            return Err(UidError::WrongLength {
                input: excerpt(input),
                length,
            });
        }
        let mut chars = input.chars();
        if let Some(first) = chars.next().filter(|c| !c.is_ascii_alphabetic()) {
            return Err(UidError::FirstNotLetter {
                input: input.to_owned(),
                found: first,
            });
        }
        if let Some((index, found)) = chars.enumerate().find(|(_, c)| !c.is_ascii_alphanumeric()) {
            return Err(UidError::BadChar {
                input: input.to_owned(),
                position: index + 2,
                found,
            });
        }
        Ok(Uid(input.to_owned()))
    }

    /// A new random UID, drawn the way DHIS2 draws them: a letter, then ten letters or digits.
    pub fn generate() -> Uid {
        let mut rng = rand::rng();
        let mut uid = String::with_capacity(UID_LENGTH);
        uid.push(char::from(ALPHANUMERIC[rng.random_range(0..LETTER_COUNT)]));
        for _ in 1..UID_LENGTH {
            uid.push(char::from(
                ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())],
            ));
        }
        Uid(uid)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Uid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Uid {
    type Err = UidError;

    fn from_str(input: &str) -> Result<Uid, UidError> {
        Uid::parse(input)
    }
}

impl Serialize for Uid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Uid, D::Error> {
        let text = String::deserialize(deserializer)?;
        Uid::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_uids() {
        for text in [
            "pBOMPrpg1QX",
            "DiszpKrYNg8",
            "a0000000000",
            "Zzzzzzzzzzz",
            "g8upMTyEZGZ",
        ] {
            let uid = Uid::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(uid.as_str(), text);
            assert_eq!(uid.to_string(), text);
        }
    }

    #[test]
    fn rejects_wrong_length_and_says_how_long() {
        for (text, length) in [
            ("", 0),
            ("abc", 3),
            ("pBOMPrpg1Q", 10),
            ("pBOMPrpg1QXa", 12),
        ] {
            let err = Uid::parse(text).unwrap_err();
            assert!(
                matches!(&err, UidError::WrongLength { length: l, .. } if *l == length),
                "{text}: {err:?}"
            );
            assert!(err.to_string().contains(&format!("has {length}")), "{err}");
        }
    }

    #[test]
    fn counts_length_in_characters_not_bytes() {
        let err = Uid::parse("ééééééééééé").unwrap_err();
        assert!(
            matches!(err, UidError::FirstNotLetter { found: 'é', .. }),
            "{err:?}"
        );
    }

    #[test]
    fn rejects_a_first_character_that_is_not_a_letter() {
        for (text, found) in [
            ("1BOMPrpg1QX", '1'),
            ("_BOMPrpg1QX", '_'),
            (" BOMPrpg1QX", ' '),
        ] {
            let err = Uid::parse(text).unwrap_err();
            assert_eq!(
                err,
                UidError::FirstNotLetter {
                    input: text.to_owned(),
                    found
                }
            );
        }
        let message = Uid::parse("9BOMPrpg1QX").unwrap_err().to_string();
        assert_eq!(
            message,
            "a UID starts with a letter, \"9BOMPrpg1QX\" starts with '9'"
        );
    }

    #[test]
    fn rejects_a_bad_character_and_names_its_position() {
        let cases = [
            ("pBOMP-pg1QX", 6, '-'),
            ("pBOMPrpg1Q ", 11, ' '),
            ("pé000000000", 2, 'é'),
            ("pBOMPrpg1Qé", 11, 'é'),
        ];
        for (text, position, found) in cases {
            let err = Uid::parse(text).unwrap_err();
            assert!(
                matches!(&err, UidError::BadChar { position: p, found: f, .. } if *p == position && *f == found),
                "{text}: {err:?}"
            );
        }
        let message = Uid::parse("pBOMP-pg1QX").unwrap_err().to_string();
        assert_eq!(
            message,
            "a UID has only letters and digits, \"pBOMP-pg1QX\" has '-' at position 6"
        );
    }

    #[test]
    fn quotes_only_an_excerpt_of_very_long_input() {
        let message = Uid::parse(&"x".repeat(10_000)).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("has 10000"));
    }

    #[test]
    fn generated_uids_are_valid_and_differ() {
        let uids: Vec<Uid> = (0..1000).map(|_| Uid::generate()).collect();
        for uid in &uids {
            assert_eq!(Uid::parse(uid.as_str()).as_ref(), Ok(uid));
        }
        let distinct: std::collections::HashSet<_> = uids.iter().collect();
        assert_eq!(distinct.len(), uids.len());
    }

    #[test]
    fn generated_uids_use_the_whole_alphabet() {
        let mut first = std::collections::HashSet::new();
        let mut rest = std::collections::HashSet::new();
        for _ in 0..5000 {
            let uid = Uid::generate();
            let mut chars = uid.as_str().chars();
            first.extend(chars.next());
            rest.extend(chars);
        }
        assert_eq!(first.len(), LETTER_COUNT);
        assert_eq!(rest.len(), ALPHANUMERIC.len());
    }

    #[test]
    fn from_str_matches_parse() {
        assert_eq!("pBOMPrpg1QX".parse::<Uid>(), Uid::parse("pBOMPrpg1QX"));
        assert!("nope".parse::<Uid>().is_err());
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let uid = Uid::parse("pBOMPrpg1QX").unwrap();
        assert_eq!(serde_json::to_string(&uid).unwrap(), "\"pBOMPrpg1QX\"");
    }

    #[test]
    fn deserializing_validates() {
        let uid: Uid = serde_json::from_str("\"pBOMPrpg1QX\"").unwrap();
        assert_eq!(uid.as_str(), "pBOMPrpg1QX");

        let err = serde_json::from_str::<Uid>("\"1BOMPrpg1QX\"").unwrap_err();
        assert!(err.to_string().contains("starts with a letter"), "{err}");
        assert!(serde_json::from_str::<Uid>("42").is_err());
    }
}
