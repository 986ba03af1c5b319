//! One submission's delivery and what the log records, for each DHIS2 answer.

use dhis2_sim::Fault;
use serde_json::{Value, json};

use crate::support::pipeline::{Env, MAL_SUSP, ORG_UNIT, aggregate_body};

async fn submit_and_drain(env: &Env, body: &Value) -> (Value, Value) {
    let answer = env.submit(body).await;
    env.run_pending_deliveries().await;
    let log = env.log(answer["submission_id"].as_i64().unwrap()).await;
    (answer, log)
}

#[tokio::test]
async fn delivers_to_every_dhis2_version_and_records_the_answer() {
    let env = Env::start().await;
    for (i, version) in ["2.37.10", "2.38.7", "2.39.5", "2.40.3", "2.41.0"]
        .into_iter()
        .enumerate()
    {
        env.sim.set_version(version);
        env.sim.clear_received();
        let period = format!("20240{}", i + 1);
        let body = aggregate_body(
            &period,
            json!({"MAL_SUSP": 1000000, "MAL_TESTED": 12, "MAL_CONF_F_LT5": 3}),
        );
        let (answer, log) = submit_and_drain(&env, &body).await;
        assert_eq!(log["status"], "completed", "{version}: {log}");
        assert_eq!(
            (log["attempts"].as_i64(), log["retry_count"].as_i64()),
            (Some(1), Some(0))
        );
        assert_eq!(log["response_status"], 200, "{version}");
        assert_eq!(
            log["imported"], 3,
            "{version}: counts read from either shape: {log}"
        );
        assert_eq!(
            (
                log["updated"].as_i64(),
                log["ignored"].as_i64(),
                log["deleted"].as_i64()
            ),
            (Some(0), Some(0), Some(0))
        );
        assert_eq!(log["conflicts"], json!([]));
        let raw = log["response"].as_str().expect("raw response kept");
        let raw: Value = serde_json::from_str(raw).unwrap();
        if version == "2.37.10" {
            assert_eq!(raw["responseType"], "ImportSummary", "bare summary");
        } else {
            assert_eq!(raw["httpStatusCode"], 200, "WebMessage wrapper");
        }
        assert!(log["completed_at"].is_string() && log["last_attempt_at"].is_string());
        let sent = env.sim.received_data_value_sets();
        assert_eq!(
            sent,
            [answer["payload"].clone()],
            "exactly the announced payload"
        );
        let susp = sent[0]["dataValues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["dataElement"] == MAL_SUSP)
            .unwrap()
            .clone();
        assert_eq!(susp["value"], "1000000", "never 1e+06");
    }
}

#[tokio::test]
async fn a_slow_answer_shows_processing_meanwhile_and_counts_one_attempt() {
    let env = Env::start().await;
    // Longer than MARK_AFTER: the row is marked while DHIS2 keeps the call waiting.
    env.sim.set_latency(
        dhis2gw::submissions::deliver::MARK_AFTER + std::time::Duration::from_millis(1500),
    );
    let id = env
        .submit(&aggregate_body("202401", json!({"MAL_SUSP": 4})))
        .await["submission_id"]
        .as_i64()
        .unwrap();
    let submissions = env.app.state.submissions().clone();
    let delivery = tokio::spawn(async move { submissions.run_pending().await });
    // The processing mark exists only while DHIS2 keeps the call waiting: watch for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let during = loop {
        let log = env.log(id).await;
        if log["status"] == "processing" {
            break log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never marked processing: {log}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        during["attempts"], 1,
        "the running attempt is counted: {during}"
    );
    assert!(during["last_attempt_at"].is_string());
    let run = delivery.await.unwrap().expect("deliveries ran");
    assert_eq!(run.ran, 1);
    env.run_pending_deliveries().await;
    let log = env.log(id).await;
    assert_eq!(log["status"], "completed");
    assert_eq!(log["attempts"], 1, "counted once, not again by the record");
    assert_eq!(log["last_attempt_at"], during["last_attempt_at"]);
    assert_eq!(env.sim.received_data_value_sets().len(), 1);
}

#[tokio::test]
async fn conflicts_are_recorded_and_not_retried() {
    let env = Env::start().await;
    for (version, period) in [("2.40.3", "202405"), ("2.37.10", "202406")] {
        env.sim.set_version(version);
        env.sim.clear_received();
        let (_, log) = submit_and_drain(
            &env,
            &aggregate_body(period, json!({"MAL_SUSP": 4, "UNKNOWN_DE": 1})),
        )
        .await;
        assert_eq!(
            log["status"], "completed_with_conflicts",
            "{version}: {log}"
        );
        assert_eq!(log["attempts"], 1, "not retried");
        assert_eq!(
            log["response_status"],
            if version == "2.37.10" { 200 } else { 409 }
        );
        assert_eq!(
            (log["imported"].as_i64(), log["ignored"].as_i64()),
            (Some(1), Some(1)),
            "{log}"
        );
        let conflict = &log["conflicts"][0];
        assert_eq!(conflict["errorCode"], "E7610", "{log}");
        assert_eq!(conflict["object"], "deUnknown01");
        assert_eq!(conflict["property"], "dataElement");
        assert!(conflict["value"].as_str().unwrap().contains("deUnknown01"));
        assert_eq!(env.sim.received_data_value_sets().len(), 1);
    }
}

#[tokio::test]
async fn a_set_level_error_fails_without_retry() {
    let env = Env::start().await;
    let mut body = aggregate_body("202401", json!({"MAL_SUSP": 1}));
    body["orgUnit"] = json!("zzzzzzzzzz1");
    let (_, log) = submit_and_drain(&env, &body).await;
    assert_eq!(
        (log["status"].as_str(), log["attempts"].as_i64()),
        (Some("failed"), Some(1)),
        "{log}"
    );
    assert_eq!(log["conflicts"][0]["errorCode"], "E7603");
    assert_eq!(log["response_status"], 409);
}

#[tokio::test]
async fn transient_failures_are_retried_until_dhis2_takes_the_data() {
    let env = Env::start().await;
    env.sim.push_fault(Fault::Status(500));
    env.sim.push_fault(Fault::HtmlError(502));
    env.sim.push_fault(Fault::Drop);
    let (answer, log) =
        submit_and_drain(&env, &aggregate_body("202401", json!({"MAL_SUSP": 7}))).await;
    assert_eq!(log["status"], "completed", "{log}");
    assert_eq!(
        (log["attempts"].as_i64(), log["retry_count"].as_i64()),
        (Some(4), Some(3))
    );
    assert_eq!(log["errors"], Value::Null, "the last attempt succeeded");
    let statuses: Vec<u16> = env
        .sim
        .received()
        .iter()
        .filter(|r| r.path.ends_with("dataValueSets"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [500, 502, 0, 200]);
    assert_eq!(
        env.sim.received_data_value_sets().last(),
        Some(&answer["payload"])
    );
}

#[tokio::test]
async fn retries_run_out_into_failed() {
    let env = Env::start_with(|s| s.server.max_retries = 2).await;
    env.sim.set_fault_always(Some(Fault::Status(503)));
    let (_, log) = submit_and_drain(&env, &aggregate_body("202401", json!({"MAL_SUSP": 7}))).await;
    assert_eq!(log["status"], "failed", "{log}");
    assert_eq!(
        (log["attempts"].as_i64(), log["retry_count"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(log["response_status"], 503);
    assert!(log["errors"].as_str().unwrap().contains("503"), "{log}");
    assert!(
        log["response"]
            .as_str()
            .unwrap()
            .contains("Service temporarily unavailable")
    );

    // DHIS2 is back: a requeue from the log delivers it.
    env.sim.set_fault_always(None);
    let id = log["id"].as_i64().unwrap();
    let response = env
        .post(
            &env.admin,
            &format!("/api/v2/logs/{id}/restart"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    env.run_pending_deliveries().await;
    let log = env.log(id).await;
    assert_eq!(
        (
            log["status"].as_str(),
            log["attempts"].as_i64(),
            log["retry_count"].as_i64()
        ),
        (Some("completed"), Some(4), Some(0))
    );
}

#[tokio::test]
async fn dhis2_refusing_the_credentials_is_recorded_not_retried() {
    let env = Env::start_with(|s| s.api.dhis2_password = "wrong".into()).await;
    let (_, log) = submit_and_drain(&env, &aggregate_body("202401", json!({"MAL_SUSP": 7}))).await;
    assert_eq!(
        (log["status"].as_str(), log["attempts"].as_i64()),
        (Some("failed"), Some(1)),
        "{log}"
    );
    assert_eq!(log["response_status"], 401);
    assert!(log["errors"].as_str().unwrap().contains("401"), "{log}");
}

#[tokio::test]
async fn save_response_false_keeps_status_and_counts_only() {
    let env = Env::start_with(|s| s.api.save_response = false).await;
    let (_, log) = submit_and_drain(&env, &aggregate_body("202401", json!({"MAL_SUSP": 7}))).await;
    assert_eq!(log["status"], "completed");
    assert_eq!(log["response"], Value::Null);
    assert_eq!(log["imported"], 1);
}

#[tokio::test]
async fn tracker_payloads_reach_dhis2_and_its_report_is_recorded() {
    let env = Env::start().await;
    let payload = json!({
        "trackedEntities": [{
            "trackedEntityType": "LbpW75gVtW5",
            "orgUnit": ORG_UNIT,
            "enrollments": [{
                "program": "EgUtuyusFCa",
                "orgUnit": ORG_UNIT,
                "enrolledAt": "2024-03-01",
                "events": [{"programStage": "XEeKmvFSPWA", "orgUnit": ORG_UNIT, "occurredAt": "2024-03-01", "status": "COMPLETED"}]
            }]
        }]
    });
    let response = env
        .post(&env.submitter, "/api/v2/tracker", &payload, None)
        .await;
    assert_eq!(response.status(), 200);
    let id = response.json::<Value>().await.unwrap()["submission_id"]
        .as_i64()
        .unwrap();
    env.run_pending_deliveries().await;
    let log = env.log(id).await;
    assert_eq!(log["status"], "completed", "{log}");
    assert_eq!(log["imported"], 3, "te + enrollment + event created: {log}");
    assert_eq!(env.sim.received_tracker(), std::slice::from_ref(&payload));
    let query = env
        .sim
        .received()
        .into_iter()
        .find(|r| r.path.ends_with("/tracker"))
        .unwrap()
        .query;
    assert_eq!(query.as_deref(), Some("async=false"));

    // A payload DHIS2 rejects: recorded with its error reports, not retried.
    let mut bad = payload.clone();
    bad["trackedEntities"][0]["trackedEntityType"] = json!("zzzzzzzzzz1");
    let response = env
        .post(&env.submitter, "/api/v2/tracker", &bad, None)
        .await;
    let id = response.json::<Value>().await.unwrap()["submission_id"]
        .as_i64()
        .unwrap();
    env.run_pending_deliveries().await;
    let log = env.log(id).await;
    assert_eq!(
        (
            log["status"].as_str(),
            log["attempts"].as_i64(),
            log["response_status"].as_i64()
        ),
        (Some("failed"), Some(1), Some(409)),
        "{log}"
    );
    assert_eq!(log["conflicts"][0]["errorCode"], "E1005", "{log}");
}
