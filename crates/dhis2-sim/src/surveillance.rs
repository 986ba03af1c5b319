//! Seeded weekly surveillance data: a generated hierarchy (a region of districts of facilities
//! under an existing org unit), diseases as data elements, the alert tracker program, and
//! weekly case counts derived from a seed alone, so the same data can be served again (to the
//! gateway and to any other program) and recomputed by a test without asking the simulator.
//!
//! Counts are made per district (a skewed draw around each disease's rate, with rare
//! outbreaks, and about 1 district-week in 20 not reported) and split case by case over the
//! district's facilities, so a district's value is always the sum of its facilities'.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::seed::{DataElement, OrgUnit, Program, ProgramStage, Seed, TrackedEntityType};

/// The alert program of the original threshold-alert program, and its tracked entity type.
pub const ALERT_PROGRAM: &str = "xDsAFnQMmeU";
pub const ALERT_TET: &str = "QH1LBzGrk5g";
/// A program stage for the alert's event (the original sent none; dhis2gw does when configured).
pub const ALERT_STAGE: &str = "AlrtStage01";
/// The generated region that holds the districts.
pub const REGION: &str = "RegSurv0001";

/// What to generate (the `surveillance` key of a seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Surveillance {
    /// Everything below follows from it.
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub districts: usize,
    pub facilities_per_district: usize,
    pub diseases: usize,
    /// The newest week with data, e.g. `2026W47`.
    pub last_week: String,
    /// Weeks with data, ending with `last_week`.
    pub weeks: usize,
    /// The org unit the generated region hangs under (level 1 of the built-in seed by default).
    #[serde(default = "default_parent")]
    pub parent: String,
    /// Whether a zero count is stored (DHIS2 `zeroIsSignificant`), so analytics gives `"0"`
    /// rows; otherwise zeros are absent like missing reports.
    #[serde(default)]
    pub zeros_stored: bool,
    /// Values as `"3.0"` (as DHIS2 writes doubles) rather than `"3"`.
    #[serde(default)]
    pub string_decimals: bool,
}

fn default_seed() -> u64 {
    20
}

fn default_parent() -> String {
    "sEl465gkHn9".to_owned()
}

pub fn district_uid(i: usize) -> String {
    format!("Dst{i:08}")
}

pub fn facility_uid(i: usize, f: usize, per: usize) -> String {
    format!("Fac{:08}", i * per + f)
}

pub fn disease_uid(d: usize) -> String {
    format!("Dis{d:08}")
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn mix(parts: &[u64]) -> u64 {
    parts.iter().fold(0x5EED, |h, p| splitmix(h ^ p))
}

/// Days since 1970 of a week's Monday, divided by 7: weeks numbered in time.
pub fn week_ordinal(year: i32, week: u32) -> Option<i64> {
    let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)?;
    Some(
        monday
            .signed_duration_since(NaiveDate::default())
            .num_days()
            / 7,
    )
}

/// `2026W7` → (2026, 7).
pub fn parse_week(text: &str) -> Option<(i32, u32)> {
    let (y, w) = text.split_once('W')?;
    let (y, w) = (y.parse().ok()?, w.parse().ok()?);
    week_ordinal(y, w).map(|_| (y, w))
}

/// `(year, week)` of an ordinal.
pub fn week_of(ordinal: i64) -> (i32, u32) {
    // 1970-01-01 was a Thursday: Mondays are day 7n + 4.
    let monday = NaiveDate::default() + chrono::Duration::days(ordinal * 7 + 4);
    let iso = monday.iso_week();
    (iso.year(), iso.week())
}

impl Surveillance {
    fn last_ordinal(&self) -> Option<i64> {
        let (y, w) = parse_week(&self.last_week)?;
        week_ordinal(y, w)
    }

    fn has_data(&self, week: i64) -> bool {
        self.last_ordinal()
            .is_some_and(|last| week <= last && week > last - self.weeks as i64)
    }

    /// Cases of disease `d` in district `i` in the week `ordinal`; `None` when not reported.
    /// A zero is returned as `Some(0.0)` whether or not it is stored.
    pub fn district_cases(&self, d: usize, i: usize, ordinal: i64) -> Option<u64> {
        if d >= self.diseases || i >= self.districts || !self.has_data(ordinal) {
            return None;
        }
        let h = mix(&[self.seed, 1, d as u64, i as u64, ordinal as u64]);
        if h.is_multiple_of(20) {
            return None;
        }
        let rate = [0.15, 0.4, 0.8, 1.5, 3.0, 6.0][d % 6];
        let u = ((h >> 11) as f64 + 1.0) / ((1u64 << 53) as f64 + 1.0);
        let mut cases = (-u.ln() * rate).floor() as u64;
        if (h >> 3).is_multiple_of(97) {
            cases += 5 + (h >> 20) % 15;
        }
        Some(cases)
    }

    /// Facility `f` of district `i`: its share of the district's cases.
    pub fn facility_cases(&self, d: usize, i: usize, f: usize, ordinal: i64) -> Option<u64> {
        let total = self.district_cases(d, i, ordinal)?;
        let per = self.facilities_per_district.max(1);
        let mut mine = 0;
        for case in 0..total {
            let h = mix(&[self.seed, 2, d as u64, i as u64, ordinal as u64, case]);
            if (h % per as u64) as usize == f {
                mine += 1;
            }
        }
        Some(mine)
    }

    /// A count as analytics shows it: `None` when absent (not reported, or a zero not stored).
    pub fn shown(&self, cases: Option<u64>) -> Option<f64> {
        match cases {
            Some(0) if !self.zeros_stored => None,
            Some(c) => Some(c as f64),
            None => None,
        }
    }

    pub fn format_value(&self, v: f64) -> String {
        if self.string_decimals {
            format!("{v:.1}")
        } else {
            format!("{v}")
        }
    }

    /// The seed with the generated hierarchy, diseases and alert program added.
    pub fn extend(&self, mut seed: Seed) -> Seed {
        let per = self.facilities_per_district;
        seed.organisation_units.push(OrgUnit {
            id: REGION.into(),
            code: Some("OU_SURV".into()),
            name: "Surveillance Region".into(),
            short_name: None,
            parent: Some(self.parent.clone()),
            opening_date: None,
        });
        for i in 0..self.districts {
            seed.organisation_units.push(OrgUnit {
                id: district_uid(i),
                code: None,
                name: format!("Sv District {i}"),
                short_name: None,
                parent: Some(REGION.into()),
                opening_date: None,
            });
            for f in 0..per {
                seed.organisation_units.push(OrgUnit {
                    id: facility_uid(i, f, per),
                    code: None,
                    name: format!("Clinic {i}-{f}"),
                    short_name: None,
                    parent: Some(district_uid(i)),
                    opening_date: None,
                });
            }
        }
        let combo = seed
            .category_combos
            .first()
            .map(|c| c.id.clone())
            .unwrap_or_default();
        for d in 0..self.diseases {
            seed.data_elements.push(DataElement {
                id: disease_uid(d),
                code: Some(format!("DIS_{d}")),
                name: format!("Disease {d} suspected"),
                short_name: None,
                value_type: "INTEGER".into(),
                category_combo: combo.clone(),
                zero_is_significant: self.zeros_stored,
            });
        }
        if !seed.tracked_entity_types.iter().any(|t| t.id == ALERT_TET) {
            seed.tracked_entity_types.push(TrackedEntityType {
                id: ALERT_TET.into(),
                name: "Alert".into(),
            });
            seed.programs.push(Program {
                id: ALERT_PROGRAM.into(),
                code: Some("ALERTS".into()),
                name: "Outbreak alerts".into(),
                tracked_entity_type: Some(ALERT_TET.into()),
                program_stages: vec![ProgramStage {
                    id: ALERT_STAGE.into(),
                    name: "Alert details".into(),
                }],
            });
        }
        seed
    }
}
