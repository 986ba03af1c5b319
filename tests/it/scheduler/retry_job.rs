//! The real retry job, fired by the scheduler: a submission failed by a run of 5xx answers is
//! requeued by the job and then delivered.

use std::sync::Arc;

use dhis2_sim::Fault;
use dhis2gw::config::CronExpr;
use dhis2gw::scheduler::{Jobs, ManualClock, Runs, Scheduler};

use crate::support::pipeline::{Env, aggregate_body};

#[tokio::test]
async fn the_scheduled_retry_job_requeues_a_failed_submission_and_it_is_delivered() {
    let env = Env::start_with(|s| s.server.max_retries = 0).await;
    env.sim.set_fault_always(Some(Fault::Status(503)));
    let accepted = env
        .submit(&aggregate_body(
            "202401",
            serde_json::json!({"MAL_SUSP": 5}),
        ))
        .await;
    let id = accepted["submission_id"].as_i64().unwrap();
    env.run_pending_deliveries().await;
    assert_eq!(env.log(id).await["status"], "failed");
    env.sim.set_fault_always(None);

    let mut settings = (*env.app.settings).clone();
    settings.api.retry_cron_expression = CronExpr::parse("*/5 * * * *").unwrap();
    let (tx, rx) = tokio::sync::watch::channel(Arc::new(settings.clone()));
    let state = &env.app.state;
    let clock = ManualClock::new(chrono::Utc::now());
    let runs = Arc::new(Runs::new(
        state.db().clone(),
        Arc::new(clock.clone()),
        Arc::new(Jobs::new(rx.clone(), state.submissions().clone())),
        "test:1".into(),
        settings.scheduler.lease_secs,
    ));
    let mut scheduler = Scheduler::new(runs, rx);
    let firing = scheduler.next_firing().expect("the retry job is scheduled");
    clock.set(firing);
    scheduler.fire_due(firing).await;
    let finished = scheduler.wait_idle().await;
    drop(tx);
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].counts["requeued"], 1, "{finished:?}");

    env.run_pending_deliveries().await;
    let log = env.log(id).await;
    assert_eq!(log["status"], "completed", "{log}");
    assert_eq!(log["requeue_count"], 1);
}
