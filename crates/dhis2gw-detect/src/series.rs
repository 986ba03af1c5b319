//! One weekly series and what the engine says about one of its weeks.

use crate::IsoWeek;

/// Counts for consecutive ISO weeks from `start`, oldest first. `None` is a *missing* week (DHIS2
/// had no value), which is not the same as a reported zero; each rule's missing-value policy
/// decides what a missing week means.
#[derive(Clone, Debug, PartialEq)]
pub struct WeeklySeries {
    start: IsoWeek,
    counts: Vec<Option<f64>>,
}

impl WeeklySeries {
    /// A series of consecutive weeks starting at `start`.
    pub fn new(start: IsoWeek, counts: Vec<Option<f64>>) -> Self {
        Self { start, counts }
    }

    /// A series from (week, count) pairs in any order; weeks between the first and the last that
    /// the pairs do not name are missing. A week named twice keeps its last count.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (IsoWeek, Option<f64>)>) -> Option<Self> {
        let mut pairs: Vec<_> = pairs.into_iter().collect();
        let first = pairs.iter().map(|(w, _)| *w).min()?;
        let last = pairs.iter().map(|(w, _)| *w).max()?;
        let len = usize::try_from(last.weeks_since(first)).ok()? + 1;
        let mut counts = vec![None; len];
        for (week, count) in pairs.drain(..) {
            let index = usize::try_from(week.weeks_since(first)).ok()?;
            counts[index] = count;
        }
        Some(Self::new(first, counts))
    }

    pub fn start(&self) -> IsoWeek {
        self.start
    }

    /// The last week of the series (`None` for an empty one).
    pub fn end(&self) -> Option<IsoWeek> {
        let len = u32::try_from(self.counts.len()).ok()?;
        len.checked_sub(1).map(|n| self.start.plus(n))
    }

    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The counts, oldest first; `None` is missing.
    pub fn counts(&self) -> &[Option<f64>] {
        &self.counts
    }

    /// Where `week` sits in [`counts`](Self::counts), if the series covers it.
    pub fn index_of(&self, week: IsoWeek) -> Option<usize> {
        let index = usize::try_from(week.weeks_since(self.start)).ok()?;
        (index < self.counts.len()).then_some(index)
    }

    /// The week at `index`.
    pub fn week_at(&self, index: usize) -> IsoWeek {
        self.start
            .plus(u32::try_from(index).expect("a series is far shorter than u32::MAX weeks"))
    }

    /// The count of `week`: `None` outside the series, `Some(None)` when missing.
    pub fn get(&self, week: IsoWeek) -> Option<Option<f64>> {
        self.index_of(week).map(|i| self.counts[i])
    }
}

/// What a method says about one assessed week. `expected`, `upper_bound` and `score` are `None`
/// where the method has no such figure (a fixed threshold has no expected value, say).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Assessment {
    pub week: IsoWeek,
    /// The week's count as the method saw it (after the missing-value policy).
    pub count: Option<f64>,
    pub expected: Option<f64>,
    pub upper_bound: Option<f64>,
    pub score: Option<f64>,
    pub alarm: bool,
    /// One plain sentence a district officer understands, e.g. "18 cases, above the upper bound
    /// 11.9 from the 7 weeks before".
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(text: &str) -> IsoWeek {
        text.parse().unwrap()
    }

    #[test]
    fn pairs_fill_gaps_with_missing_across_a_year_end() {
        let series =
            WeeklySeries::from_pairs([(week("2026W2"), Some(4.0)), (week("2025W51"), Some(1.0))])
                .unwrap();
        assert_eq!(series.start(), week("2025W51"));
        assert_eq!(series.end(), Some(week("2026W2")));
        assert_eq!(series.counts(), [Some(1.0), None, None, Some(4.0)]);
        assert_eq!(series.get(week("2026W1")), Some(None));
        assert_eq!(series.get(week("2026W3")), None);
        assert_eq!(series.week_at(3), week("2026W2"));
    }
}
