//! `GET /api/analytics` over the seeded surveillance data (`surveillance.rs`) in DHIS2's wire
//! format: the `ListGrid` with string cells, `metaData.items`/`dimensions`, `rowContext: {}`;
//! a 409 E7144 while "analytics tables are not generated", a 409 E7128 above the row limit.
//! Also the attribute `generate` endpoint of the alert number.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use poem::Response;
use serde_json::{Map, Value, json};

use super::request::Ctx;
use super::surveillance::{
    REGION, Surveillance, district_uid, facility_uid, parse_week, week_of, week_ordinal,
};
use super::webmessage::{WebMessage, json_response};

/// Switches tests flip at run time.
#[derive(Debug)]
pub struct AnalyticsSwitches {
    pub tables_generated: AtomicBool,
    /// DHIS2's `analyticsMaxLimit` (50 000 by default).
    pub max_rows: AtomicUsize,
    pub alert_numbers: AtomicU64,
    /// Answer `generate` with 409 (an attribute without a pattern).
    pub generate_unsupported: AtomicBool,
}

impl Default for AnalyticsSwitches {
    fn default() -> Self {
        Self {
            tables_generated: AtomicBool::new(true),
            max_rows: AtomicUsize::new(50_000),
            alert_numbers: AtomicU64::new(0),
            generate_unsupported: AtomicBool::new(false),
        }
    }
}

impl super::SimHandle {
    /// Whether analytics answers (false: 409 E7144, as before DHIS2's analytics job ran).
    pub fn set_analytics_tables_generated(&self, generated: bool) {
        self.state()
            .analytics
            .tables_generated
            .store(generated, Ordering::SeqCst);
    }

    /// The most rows one analytics answer may have (409 E7128 above).
    pub fn set_analytics_max_rows(&self, rows: usize) {
        self.state()
            .analytics
            .max_rows
            .store(rows, Ordering::SeqCst);
    }

    /// The generated surveillance data, when the seed has one.
    pub fn surveillance(&self) -> Option<Surveillance> {
        self.state().catalog.seed.surveillance.clone()
    }
}

/// An org unit of the generated hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    /// The parent or the region: everything.
    Top,
    District(usize),
    Facility(usize, usize),
}

fn unit_of(s: &Surveillance, uid: &str) -> Option<Unit> {
    if uid == s.parent || uid == REGION {
        return Some(Unit::Top);
    }
    let n: usize = uid.get(3..)?.parse().ok()?;
    let per = s.facilities_per_district.max(1);
    match uid.get(..3)? {
        "Dst" if n < s.districts => Some(Unit::District(n)),
        "Fac" if n < s.districts * per => Some(Unit::Facility(n / per, n % per)),
        _ => None,
    }
}

fn uid_of(s: &Surveillance, unit: Unit) -> String {
    match unit {
        Unit::Top => REGION.to_owned(),
        Unit::District(i) => district_uid(i),
        Unit::Facility(i, f) => facility_uid(i, f, s.facilities_per_district.max(1)),
    }
}

/// The rows of the `ou` dimension: boundaries, or the units at `LEVEL-n` under them.
fn resolve(s: &Surveillance, items: &[&str]) -> Vec<Unit> {
    let level = items.iter().find_map(|i| {
        i.strip_prefix("LEVEL-")
            .and_then(|n| n.parse::<usize>().ok())
    });
    let bounds: Vec<Unit> = items.iter().filter_map(|i| unit_of(s, i)).collect();
    let per = s.facilities_per_district;
    let mut out = BTreeSet::new();
    for b in bounds {
        match (level, b) {
            (None, u) => {
                out.insert(u);
            }
            (Some(3), Unit::Top) => out.extend((0..s.districts).map(Unit::District)),
            (Some(3), Unit::District(i)) => {
                out.insert(Unit::District(i));
            }
            (Some(4), Unit::Top) => out
                .extend((0..s.districts).flat_map(|i| (0..per).map(move |f| Unit::Facility(i, f)))),
            (Some(4), Unit::District(i)) => out.extend((0..per).map(|f| Unit::Facility(i, f))),
            (Some(4), u @ Unit::Facility(..)) => {
                out.insert(u);
            }
            _ => {}
        }
    }
    out.into_iter().collect()
}

fn value(s: &Surveillance, d: usize, unit: Unit, week: i64) -> Option<f64> {
    match unit {
        Unit::District(i) => s.shown(s.district_cases(d, i, week)),
        Unit::Facility(i, f) => s.shown(s.facility_cases(d, i, f, week)),
        Unit::Top => {
            let cases: Vec<u64> = (0..s.districts)
                .filter_map(|i| s.district_cases(d, i, week))
                .collect();
            (!cases.is_empty())
                .then(|| cases.iter().sum::<u64>())
                .and_then(|c| s.shown(Some(c)))
        }
    }
}

/// `GET /api/analytics`.
pub fn get(ctx: &Ctx) -> Response {
    let switches = &ctx.state.analytics;
    if !switches.tables_generated.load(Ordering::SeqCst) {
        return WebMessage::error(
            409,
            "Query failed because a referenced table does not exist. Please ensure analytics job was run (SqlState: 42P01)",
        )
        .error_code("E7144")
        .into_response();
    }
    let mut dims: Map<String, Value> = Map::new();
    let (mut dx, mut pe, mut ou): (Vec<&str>, Vec<&str>, Vec<&str>) = Default::default();
    for param in ctx.req.params_all("dimension") {
        for dim in param.split(',') {
            let Some((name, items)) = dim.split_once(':') else {
                continue;
            };
            let items: Vec<&str> = items.split(';').filter(|i| !i.is_empty()).collect();
            match name {
                "dx" => dx.extend(items),
                "pe" => pe.extend(items),
                "ou" => ou.extend(items),
                other => {
                    return WebMessage::error(409, format!("Dimension is not valid: `{other}`"))
                        .error_code("E7125")
                        .into_response();
                }
            }
        }
    }
    if dx.is_empty() || pe.is_empty() {
        return WebMessage::error(
            409,
            "At least one period must be specified as dimension or filter",
        )
        .error_code("E7104")
        .into_response();
    }
    let empty = Surveillance {
        seed: 0,
        districts: 0,
        facilities_per_district: 0,
        diseases: 0,
        last_week: String::new(),
        weeks: 0,
        parent: String::new(),
        zeros_stored: false,
        string_decimals: false,
    };
    let s = ctx
        .state
        .catalog
        .seed
        .surveillance
        .as_ref()
        .unwrap_or(&empty);
    let diseases: Vec<(&str, Option<usize>)> = dx
        .iter()
        .map(|uid| {
            let index = uid
                .strip_prefix("Dis")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|d| *d < s.diseases);
            (*uid, index)
        })
        .collect();
    let weeks: Vec<(&str, Option<i64>)> = pe
        .iter()
        .map(|p| (*p, parse_week(p).and_then(|(y, w)| week_ordinal(y, w))))
        .collect();
    let units = resolve(s, &ou);
    let max_rows = switches.max_rows.load(Ordering::SeqCst);
    let mut rows = Vec::new();
    for (uid, d) in &diseases {
        let Some(d) = d else { continue };
        for (_, week) in &weeks {
            let Some(week) = week else { continue };
            let (y, w) = week_of(*week);
            let period = format!("{y}W{w}");
            for unit in &units {
                if let Some(v) = value(s, *d, *unit, *week) {
                    if rows.len() >= max_rows {
                        return WebMessage::error(
                            409,
                            format!("Analytics query result set exceeded max limit: {max_rows}"),
                        )
                        .error_code("E7128")
                        .into_response();
                    }
                    rows.push(json!([uid, period, uid_of(s, *unit), s.format_value(v)]));
                }
            }
        }
    }
    let mut items = Map::new();
    for (uid, _) in &diseases {
        let name = ctx
            .state
            .catalog
            .seed
            .data_elements
            .iter()
            .find(|e| e.id == *uid)
            .map_or_else(|| (*uid).to_owned(), |e| e.name.clone());
        items.insert((*uid).to_owned(), json!({ "name": name }));
    }
    for unit in &units {
        let uid = uid_of(s, *unit);
        let name = match unit {
            Unit::Top => "Surveillance Region".to_owned(),
            Unit::District(i) => format!("Sv District {i}"),
            Unit::Facility(i, f) => format!("Clinic {i}-{f}"),
        };
        items.insert(uid, json!({ "name": name }));
    }
    for (p, _) in &weeks {
        items.insert((*p).to_owned(), json!({ "name": *p }));
    }
    for (k, n) in [
        ("dx", "Data"),
        ("pe", "Period"),
        ("ou", "Organisation unit"),
    ] {
        items.insert(k.to_owned(), json!({ "name": n }));
    }
    dims.insert("dx".into(), json!(dx));
    dims.insert("pe".into(), json!(pe));
    dims.insert(
        "ou".into(),
        json!(units.iter().map(|u| uid_of(s, *u)).collect::<Vec<_>>()),
    );
    dims.insert("co".into(), json!([]));
    let header = |name: &str, column: &str, number: bool| {
        json!({"name": name, "column": column,
               "valueType": if number { "NUMBER" } else { "TEXT" },
               "type": if number { "java.lang.Double" } else { "java.lang.String" },
               "hidden": false, "meta": !number})
    };
    let height = rows.len();
    let body = json!({
        "headers": [header("dx", "Data", false), header("pe", "Period", false),
                    header("ou", "Organisation unit", false), header("value", "Value", true)],
        "metaData": { "items": items, "dimensions": dims },
        "rowContext": {},
        "width": if height == 0 { 0 } else { 4 },
        "rows": rows,
        "headerWidth": 4,
        "height": height,
    });
    json_response(200, &body)
}

/// `GET /api/trackedEntityAttributes/{uid}/generate`: the next alert number (six digits).
pub fn generate(ctx: &Ctx, attribute: &str) -> Response {
    let switches = &ctx.state.analytics;
    if switches.generate_unsupported.load(Ordering::SeqCst) {
        return WebMessage::error(409, "Attribute does not have a generation pattern")
            .into_response();
    }
    let n = switches.alert_numbers.fetch_add(1, Ordering::SeqCst) + 1;
    json_response(
        200,
        &json!({"ownerObject": "TRACKEDENTITYATTRIBUTE", "ownerUid": attribute,
                "key": "SEQUENTIAL(######)", "value": format!("{n:06}")}),
    )
}

/// `GET /api/trackedEntityAttributes/{uid}/generateAndReserve?numberToReserve=N`: the next N
/// alert numbers, as a list of what `generate` answers.
pub fn generate_and_reserve(ctx: &Ctx, attribute: &str) -> Response {
    let switches = &ctx.state.analytics;
    if switches.generate_unsupported.load(Ordering::SeqCst) {
        return WebMessage::error(409, "Attribute does not have a generation pattern")
            .into_response();
    }
    let n: u64 = ctx
        .req
        .param("numberToReserve")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .clamp(1, 10_000);
    let first = switches.alert_numbers.fetch_add(n, Ordering::SeqCst) + 1;
    let values: Vec<Value> = (first..first + n)
        .map(|v| {
            json!({"ownerObject": "TRACKEDENTITYATTRIBUTE", "ownerUid": attribute,
                   "key": "SEQUENTIAL(######)", "value": format!("{v:06}")})
        })
        .collect();
    json_response(200, &Value::Array(values))
}

impl super::SimHandle {
    /// The tracked entities stored by tracker imports.
    pub fn tracked_entities(&self) -> Vec<String> {
        super::state::lock(&self.state().tracker)
            .uids(super::tracker_report::TrackerType::TrackedEntity)
    }

    /// Makes `generate` answer 409, as for an attribute without a pattern.
    pub fn set_generate_unsupported(&self, unsupported: bool) {
        self.state()
            .analytics
            .generate_unsupported
            .store(unsupported, Ordering::SeqCst);
    }
}
