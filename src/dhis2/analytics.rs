//! `GET /api/analytics` for weekly values: one query per call ([`Dhis2Client::analytics`]) and a
//! whole pull ([`fetch_weekly`]) that splits the query only where it must: when the URL would be
//! too long for DHIS2's proxy, or when DHIS2 answers that the result exceeds its row limit
//! (then the larger dimension is halved and each half asked for, concurrently).

use dhis2gw_detect::IsoWeek;
use futures::StreamExt as _;

use super::analytics_grid::{
    AnalyticsError, AnalyticsGrid, analytics_conflict, parse_analytics_grid,
};
use super::client::Dhis2Client;
use super::response::{error_for_status, is_failure_status};
use super::wire::send;

/// Longest query string sent: Tomcat's default header limit is 8 KiB, and proxies in front of
/// DHIS2 are often stricter.
pub const MAX_QUERY_CHARS: usize = 6000;

/// Weekly values of some data elements for some org units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsQuery {
    pub data_elements: Vec<String>,
    pub weeks: Vec<IsoWeek>,
    /// The `ou` dimension's items, e.g. `["ROOT1", "ROOT2", "LEVEL-3"]`.
    pub org_units: Vec<String>,
}

impl AnalyticsQuery {
    /// The query string (without `?`), dimensions as three `dimension` parameters.
    pub fn query_string(&self) -> String {
        let weeks: Vec<String> = self.weeks.iter().map(ToString::to_string).collect();
        format!(
            "dimension=dx:{}&dimension=pe:{}&dimension=ou:{}&displayProperty=NAME",
            self.data_elements.join(";"),
            weeks.join(";"),
            self.org_units.join(";")
        )
    }

    /// The query as halves along its larger splittable dimension; `None` when it is one data
    /// element and one week already.
    pub fn halves(&self) -> Option<(AnalyticsQuery, AnalyticsQuery)> {
        if self.weeks.len() >= self.data_elements.len() && self.weeks.len() > 1 {
            let (a, b) = self.weeks.split_at(self.weeks.len() / 2);
            Some((
                AnalyticsQuery {
                    weeks: a.to_vec(),
                    ..self.clone()
                },
                AnalyticsQuery {
                    weeks: b.to_vec(),
                    ..self.clone()
                },
            ))
        } else if self.data_elements.len() > 1 {
            let (a, b) = self.data_elements.split_at(self.data_elements.len() / 2);
            Some((
                AnalyticsQuery {
                    data_elements: a.to_vec(),
                    ..self.clone()
                },
                AnalyticsQuery {
                    data_elements: b.to_vec(),
                    ..self.clone()
                },
            ))
        } else {
            None
        }
    }

    /// Splits until every part's query string fits [`MAX_QUERY_CHARS`].
    pub fn fit_url(self) -> Vec<AnalyticsQuery> {
        if self.query_string().len() <= MAX_QUERY_CHARS {
            return vec![self];
        }
        match self.halves() {
            Some((a, b)) => {
                let mut parts = a.fit_url();
                parts.extend(b.fit_url());
                parts
            }
            None => vec![self],
        }
    }

    /// Splits so that no part asks for more than `max_cells` values, given the expected number
    /// of org units (known from earlier runs; 0 when unknown, then only DHIS2's answer splits).
    /// The smallest query of the same scope: its first data element and last week.
    fn probe(&self) -> Option<AnalyticsQuery> {
        Some(AnalyticsQuery {
            data_elements: vec![self.data_elements.first()?.clone()],
            weeks: vec![*self.weeks.last()?],
            org_units: self.org_units.clone(),
        })
    }

    pub fn fit_cells(self, max_cells: usize, org_units: usize) -> Vec<AnalyticsQuery> {
        let cells = self.data_elements.len() * self.weeks.len() * org_units;
        if org_units == 0 || cells <= max_cells.max(1) {
            return vec![self];
        }
        match self.halves() {
            Some((a, b)) => {
                let mut parts = a.fit_cells(max_cells, org_units);
                parts.extend(b.fit_cells(max_cells, org_units));
                parts
            }
            None => vec![self],
        }
    }
}

impl Dhis2Client {
    /// One `GET /api/analytics` call.
    #[tracing::instrument(name = "dhis2.analytics", skip_all, fields(
        dx = query.data_elements.len(), pe = query.weeks.len()))]
    pub async fn analytics(&self, query: &AnalyticsQuery) -> Result<AnalyticsGrid, AnalyticsError> {
        let url = format!("{}?{}", self.api_url("analytics"), query.query_string());
        let (status, body) = send(self.http().get(url)).await?;
        if status == 409
            && let Some(conflict) = analytics_conflict(&body)
        {
            return Err(conflict);
        }
        if is_failure_status(status) || !(200..300).contains(&status) {
            return Err(error_for_status(status, &body, None, "an analytics grid").into());
        }
        parse_analytics_grid(&body)
    }
}

/// What a whole pull gave.
#[derive(Debug, Default)]
pub struct WeeklyPull {
    /// Every row of every call, and every name.
    pub grid: AnalyticsGrid,
    /// Calls made (including those answered "too many rows").
    pub calls: usize,
}

/// Runs `query`, split as needed, with up to `concurrency` calls at once. A call DHIS2 answers
/// "too many rows" is halved and retried; any other failure fails the pull.
pub async fn fetch_weekly(
    client: &Dhis2Client,
    query: AnalyticsQuery,
    max_cells: usize,
    expected_org_units: usize,
    concurrency: usize,
) -> Result<WeeklyPull, AnalyticsError> {
    let mut pending: Vec<AnalyticsQuery> = query
        .fit_url()
        .into_iter()
        .flat_map(|q| q.fit_cells(max_cells, expected_org_units))
        .collect();
    let mut pull = WeeklyPull::default();
    let mut org_units = expected_org_units;
    while !pending.is_empty() {
        let batch = std::mem::take(&mut pending);
        let mut answers = futures::stream::iter(batch)
            .map(|q| {
                let client = client.clone();
                async move {
                    let answer = client.analytics(&q).await;
                    (q, answer)
                }
            })
            .buffer_unordered(concurrency.max(1));
        while let Some((q, answer)) = answers.next().await {
            pull.calls += 1;
            match answer {
                Ok(grid) => {
                    pull.grid.rows.extend(grid.rows);
                    pull.grid.skipped_cells += grid.skipped_cells;
                    pull.grid.names.extend(grid.names);
                }
                Err(AnalyticsError::TooManyRows { message }) => {
                    // Too large, and how many org units the scope has is not known yet (no
                    // history): one small call (a data element, a week) tells, from its
                    // metaData, and the query is cut to fit at once instead of halved again
                    // and again.
                    if org_units == 0
                        && let Some(probe) = q.probe()
                    {
                        pull.calls += 1;
                        org_units = client
                            .analytics(&probe)
                            .await
                            .map(|g| org_units_named(&g, &probe))
                            .unwrap_or(0);
                    }
                    let parts = q.clone().fit_cells(max_cells, org_units);
                    if parts.len() > 1 {
                        pending.extend(parts);
                    } else {
                        match q.halves() {
                            Some((a, b)) => pending.extend([a, b]),
                            None => return Err(AnalyticsError::TooManyRows { message }),
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(pull)
}

/// The org units `query`'s answer names: every item of its metaData that is none of the data
/// elements, weeks or dimension names asked.
fn org_units_named(grid: &AnalyticsGrid, query: &AnalyticsQuery) -> usize {
    let weeks: Vec<String> = query.weeks.iter().map(ToString::to_string).collect();
    grid.names
        .keys()
        .filter(|k| {
            !query.data_elements.contains(k)
                && !weeks.contains(k)
                && !["dx", "pe", "ou", "co"].contains(&k.as_str())
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(dx: usize, weeks: u32) -> AnalyticsQuery {
        let last = IsoWeek::new(2026, 47).unwrap();
        AnalyticsQuery {
            data_elements: (0..dx).map(|i| format!("de{i:09}")).collect(),
            weeks: (0..weeks).rev().map(|n| last.minus(n)).collect(),
            org_units: vec!["ImspTQPwCqd".into(), "LEVEL-3".into()],
        }
    }

    #[test]
    fn the_query_string_has_three_dimensions() {
        let q = query(2, 2);
        assert_eq!(
            q.query_string(),
            "dimension=dx:de000000000;de000000001&dimension=pe:2026W46;2026W47\
             &dimension=ou:ImspTQPwCqd;LEVEL-3&displayProperty=NAME"
        );
    }

    #[test]
    fn small_queries_are_not_split() {
        assert_eq!(query(10, 5).fit_url().len(), 1);
        assert_eq!(query(10, 5).fit_cells(50_000, 116).len(), 1);
        assert_eq!(query(10, 5).fit_cells(50_000, 0).len(), 1);
    }

    #[test]
    fn splits_keep_every_cell_once_and_fit() {
        let q = query(10, 156);
        let parts = q.clone().fit_cells(50_000, 2000);
        assert!(parts.len() > 1);
        let mut cells = Vec::new();
        for p in &parts {
            assert!(p.data_elements.len() * p.weeks.len() * 2000 <= 50_000);
            for d in &p.data_elements {
                for w in &p.weeks {
                    cells.push((d.clone(), *w));
                }
            }
        }
        cells.sort();
        let before = cells.len();
        cells.dedup();
        assert_eq!(before, cells.len());
        assert_eq!(cells.len(), 10 * 156);
        let long = query(800, 2);
        for p in long.fit_url() {
            assert!(p.query_string().len() <= MAX_QUERY_CHARS);
        }
    }
}
