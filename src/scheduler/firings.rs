//! When a cron expression fires, in a time zone: the next firing after a moment, and the latest
//! firing inside a window. croner walks local time and resolves daylight-saving changes: a
//! fixed-time firing inside a skipped hour runs once, at the first instant after the gap, and
//! one inside a repeated hour runs once; interval expressions keep their interval in real time.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// The first firing strictly after `after`.
pub fn next_after(cron: &Cron, zone: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after.with_timezone(&zone), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Every firing in `(from, to]`, oldest first, at most `limit` of them.
pub fn between(
    cron: &Cron,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: usize,
) -> Vec<DateTime<Utc>> {
    let mut firings = Vec::new();
    let mut cursor = from;
    while firings.len() < limit {
        match next_after(cron, zone, cursor) {
            Some(next) if next <= to => {
                firings.push(next);
                cursor = next;
            }
            _ => break,
        }
    }
    firings
}

/// The latest firing in `(from, to]`.
pub fn latest_between(
    cron: &Cron,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let latest = cron
        .find_previous_occurrence(&to.with_timezone(&zone), true)
        .ok()?
        .with_timezone(&Utc);
    (latest > from).then_some(latest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CronExpr;

    fn cron(text: &str) -> Cron {
        CronExpr::parse(text).unwrap().cron().unwrap().clone()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn count_over_local_day(expr: &str, zone: Tz, day: &str) -> usize {
        let day: chrono::NaiveDate = day.parse().unwrap();
        let start = day
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_local_timezone(zone)
            .earliest()
            .unwrap()
            .with_timezone(&Utc);
        let end = day
            .succ_opt()
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_local_timezone(zone)
            .earliest()
            .unwrap()
            .with_timezone(&Utc);
        // (start - 1 s, end - 1 s]: the day's midnight counts, the next one does not.
        let second = chrono::Duration::seconds(1);
        between(&cron(expr), zone, start - second, end - second, 100_000).len()
    }

    #[test]
    fn zones_without_dst_fire_at_local_time() {
        let six = next_after(
            &cron("0 0-23/6 * * *"),
            chrono_tz::Africa::Kampala,
            at("2026-12-07T00:30:00Z"),
        );
        // Kampala is UTC+3: 06:00 local is 03:00 UTC.
        assert_eq!(six, Some(at("2026-12-07T03:00:00Z")));
        let harare = next_after(
            &cron("30 8 * * 4,5"),
            chrono_tz::Africa::Harare,
            at("2026-12-07T00:00:00Z"),
        );
        // The first Thursday after Monday 7 December 2026, 08:30 at UTC+2.
        assert_eq!(harare, Some(at("2026-12-10T06:30:00Z")));
    }

    #[test]
    fn spring_forward_day() {
        let berlin = chrono_tz::Europe::Berlin;
        // 29 March 2026: 02:00–03:00 does not exist in Berlin; the day has 23 hours.
        assert_eq!(
            count_over_local_day("*/5 * * * *", berlin, "2026-03-29"),
            23 * 12
        );
        assert_eq!(count_over_local_day("0 * * * *", berlin, "2026-03-29"), 23);
        // A daily firing inside the skipped hour still runs once, right after the gap.
        assert_eq!(count_over_local_day("30 2 * * *", berlin, "2026-03-29"), 1);
        let new_york = chrono_tz::America::New_York;
        assert_eq!(
            count_over_local_day("30 2 * * *", new_york, "2026-03-08"),
            1
        );
    }

    #[test]
    fn fall_back_day() {
        let berlin = chrono_tz::Europe::Berlin;
        // 25 October 2026: 02:00–03:00 happens twice; the day has 25 hours.
        assert_eq!(
            count_over_local_day("*/5 * * * *", berlin, "2026-10-25"),
            25 * 12
        );
        // A daily firing in the repeated hour runs once, not twice.
        assert_eq!(count_over_local_day("30 2 * * *", berlin, "2026-10-25"), 1);
        let new_york = chrono_tz::America::New_York;
        assert_eq!(
            count_over_local_day("30 1 * * *", new_york, "2026-11-01"),
            1
        );
    }

    #[test]
    fn latest_firing_in_a_window() {
        let every_five = cron("*/5 * * * *");
        let latest = latest_between(
            &every_five,
            Tz::UTC,
            at("2026-12-07T00:00:00Z"),
            at("2026-12-07T00:17:00Z"),
        );
        assert_eq!(latest, Some(at("2026-12-07T00:15:00Z")));
        let none = latest_between(
            &every_five,
            Tz::UTC,
            at("2026-12-07T00:15:00Z"),
            at("2026-12-07T00:17:00Z"),
        );
        assert_eq!(none, None, "the window's start is not in it");
    }
}
