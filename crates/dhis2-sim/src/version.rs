//! The emulated DHIS2 version and every behaviour that depends on it.
//!
//! Each gate below names the release (and patch backports) where DHIS2 changed a wire detail, so a
//! handler asks `version.has_rejected_indexes()` instead of comparing numbers itself.

use std::fmt;

/// A DHIS2 release number such as `2.40.3` or `2.38.4.3`, compared component by component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dhis2Version {
    raw: String,
    parts: Vec<u32>,
}

impl Dhis2Version {
    /// Parses leniently: `2.41.0`, `2.40.3.1` and `2.42-SNAPSHOT` are all accepted; at least a
    /// major and a minor number are required.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let numeric = raw.trim().split(['-', '+', ' ']).next().unwrap_or_default();
        let parts = numeric
            .split('.')
            .map(str::parse::<u32>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| anyhow::anyhow!("not a DHIS2 version: {raw:?}"))?;
        if parts.len() < 2 {
            anyhow::bail!("not a DHIS2 version (need at least major.minor): {raw:?}");
        }
        Ok(Self {
            raw: raw.trim().to_owned(),
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The "40" of 2.40.3: DHIS2 numbers its releases by the minor component.
    pub fn minor(&self) -> u32 {
        self.parts[1]
    }

    fn patch(&self) -> u32 {
        self.parts.get(2).copied().unwrap_or(0)
    }

    /// True when this release contains a change that landed in `all_from_minor` and was
    /// backported to the given `(minor, patch)` releases.
    fn has_change(&self, backports: &[(u32, u32)], all_from_minor: u32) -> bool {
        if self.minor() >= all_from_minor {
            return true;
        }
        backports
            .iter()
            .any(|&(minor, patch)| self.minor() == minor && self.patch() >= patch)
    }

    /// 2.38 wrapped the dataValueSets import summary in a WebMessage; 2.37 returns it bare.
    pub fn wraps_import_summary(&self) -> bool {
        self.minor() >= 38
    }

    /// `rejectedIndexes` in ImportSummary: 2.39.2, 2.40.1, 2.41.
    pub fn has_rejected_indexes(&self) -> bool {
        self.has_change(&[(39, 2), (40, 1)], 41)
    }

    /// An unchanged re-import counts as `ignored` (before: `updated`): 2.38.6, 2.39.5, 2.40.3, 2.41.
    pub fn counts_unchanged_as_ignored(&self) -> bool {
        self.has_change(&[(38, 6), (39, 5), (40, 3)], 41)
    }

    /// E7619 was reworded in 2.39.
    pub fn has_new_value_type_wording(&self) -> bool {
        self.minor() >= 39
    }

    /// 404 WebMessages carry `errorCode: E1005` from 2.40.
    pub fn has_not_found_error_code(&self) -> bool {
        self.minor() >= 40
    }

    /// 2.41 moved to the job-scheduler framework: new async messages and notifications.
    pub fn uses_job_framework(&self) -> bool {
        self.minor() >= 41
    }

    /// 2.41 validates the PAT checksum before the lookup (400 instead of 401).
    pub fn validates_pat_checksum(&self) -> bool {
        self.minor() >= 41
    }

    /// 2.41 dropped the trailing period of "The API token does not exists."
    pub fn unknown_pat_message(&self) -> &'static str {
        if self.minor() >= 41 {
            "The API token does not exists"
        } else {
            "The API token does not exists."
        }
    }

    /// Where an unauthenticated browser-like request is redirected.
    pub fn login_path(&self) -> &'static str {
        if self.minor() >= 41 {
            "/dhis-web-login"
        } else {
            "/dhis-web-commons/security/login.action"
        }
    }

    /// `responseType: "TrackerJob"` in the async tracker answer: up to 2.40.
    pub fn has_tracker_job_response_type(&self) -> bool {
        self.minor() <= 40
    }

    /// Tracker objectReports carry `index` up to 2.40.
    pub fn has_tracker_object_index(&self) -> bool {
        self.minor() <= 40
    }

    /// Tracker error reports carry `args` from 2.41.
    pub fn has_tracker_error_args(&self) -> bool {
        self.minor() >= 41
    }

    /// ImportOptions echo gained the strictDataSet* flags in 2.41.
    pub fn has_strict_data_set_options(&self) -> bool {
        self.minor() >= 41
    }
}

impl Default for Dhis2Version {
    fn default() -> Self {
        Self::parse("2.40.3").expect("literal version parses")
    }
}

impl fmt::Display for Dhis2Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Dhis2Version {
        Dhis2Version::parse(s).unwrap()
    }

    #[test]
    fn parses_snapshot_and_four_part_versions() {
        assert_eq!(v("2.42-SNAPSHOT").minor(), 42);
        assert_eq!(v("2.38.4.3").patch(), 4);
        assert!(Dhis2Version::parse("forty").is_err());
        assert!(Dhis2Version::parse("2").is_err());
    }

    #[test]
    fn backported_gates_follow_patch_levels() {
        assert!(!v("2.39.1").has_rejected_indexes());
        assert!(v("2.39.2").has_rejected_indexes());
        assert!(!v("2.40.0").has_rejected_indexes());
        assert!(v("2.40.1").has_rejected_indexes());
        assert!(!v("2.38.7").has_rejected_indexes());
        assert!(v("2.41.0").has_rejected_indexes());
        assert!(!v("2.38.5").counts_unchanged_as_ignored());
        assert!(v("2.38.6").counts_unchanged_as_ignored());
        assert!(!v("2.40.2").counts_unchanged_as_ignored());
        assert!(v("2.40.3").counts_unchanged_as_ignored());
    }
}
