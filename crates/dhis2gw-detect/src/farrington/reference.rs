//! Which earlier weeks form the baseline of an assessed week, and the seasonal period each
//! belongs to (R `surveillance`'s `algo.farrington.referencetimepoints`, `blocks` and
//! `algo.farrington.data.glm`).
//!
//! dhis2gw hands R's rule the Monday of each ISO week. For each of the `b` previous years, the
//! reference week is the one whose Monday is closest to the same calendar date that many years
//! earlier (29 February becomes 1 March, as R's date arithmetic does): a date from Monday to
//! Thursday picks its own ISO week, Friday to Sunday the next. The reference is therefore 52
//! weeks back per year most of the time and one week more as the calendar drifts (five years
//! back is 261 weeks), so it may carry a neighbouring ISO week number (2024-W20 looks back to
//! 2021-W19). The window is the reference week and `w` weeks either side. With
//! `no_periods = p > 1`, the weeks between two windows are split into `p − 1` consecutive
//! blocks (the first blocks one week longer when the split is uneven), each its own seasonal
//! level; the windows are level `p`.

use chrono::{Datelike, Days, NaiveDate};

use super::FarringtonParams;
use crate::{DetectError, IsoWeek, WeeklySeries};

/// One baseline week: its count, its time in weeks and its seasonal group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct BaselineWeek {
    pub y: f64,
    pub t: f64,
    pub group: usize,
}

/// The baseline of an assessed week, ready for the model.
#[derive(Debug, PartialEq)]
pub(super) struct Baseline {
    pub weeks: Vec<BaselineWeek>,
    /// Seasonal groups present among the reference weeks, counted before missing counts are
    /// dropped (R builds the factor first), so a group may end up without weeks.
    pub groups: usize,
    /// The group of the windows, which the assessed week belongs to (`None` when every window
    /// week was left out).
    pub window_group: Option<usize>,
    /// The assessed week's time on the baseline's clock.
    pub t_now: f64,
}

/// The Monday closest to `date`: Monday to Thursday go back, Friday to Sunday forward.
fn closest_monday(date: NaiveDate) -> NaiveDate {
    let from_monday = u64::from(date.weekday().num_days_from_monday());
    if from_monday <= 3 {
        date - Days::new(from_monday)
    } else {
        date + Days::new(7 - from_monday)
    }
}

/// The same date `years` earlier; 29 February falls on 1 March, as in R's `seq(by = "-1 year")`.
fn years_before(date: NaiveDate, years: u32) -> NaiveDate {
    let year = date.year() - i32::try_from(years).expect("b is at most 20");
    date.with_year(year).unwrap_or_else(|| {
        NaiveDate::from_ymd_opt(year, 3, 1).expect("1 March exists in every year")
    })
}

/// Indices in the series of the assessed week (`now`) and its `b` reference weeks, newest first.
fn reference_indices(series: &WeeklySeries, now: usize, b: u32) -> Vec<i64> {
    let start = series.start().monday();
    let today = series.week_at(now).monday();
    let mut refs = vec![i64::try_from(now).expect("series index fits i64")];
    for j in 1..=b {
        let monday = closest_monday(years_before(today, j));
        refs.push((monday - start).num_weeks());
    }
    refs
}

/// The baseline of week index `now` of `series`, or `NotEnoughHistory` when the oldest window
/// starts before the series.
pub(super) fn baseline(
    series: &WeeklySeries,
    now: usize,
    params: &FarringtonParams,
) -> Result<Baseline, DetectError> {
    let w = i64::from(params.w);
    let p = params.no_periods;
    let refs = reference_indices(series, now, params.b);
    let oldest = refs[refs.len() - 1] - w;
    if oldest < 0 {
        let needed = usize::try_from(refs[0] - oldest).expect("refs[0] is the latest");
        return Err(DetectError::NotEnoughHistory {
            method: params.method(),
            week: series.week_at(now),
            needed,
            available: now,
        });
    }
    let index = |i: i64| usize::try_from(i).expect("every window starts inside the series");

    // Seasonal level (1..=p) of each week up to `now`; `None` is outside every block.
    let mut level: Vec<Option<u32>> = vec![None; now + 1];
    for l in &mut level[index(refs[0] - w)..=now] {
        *l = Some(p);
    }
    for pair in refs.windows(2) {
        let (later, reference) = (pair[0], pair[1]);
        for l in &mut level[index(reference - w)..=index(reference + w)] {
            *l = Some(p);
        }
        if p > 1 {
            // Weeks strictly between this window and the next one.
            let between = later - w - 1 - (reference + w);
            let blocks = i64::from(p - 1);
            let (length, rest) = (between / blocks, between % blocks);
            let mut first = reference + w + 1;
            for j in 0..blocks {
                let len = length + i64::from(j < rest);
                for l in &mut level[index(first)..index(first + len)] {
                    *l = Some(u32::try_from(j + 1).expect("fewer than 52 periods"));
                }
                first += len;
            }
        }
    }
    // The assessed week and the `past_weeks_not_included` before it stay out of the baseline.
    let cut = now.saturating_sub(params.past_weeks_not_included as usize);
    for l in &mut level[cut..=now] {
        *l = None;
    }

    // R's factor levels: the levels present, in increasing order.
    let mut present = [false; 53];
    for l in level.iter().flatten() {
        present[*l as usize] = true;
    }
    let mut group_of = [usize::MAX; 53];
    let mut groups = 0;
    for (l, here) in present.iter().enumerate() {
        if *here {
            group_of[l] = groups;
            groups += 1;
        }
    }
    let window_group = present[p as usize].then(|| group_of[p as usize]);

    let counts = series.counts();
    let first_block = level.iter().position(Option::is_some);
    let mut weeks = Vec::new();
    let mut first_counted = None;
    for (i, l) in level.iter().enumerate() {
        let (Some(l), Some(y)) = (l, counts[i]) else {
            continue;
        };
        first_counted.get_or_insert(i);
        weeks.push(BaselineWeek {
            y,
            t: (i - first_block.unwrap_or(0)) as f64,
            group: group_of[*l as usize],
        });
    }
    // R measures the baseline's time from its first week, but the assessed week's from the
    // first week that has a count: when the oldest baseline week is missing, R's prediction
    // sits that many weeks later on the trend. dhis2gw keeps R's convention so that its
    // answers are R's.
    let t_now = (now - first_counted.unwrap_or(now)) as f64;
    Ok(Baseline {
        weeks,
        groups,
        window_group,
        t_now,
    })
}

/// The index of `week` in `series`.
pub(super) fn index_of(series: &WeeklySeries, week: IsoWeek) -> Result<usize, DetectError> {
    series
        .index_of(week)
        .ok_or(DetectError::WeekOutsideSeries(week))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_closest_monday_is_within_three_days() {
        // 2025-01-02 is a Thursday, 2025-01-03 a Friday.
        assert_eq!(closest_monday(date(2025, 1, 2)), date(2024, 12, 30));
        assert_eq!(closest_monday(date(2025, 1, 3)), date(2025, 1, 6));
        assert_eq!(closest_monday(date(2025, 1, 6)), date(2025, 1, 6));
        assert_eq!(years_before(date(2016, 2, 29), 1), date(2015, 3, 1));
    }

    #[test]
    fn reference_weeks_follow_the_calendar_as_r_does() {
        // R: surveillance:::algo.farrington.referencetimepoints(as.Date(d), b = 5, freq = 52,
        // epochAsDate = TRUE, epochStr = "week"), as ISO weeks.
        let series = WeeklySeries::new("2015W01".parse().unwrap(), vec![Some(1.0); 600]);
        for (now, expected) in [
            (
                "2024W20",
                ["2023W20", "2022W20", "2021W19", "2020W20", "2019W20"],
            ),
            ("2021W1", ["2020W2", "2019W2", "2018W1", "2017W1", "2016W1"]),
            (
                "2020W53",
                ["2020W1", "2019W1", "2017W52", "2016W52", "2015W53"],
            ),
        ] {
            let now = series.index_of(now.parse().unwrap()).unwrap();
            let refs = reference_indices(&series, now, 5);
            let weeks: Vec<String> = refs[1..]
                .iter()
                .map(|&i| series.week_at(usize::try_from(i).unwrap()).to_string())
                .collect();
            assert_eq!(weeks, expected);
        }
    }

    #[test]
    fn original_farrington_uses_b_windows_of_2w_plus_1() {
        let series = WeeklySeries::new("2018W01".parse().unwrap(), vec![Some(2.0); 300]);
        let params = FarringtonParams::defaults(false);
        let base = baseline(&series, 299, &params).unwrap();
        assert_eq!(base.weeks.len(), 5 * 7);
        assert_eq!((base.groups, base.window_group), (1, Some(0)));
        let short = baseline(&series, 200, &params);
        assert!(
            matches!(short, Err(DetectError::NotEnoughHistory { .. })),
            "{short:?}"
        );
    }

    #[test]
    fn noufaily_splits_the_years_into_ten_periods() {
        let series = WeeklySeries::new("2018W01".parse().unwrap(), vec![Some(2.0); 300]);
        let base = baseline(&series, 299, &FarringtonParams::defaults(true)).unwrap();
        assert_eq!((base.groups, base.window_group), (10, Some(9)));
        // Five whole years minus the current window and 26 weeks before it.
        let first = 299 - base.t_now as usize;
        assert_eq!(base.weeks.len(), 299 - 27 - first + 1);
    }
}
