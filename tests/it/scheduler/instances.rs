//! Several instances on one database, moved through simulated time.

use std::sync::Arc;

use chrono::Duration;
use futures::future::join_all;

use super::*;

/// Moves every instance to `now` together, as instances on several machines would be.
async fn fire_all(clock: &ManualClock, instances: &mut [Scheduler], now: DateTime<Utc>) {
    clock.set(now);
    join_all(instances.iter_mut().map(|s| s.fire_due(now))).await;
}

async fn wait_all(instances: &mut [Scheduler]) {
    for s in instances.iter_mut() {
        s.wait_idle().await;
    }
}

async fn a_day_of_five_minute_firings_runs_each_once(instance_count: usize) {
    let settings = settings_with("*/5 * * * *", chrono_tz::Africa::Kampala).await;
    let pool = pool(&settings);
    let start = at("2026-12-07T00:00:30Z");
    let clock = ManualClock::new(start);
    let job = Arc::new(TestJob::default());
    let mut instances: Vec<Scheduler> = (0..instance_count)
        .map(|i| instance(&settings, &pool, &clock, &job, &format!("host-{i}:1")))
        .collect();
    // Step a minute at a time, so that each firing is seen by every instance at once.
    for minute in 1..=24 * 60 {
        fire_all(&clock, &mut instances, start + Duration::minutes(minute)).await;
        wait_all(&mut instances).await;
    }
    let runs = runs_of(&pool, "retry").await;
    assert_eq!(runs.len(), 288, "one run per firing");
    assert_eq!(job.count(), 288, "the job ran once per firing");
    let mut firings: Vec<_> = runs.iter().map(|r| r.0).collect();
    firings.dedup();
    assert_eq!(firings.len(), 288, "no firing twice");
    assert!(
        runs.iter()
            .all(|r| r.1.as_deref() == Some("ok") && r.3 == "schedule")
    );
    let instances_used: std::collections::BTreeSet<_> = runs.iter().map(|r| &r.2).collect();
    assert!(!instances_used.is_empty());
}

#[tokio::test]
async fn two_instances_run_each_firing_of_a_day_once() {
    a_day_of_five_minute_firings_runs_each_once(2).await;
}

#[tokio::test]
async fn three_instances_run_each_firing_of_a_day_once() {
    a_day_of_five_minute_firings_runs_each_once(3).await;
}

#[tokio::test]
async fn a_run_whose_instance_died_is_failed_and_the_next_firing_runs_on_another() {
    let settings = settings_with("*/5 * * * *", chrono_tz::Tz::UTC).await;
    let pool = pool(&settings);
    let start = at("2026-12-07T10:04:00Z");
    let clock = ManualClock::new(start);
    let hanging = Arc::new(TestJob {
        hang: true,
        ..TestJob::default()
    });
    let healthy = Arc::new(TestJob::default());
    let mut dying = instance(&settings, &pool, &clock, &hanging, "dying:1");
    let mut other = instance(&settings, &pool, &clock, &healthy, "other:2");

    clock.set(at("2026-12-07T10:05:00Z"));
    dying.fire_due(clock.now()).await;
    assert_eq!(dying.running(), 1);
    other.fire_due(clock.now()).await;
    assert_eq!(healthy.count(), 0, "the firing was the dying instance's");
    // Killed mid-run: its tasks (the job and its lease renewal) stop with it.
    drop(dying);

    clock.set(at("2026-12-07T10:10:00Z"));
    other.fire_due(clock.now()).await;
    other.wait_idle().await;
    let runs = runs_of(&pool, "retry").await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0].1.as_deref(), Some("failed"));
    assert_eq!(runs[0].2, "dying:1");
    assert!(
        runs[0]
            .4
            .as_deref()
            .unwrap()
            .contains("dying:1 stopped renewing"),
        "{runs:?}"
    );
    assert_eq!(
        (runs[1].1.as_deref(), runs[1].2.as_str()),
        (Some("ok"), "other:2")
    );
    assert_eq!(healthy.count(), 1);
}

#[tokio::test]
async fn a_job_slower_than_its_interval_never_runs_twice_at_once() {
    let mut settings = settings_with("*/5 * * * *", chrono_tz::Tz::UTC).await;
    // Long enough that the lease outlives the simulated minutes between the renewals.
    settings.scheduler.lease_secs = 3600;
    let pool = pool(&settings);
    let clock = ManualClock::new(at("2026-12-07T10:04:00Z"));
    let (job, gate) = TestJob::gated();
    let mut instances = vec![
        instance(&settings, &pool, &clock, &job, "a:1"),
        instance(&settings, &pool, &clock, &job, "b:2"),
    ];
    fire_all(&clock, &mut instances, at("2026-12-07T10:05:00Z")).await;
    // The 10:05 run is still going at 10:10 and 10:15.
    fire_all(&clock, &mut instances, at("2026-12-07T10:10:00Z")).await;
    fire_all(&clock, &mut instances, at("2026-12-07T10:15:00Z")).await;
    assert_eq!(job.count(), 1, "only one run started");
    gate.add_permits(1);
    wait_all(&mut instances).await;
    fire_all(&clock, &mut instances, at("2026-12-07T10:20:00Z")).await;
    gate.add_permits(1);
    wait_all(&mut instances).await;

    let runs = runs_of(&pool, "retry").await;
    let outcomes: Vec<_> = runs.iter().map(|r| r.1.as_deref().unwrap()).collect();
    assert_eq!(outcomes, ["ok", "skipped", "skipped", "ok"], "{runs:?}");
    assert!(
        runs[1].4.as_deref().unwrap().contains("still running"),
        "{runs:?}"
    );
    assert_eq!(job.count(), 2);
}

#[tokio::test]
async fn after_downtime_only_the_latest_missed_firing_runs_once() {
    let settings = settings_with("*/5 * * * *", chrono_tz::Tz::UTC).await;
    let pool = pool(&settings);
    let job = Arc::new(TestJob::default());
    // Two instances come back at 13:02 after being down since 10:00; catch-up covers an hour.
    let clock = ManualClock::new(at("2026-12-07T13:02:00Z"));
    let mut instances = vec![
        instance(&settings, &pool, &clock, &job, "a:1"),
        instance(&settings, &pool, &clock, &job, "b:2"),
    ];
    join_all(instances.iter_mut().map(|s| s.catch_up())).await;
    wait_all(&mut instances).await;
    let runs = runs_of(&pool, "retry").await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0].0, runs[0].3.as_str()),
        (at("2026-12-07T13:00:00Z"), "catch_up")
    );
    // Then the schedule goes on from there.
    fire_all(&clock, &mut instances, at("2026-12-07T13:05:00Z")).await;
    wait_all(&mut instances).await;
    assert_eq!(runs_of(&pool, "retry").await.len(), 2);
    assert_eq!(job.count(), 2);
}

#[tokio::test]
async fn no_catch_up_when_the_window_is_zero_or_nothing_was_missed() {
    let mut settings = settings_with("0 * * * *", chrono_tz::Tz::UTC).await;
    settings.scheduler.catch_up_secs = 0;
    let pool = pool(&settings);
    let job = Arc::new(TestJob::default());
    let clock = ManualClock::new(at("2026-12-07T13:02:00Z"));
    let mut s = instance(&settings, &pool, &clock, &job, "a:1");
    s.catch_up().await;
    s.wait_idle().await;
    assert_eq!(job.count(), 0);
}

/// Steps a whole local day five minutes at a time and counts the runs.
async fn runs_over_local_day(expression: &str, zone: chrono_tz::Tz, day: &str) -> usize {
    let settings = settings_with(expression, zone).await;
    let pool = pool(&settings);
    let day: chrono::NaiveDate = day.parse().unwrap();
    let local_midnight = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .unwrap()
            .and_local_timezone(zone)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    };
    let start = local_midnight(day) - Duration::seconds(1);
    let end = local_midnight(day.succ_opt().unwrap()) - Duration::seconds(1);
    let clock = ManualClock::new(start);
    let job = Arc::new(TestJob::default());
    let mut instances = vec![
        instance(&settings, &pool, &clock, &job, "a:1"),
        instance(&settings, &pool, &clock, &job, "b:2"),
    ];
    let mut now = start;
    while now < end {
        now = (now + Duration::minutes(5)).min(end);
        fire_all(&clock, &mut instances, now).await;
        wait_all(&mut instances).await;
    }
    assert_eq!(runs_of(&pool, "retry").await.len(), job.count());
    job.count()
}

#[tokio::test]
async fn spring_forward_days_fire_the_expected_number_of_times() {
    let berlin = chrono_tz::Europe::Berlin;
    assert_eq!(
        runs_over_local_day("0 * * * *", berlin, "2026-03-29").await,
        23
    );
    assert_eq!(
        runs_over_local_day("30 2 * * *", berlin, "2026-03-29").await,
        1
    );
    let new_york = chrono_tz::America::New_York;
    assert_eq!(
        runs_over_local_day("30 2 * * *", new_york, "2026-03-08").await,
        1
    );
}

#[tokio::test]
async fn fall_back_days_fire_the_expected_number_of_times() {
    let berlin = chrono_tz::Europe::Berlin;
    assert_eq!(
        runs_over_local_day("0 * * * *", berlin, "2026-10-25").await,
        25
    );
    assert_eq!(
        runs_over_local_day("30 2 * * *", berlin, "2026-10-25").await,
        1
    );
    let new_york = chrono_tz::America::New_York;
    assert_eq!(
        runs_over_local_day("30 1 * * *", new_york, "2026-11-01").await,
        1
    );
}

#[tokio::test]
async fn a_disabled_job_never_runs() {
    let mut settings = settings_with("*/5 * * * *", chrono_tz::Tz::UTC).await;
    settings.api.retry_cron_expression = CronExpr::disabled();
    let pool = pool(&settings);
    let job = Arc::new(TestJob::default());
    let start = at("2026-12-07T00:00:00Z");
    let clock = ManualClock::new(start);
    let mut s = instance(&settings, &pool, &clock, &job, "a:1");
    s.catch_up().await;
    for hour in 1..=24 {
        clock.set(start + Duration::hours(hour));
        s.fire_due(clock.now()).await;
    }
    s.wait_idle().await;
    assert_eq!(job.count(), 0);
    assert_eq!(s.next_firing(), None);
}

#[tokio::test]
async fn a_reload_changes_the_schedule_without_a_restart() {
    let mut settings = settings_with("*/5 * * * *", chrono_tz::Tz::UTC).await;
    settings.api.retry_cron_expression = CronExpr::disabled();
    let pool = pool(&settings);
    let clock = ManualClock::new(at("2026-12-07T10:01:00Z"));
    let runs = Arc::new(Runs::new(
        pool.clone(),
        Arc::new(clock.clone()),
        Arc::new(SharedJob(Arc::new(TestJob::default()))),
        "a:1".into(),
        60,
    ));
    let (tx, rx) = watch::channel(Arc::new(settings.clone()));
    let scheduler = Scheduler::new(runs, rx);
    assert_eq!(scheduler.next_firing(), None);
    // What SIGHUP does: the reloaded settings are published on the channel.
    settings.api.retry_cron_expression = CronExpr::parse("*/5 * * * *").unwrap();
    tx.send(Arc::new(settings)).unwrap();
    assert_eq!(scheduler.next_firing(), Some(at("2026-12-07T10:05:00Z")));
}

#[tokio::test]
async fn runs_older_than_keep_runs_days_are_purged() {
    let settings = settings_with("*/5 * * * *", chrono_tz::Tz::UTC).await;
    let pool = pool(&settings);
    let client = pool.get().await.unwrap();
    for days in [settings.scheduler.keep_runs_days + 1, 1] {
        client
            .execute(
                "INSERT INTO job_runs (job, scheduled_for, trigger, instance, started_at, \
                   finished_at, outcome) VALUES ('sync', $1, 'schedule', 'old:1', $1, $1, 'ok')",
                &[&(at("2026-12-07T10:00:00Z") - Duration::days(i64::from(days)))],
            )
            .await
            .unwrap();
    }
    let clock = ManualClock::new(at("2026-12-07T10:01:00Z"));
    let mut s = instance(
        &settings,
        &pool,
        &clock,
        &Arc::new(TestJob::default()),
        "a:1",
    );
    s.fire_due(at("2026-12-07T10:02:00Z")).await;
    assert_eq!(
        runs_of(&pool, "sync").await.len(),
        1,
        "the run older than the limit is gone"
    );
}
