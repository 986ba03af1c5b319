//! Data in: the weekly values every enabled rule needs, from DHIS2 analytics and the history kept
//! in PostgreSQL. Per org unit level (an analytics scope), the weeks each data element needs are
//! compared with the weeks already stored; only the missing ones and the last
//! `alerts.refetch_weeks` are asked for, data elements needing the same weeks in one query.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use dhis2gw_detect::IsoWeek;

use super::evaluate::{PlaceSeries, to_series};
use crate::db::Pool;
use crate::db::analytics_cache::{self, Coverage, StoredSeries};
use crate::dhis2::Dhis2Client;
use crate::dhis2::analytics::{AnalyticsQuery, fetch_weekly};

/// One org unit's weekly values: name and week → value.
type PlaceValues = HashMap<String, (Option<String>, HashMap<IsoWeek, f64>)>;

/// What the run asks of one scope: data element → weeks needed back from the target week.
#[derive(Debug, Clone)]
pub struct ScopeNeed {
    pub level: u8,
    pub data_elements: BTreeMap<String, u32>,
}

/// The series of one data element at one level, ready for the engine.
#[derive(Debug, Default)]
pub struct Fetched {
    /// (level, data element) → the series of every org unit DHIS2 gave a value for.
    pub series: HashMap<(u8, String), Vec<PlaceSeries>>,
    /// Data element (and org unit) names from analytics' metaData.
    pub names: HashMap<String, String>,
    /// (level, data element) → why it could not be fetched.
    pub failures: Vec<(u8, String, String)>,
    pub analytics_calls: usize,
    /// Values read from DHIS2 in this run.
    pub values_fetched: usize,
}

/// The analytics `ou` items of a level under the configured roots.
pub fn scope_items(roots: &[String], level: u8) -> Vec<String> {
    let mut items = roots.to_vec();
    items.push(format!("LEVEL-{level}"));
    items
}

/// Settings of a pull.
#[derive(Debug, Clone)]
pub struct PullSettings {
    pub roots: Vec<String>,
    pub refetch_weeks: u32,
    pub max_cells: usize,
    pub concurrency: usize,
    /// Keep nothing (a dry run): the history is read, never written.
    pub read_only: bool,
}

/// Fetches what `needs` require for the assessment of `target`.
pub async fn fetch(
    pool: &Pool,
    client: &Dhis2Client,
    needs: &[ScopeNeed],
    target: IsoWeek,
    s: &PullSettings,
) -> Result<Fetched, crate::db::PoolError> {
    let mut out = Fetched::default();
    for need in needs {
        let items = scope_items(&s.roots, need.level);
        let scope = items.join(";");
        let des: Vec<String> = need.data_elements.keys().cloned().collect();
        let coverage = {
            let db = pool.get().await?;
            analytics_cache::coverage(&db, &scope, &des)
                .await
                .unwrap_or_default()
        };
        // Weeks to ask for, per data element; data elements with the same weeks share a query.
        let mut groups: BTreeMap<Vec<IsoWeek>, Vec<String>> = BTreeMap::new();
        let mut first_of: HashMap<String, IsoWeek> = HashMap::new();
        for (de, needed) in &need.data_elements {
            let first = target.minus(needed.max(&s.refetch_weeks) - 1);
            first_of.insert(de.clone(), first);
            let cov = coverage
                .get(de)
                .map(|c| {
                    (
                        IsoWeek::containing(c.first_week),
                        IsoWeek::containing(c.last_week),
                    )
                })
                // A stored range that does not reach the weeks needed is no help.
                .filter(|(_, last)| last.next() >= first);
            let refetch_from = target.minus(s.refetch_weeks - 1);
            let mut weeks = Vec::new();
            let mut w = first;
            while w <= target {
                let stored = cov.is_some_and(|(a, b)| a <= w && w <= b);
                if !stored || w >= refetch_from {
                    weeks.push(w);
                }
                w = w.next();
            }
            groups.entry(weeks).or_default().push(de.clone());
        }
        let mut fetched: HashMap<String, PlaceValues> = HashMap::new();
        let mut fetched_weeks: HashMap<String, BTreeSet<IsoWeek>> = HashMap::new();
        let hint = {
            let db = pool.get().await?;
            analytics_cache::most_series(&db, &scope, &des)
                .await
                .unwrap_or(0)
        };
        for (weeks, group) in groups {
            if weeks.is_empty() {
                continue;
            }
            let query = AnalyticsQuery {
                data_elements: group.clone(),
                weeks: weeks.clone(),
                org_units: items.clone(),
            };
            match fetch_weekly(client, query, s.max_cells, hint, s.concurrency).await {
                Ok(pull) => {
                    out.analytics_calls += pull.calls;
                    out.values_fetched += pull.grid.rows.len();
                    for de in &group {
                        fetched.entry(de.clone()).or_default();
                        fetched_weeks.insert(de.clone(), weeks.iter().copied().collect());
                    }
                    for row in pull.grid.rows {
                        let Ok(week) = row.pe.parse::<IsoWeek>() else {
                            continue;
                        };
                        let name = pull.grid.names.get(&row.ou).cloned();
                        let place = fetched
                            .entry(row.dx)
                            .or_default()
                            .entry(row.ou)
                            .or_insert_with(|| (name, HashMap::new()));
                        place.1.insert(week, row.value);
                    }
                    out.names.extend(pull.grid.names);
                }
                Err(e) => {
                    out.analytics_calls += 1;
                    tracing::warn!(level = need.level, data_elements = ?group, "analytics failed: {e}");
                    for de in group {
                        out.failures.push((need.level, de, e.to_string()));
                    }
                }
            }
        }
        for de in &des {
            let Some(new) = fetched.remove(de) else {
                continue;
            };
            let first = first_of[de];
            let weeks = fetched_weeks.remove(de).unwrap_or_default();
            let db = pool.get().await?;
            let stored = analytics_cache::series(&db, &scope, de)
                .await
                .unwrap_or_default();
            let merged = merge(stored, new, &weeks, first);
            if !s.read_only {
                let last = coverage
                    .get(de)
                    .map(|c| IsoWeek::containing(c.last_week))
                    .filter(|l| *l > target)
                    .unwrap_or(target);
                let rows = to_stored(&merged, first, last);
                let cov = Coverage {
                    first_week: first.monday(),
                    last_week: last.monday(),
                };
                if let Err(e) = analytics_cache::replace(db, &scope, de, cov, &rows).await {
                    tracing::warn!(data_element = %de, "history not kept: {e}");
                }
            }
            out.series
                .insert((need.level, de.clone()), to_series(&merged, first, target));
        }
    }
    Ok(out)
}

/// Stored values, with every `weeks` fetched now replaced by `new` (a week DHIS2 no longer has
/// a value for loses its old one), from `first` on.
fn merge(
    stored: Vec<StoredSeries>,
    new: PlaceValues,
    weeks: &BTreeSet<IsoWeek>,
    first: IsoWeek,
) -> PlaceValues {
    let mut merged: PlaceValues = HashMap::new();
    for s in stored {
        let mut w = IsoWeek::containing(s.first_week);
        let place = merged
            .entry(s.org_unit)
            .or_insert_with(|| (s.org_unit_name, HashMap::new()));
        for c in s.counts {
            if let Some(v) = c
                && w >= first
                && !weeks.contains(&w)
            {
                place.1.insert(w, v);
            }
            w = w.next();
        }
    }
    for (ou, (name, values)) in new {
        let place = merged.entry(ou).or_insert_with(|| (None, HashMap::new()));
        if name.is_some() {
            place.0 = name;
        }
        place.1.extend(values);
    }
    merged.retain(|_, (_, v)| !v.is_empty());
    merged
}

fn to_stored(values: &PlaceValues, first: IsoWeek, last: IsoWeek) -> Vec<StoredSeries> {
    to_series(values, first, last)
        .into_iter()
        .map(|p| StoredSeries {
            org_unit: p.org_unit,
            org_unit_name: p.org_unit_name,
            first_week: first.monday(),
            counts: p.series.counts().to_vec(),
        })
        .collect()
}
