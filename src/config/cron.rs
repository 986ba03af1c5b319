//! A cron expression from the config, parsed once at load: 5 fields (minute hour day month
//! weekday) or 6 with seconds first; an empty one disables its job.

use std::fmt;

use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A job's schedule as written in the config, with croner's parsed form.
#[derive(Clone, Debug)]
pub struct CronExpr {
    text: String,
    cron: Option<Cron>,
}

impl CronExpr {
    /// Parses `text`; empty (or blank) means disabled.
    pub fn parse(text: &str) -> Result<CronExpr, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(CronExpr::disabled());
        }
        let fields = text.split_whitespace().count();
        if !(5..=6).contains(&fields) {
            return Err(format!(
                "expected 5 cron fields (minute hour day month weekday) or 6 with seconds first, \
                 got {fields} in {text:?}"
            ));
        }
        // croner also accepts a 7th (year) field; dhis2gw documents 5 or 6, so it is counted
        // out above, and seconds are optional so that both forms parse.
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(text)
            .map_err(|e| format!("not a cron expression ({e}): {text:?}"))?;
        Ok(CronExpr {
            text: text.to_owned(),
            cron: Some(cron),
        })
    }

    pub fn disabled() -> CronExpr {
        CronExpr {
            text: String::new(),
            cron: None,
        }
    }

    /// The schedule, or `None` when the job is disabled.
    pub fn cron(&self) -> Option<&Cron> {
        self.cron.as_ref()
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for CronExpr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for CronExpr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CronExpr::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_and_six_fields_parse_empty_disables() {
        assert!(CronExpr::parse("*/5 * * * *").unwrap().cron().is_some());
        assert!(CronExpr::parse("* * * * * *").unwrap().cron().is_some());
        assert!(CronExpr::parse("  ").unwrap().cron().is_none());
        assert_eq!(
            CronExpr::parse(" 0 0-23/6 * * * ").unwrap().as_str(),
            "0 0-23/6 * * *"
        );
    }

    #[test]
    fn bad_expressions_say_why() {
        let four = CronExpr::parse("* * * *").unwrap_err();
        assert!(four.contains("got 4"), "{four}");
        let seven = CronExpr::parse("0 0 0 1 1 * 2030").unwrap_err();
        assert!(seven.contains("got 7"), "{seven}");
        let bad = CronExpr::parse("61 * * * *").unwrap_err();
        assert!(bad.starts_with("not a cron expression"), "{bad}");
    }
}
