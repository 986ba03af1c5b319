//! The loop inside `dhis2gw serve` that fires jobs on their cron schedules. Each pass claims the
//! firings due since the last pass through [`Runs`] (so each firing runs on exactly one instance)
//! and runs the claimed ones as tasks of their own, so a long job never delays another's firing.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::Settings;
use crate::db::job_runs;
use crate::domain::job_run::Trigger;

use super::firings;
use super::jobs::{JobName, JobOptions};
use super::runs::{Finished, Runs};

/// A firing found this late (a busy machine delayed the pass) still runs; one found later (a
/// paused process, a suspended VM) is dropped in favour of the latest.
const LATE_LIMIT: chrono::Duration = chrono::Duration::seconds(60);
/// How often old runs are purged.
const PURGE_EVERY: chrono::Duration = chrono::Duration::hours(1);
/// Firings a single pass may find for one job before it takes only the latest (a pass after a
/// long stall, say a suspended VM, must not run a burst).
const MAX_FIRINGS_PER_PASS: usize = 10_000;

pub struct Scheduler {
    runs: Arc<Runs>,
    settings: watch::Receiver<Arc<Settings>>,
    /// Firings at or before this time have been handled.
    handled_until: DateTime<Utc>,
    last_purge: Option<DateTime<Utc>>,
    running: JoinSet<Finished>,
}

impl Scheduler {
    /// A scheduler that starts handling firings after `clock.now()`.
    pub fn new(runs: Arc<Runs>, settings: watch::Receiver<Arc<Settings>>) -> Self {
        let handled_until = runs.clock().now();
        Self {
            runs,
            settings,
            handled_until,
            last_purge: None,
            running: JoinSet::new(),
        }
    }

    /// At start: for each enabled job, the latest firing missed within `scheduler.catch_up_secs`
    /// runs once (unless some instance already ran or skipped it). Older ones are not run.
    pub async fn catch_up(&mut self) {
        let settings = self.settings.borrow().clone();
        let now = self.runs.clock().now();
        let window =
            chrono::Duration::seconds(i64::try_from(settings.scheduler.catch_up_secs).unwrap_or(0));
        if window.is_zero() {
            return;
        }
        for job in JobName::ALL {
            let Some(cron) = job.schedule(&settings).cron() else {
                continue;
            };
            let zone = settings.server.timezone;
            let Some(missed) = firings::latest_between(cron, zone, now - window, now) else {
                continue;
            };
            self.fire(job, missed, Trigger::CatchUp).await;
        }
        self.handled_until = now;
    }

    /// Claims and starts every job whose firing fell in (last pass, `now`]. Firings a busy
    /// machine made late by up to a minute all run; after a longer stall only the latest does.
    pub async fn fire_due(&mut self, now: DateTime<Utc>) {
        let settings = self.settings.borrow().clone();
        let zone = settings.server.timezone;
        for job in JobName::ALL {
            let Some(cron) = job.schedule(&settings).cron() else {
                continue;
            };
            let due = firings::between(cron, zone, self.handled_until, now, MAX_FIRINGS_PER_PASS);
            let to_run = firings_to_run(&due, now);
            if to_run.len() < due.len() {
                tracing::warn!(
                    job = job.as_str(),
                    missed = due.len() - to_run.len(),
                    "the scheduler fell behind (process paused?): only the latest firing runs"
                );
            }
            for firing in to_run {
                self.fire(job, firing, Trigger::Schedule).await;
            }
        }
        self.handled_until = self.handled_until.max(now);
        self.reap();
        self.purge_if_due(&settings, now).await;
    }

    async fn fire(&mut self, job: JobName, scheduled_for: DateTime<Utc>, trigger: Trigger) {
        match self.runs.claim(job, scheduled_for, trigger).await {
            Ok(Some(claimed)) => {
                let runs = self.runs.clone();
                self.running
                    .spawn(async move { runs.execute(claimed, JobOptions::default()).await });
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(
                job = job.as_str(),
                scheduled_for = %scheduled_for,
                error = %e,
                "could not claim a firing; it is left to the other instances or lost"
            ),
        }
    }

    /// The next moment a job fires, after the last pass.
    pub fn next_firing(&self) -> Option<DateTime<Utc>> {
        let settings = self.settings.borrow().clone();
        JobName::ALL
            .into_iter()
            .filter_map(|job| job.schedule(&settings).cron().cloned())
            .filter_map(|cron| {
                firings::next_after(&cron, settings.server.timezone, self.handled_until)
            })
            .min()
    }

    /// Runs still going.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Waits for every run this scheduler started.
    pub async fn wait_idle(&mut self) -> Vec<Finished> {
        let mut finished = Vec::new();
        while let Some(result) = self.running.join_next().await {
            if let Ok(f) = result {
                finished.push(f);
            }
        }
        finished
    }

    fn reap(&mut self) {
        while let Some(result) = self.running.try_join_next() {
            if let Err(e) = result
                && e.is_panic()
            {
                tracing::error!(error = %e, "a job run panicked; its lease will lapse and record it as failed");
            }
        }
    }

    async fn purge_if_due(&mut self, settings: &Settings, now: DateTime<Utc>) {
        if self.last_purge.is_some_and(|last| now - last < PURGE_EVERY) {
            return;
        }
        self.last_purge = Some(now);
        let before = now - chrono::Duration::days(i64::from(settings.scheduler.keep_runs_days));
        let purged = match self.runs.db().get().await {
            Ok(db) => job_runs::purge(&db, before)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match purged {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "old job runs deleted"),
            Err(e) => tracing::warn!(error = %e, "could not purge old job runs"),
        }
    }

    /// The loop: catch up, then sleep until the next firing (or a SIGHUP's new schedule), fire,
    /// repeat, until `shutdown` resolves. Running jobs then get `grace` to finish; any still
    /// running are left to their lease, which another instance will find lapsed.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>, grace: Duration) {
        tokio::pin!(shutdown);
        self.catch_up().await;
        let clock = self.runs.clock().clone();
        loop {
            let next = self.next_firing();
            let mut settings = self.settings.clone();
            tokio::select! {
                () = &mut shutdown => break,
                // A reload may change a schedule: recompute the next firing.
                changed = settings.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    self.settings.borrow_and_update();
                    continue;
                }
                () = async {
                    match next {
                        Some(at) => clock.sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => {}
            }
            self.fire_due(clock.now()).await;
        }
        if !self.running.is_empty() {
            tracing::info!(
                running = self.running.len(),
                grace_secs = grace.as_secs(),
                "waiting for running jobs"
            );
            if tokio::time::timeout(grace, self.wait_idle()).await.is_err() {
                tracing::warn!(
                    "jobs still running at the end of the grace period are left to their lease"
                );
                self.running.abort_all();
            }
        }
    }
}

/// Of the firings due at `now` (oldest first): each one at most [`LATE_LIMIT`] old, or, when all
/// are older, only the latest.
fn firings_to_run(due: &[DateTime<Utc>], now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let recent: Vec<_> = due
        .iter()
        .copied()
        .filter(|t| now - *t <= LATE_LIMIT)
        .collect();
    if recent.is_empty() {
        due.last().copied().into_iter().collect()
    } else {
        recent
    }
}

/// Each enabled job's next firing after `after`, for the jobs API.
pub fn next_firings(settings: &Settings, after: DateTime<Utc>) -> HashMap<JobName, DateTime<Utc>> {
    JobName::ALL
        .into_iter()
        .filter_map(|job| {
            let cron = job.schedule(settings).cron()?;
            firings::next_after(cron, settings.server.timezone, after).map(|t| (job, t))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn late_firings_run_after_a_delay_but_not_after_a_stall() {
        let now = at("2026-12-07T10:00:03Z");
        let due = [
            at("2026-12-07T10:00:01Z"),
            at("2026-12-07T10:00:02Z"),
            at("2026-12-07T10:00:03Z"),
        ];
        assert_eq!(
            firings_to_run(&due, now),
            due,
            "a pass two seconds late runs all three"
        );
        let now = at("2026-12-07T10:30:00Z");
        let due = [
            at("2026-12-07T10:10:00Z"),
            at("2026-12-07T10:15:00Z"),
            at("2026-12-07T10:20:00Z"),
        ];
        assert_eq!(firings_to_run(&due, now), [at("2026-12-07T10:20:00Z")]);
        let mixed = [at("2026-12-07T10:28:00Z"), at("2026-12-07T10:29:30Z")];
        assert_eq!(firings_to_run(&mixed, now), [at("2026-12-07T10:29:30Z")]);
        assert!(firings_to_run(&[], now).is_empty());
    }
}
