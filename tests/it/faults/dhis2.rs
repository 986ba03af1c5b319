//! DHIS2 faults through the whole pipeline: each ends in the right status (retried, recorded or
//! failed), with the evidence in the submission's log row.

use dhis2_sim::Fault;
use serde_json::{Value, json};

use crate::support::pipeline::{Env, aggregate_body};

async fn submit_and_drain(env: &Env) -> Value {
    let answer = env
        .submit(&aggregate_body("202401", json!({"MAL_SUSP": 7})))
        .await;
    env.run_pending_deliveries().await;
    env.log(answer["submission_id"].as_i64().unwrap()).await
}

fn data_statuses(env: &Env) -> Vec<u16> {
    env.sim
        .received()
        .iter()
        .filter(|r| r.path.ends_with("dataValueSets"))
        .map(|r| r.status)
        .collect()
}

/// A proxy's sign-in page answered with 200: not an import summary, so nothing says the data
/// arrived. It is not retried blindly (it needs a person: the proxy or the credentials); the
/// row is failed with the status and the page kept.
#[tokio::test]
async fn a_login_page_answered_200_fails_with_the_page_in_the_log() {
    let env = Env::start().await;
    env.sim.push_fault(Fault::HtmlError(200));
    let log = submit_and_drain(&env).await;
    assert_eq!(log["status"], "failed", "{log}");
    assert_eq!(log["attempts"], 1, "{log}");
    assert_eq!(log["response_status"], 200, "{log}");
    assert!(
        log["response"].as_str().unwrap_or("").contains("nginx"),
        "the page is kept verbatim: {log}"
    );
    assert!(log["errors"].as_str().is_some(), "{log}");
    assert_eq!(data_statuses(&env), [200]);
}

/// A JSON answer cut in the middle (the data did reach DHIS2): not an import summary, so
/// nothing says what DHIS2 did. It is not retried blindly (the data may well be stored, and a
/// resend could duplicate events); the row is failed with the status and the cut body kept, for
/// a person to check and requeue.
#[tokio::test]
async fn a_truncated_json_answer_fails_with_the_cut_body_in_the_log() {
    let env = Env::start().await;
    env.sim.push_fault(Fault::Truncated);
    let log = submit_and_drain(&env).await;
    assert_eq!(log["status"], "failed", "{log}");
    assert_eq!(log["attempts"], 1, "{log}");
    assert_eq!(log["response_status"], 200, "{log}");
    let kept = log["response"].as_str().unwrap_or("");
    assert!(
        kept.starts_with('{') && serde_json::from_str::<Value>(kept).is_err(),
        "the cut JSON is kept verbatim: {log}"
    );
    assert!(
        log["errors"].as_str().is_some_and(|e| !e.is_empty()),
        "{log}"
    );
    assert_eq!(data_statuses(&env), [200]);
}

/// 429 with `Retry-After`: retried after it, then imported; the row is completed.
#[tokio::test]
async fn too_many_requests_is_retried_then_completed() {
    let env = Env::start().await;
    env.sim.push_fault(Fault::Status(429));
    let log = submit_and_drain(&env).await;
    assert_eq!(log["status"], "completed", "{log}");
    assert_eq!(
        (log["attempts"].as_i64(), log["retry_count"].as_i64()),
        (Some(2), Some(1)),
        "{log}"
    );
    assert_eq!(log["response_status"], 200, "{log}");
    assert_eq!(data_statuses(&env), [429, 200]);
}

/// DHIS2 that never answers: the call times out (`api.dhis2_timeout_secs`), is retried, and
/// the next attempt imports.
#[tokio::test]
async fn a_hanging_dhis2_times_out_and_the_retry_completes() {
    let env = Env::start_with(|s| s.api.dhis2_timeout_secs = 1).await;
    env.sim.push_fault(Fault::Hang);
    let log = submit_and_drain(&env).await;
    assert_eq!(log["status"], "completed", "{log}");
    assert_eq!(
        (log["attempts"].as_i64(), log["retry_count"].as_i64()),
        (Some(2), Some(1)),
        "{log}"
    );
}

/// Nothing listening where DHIS2 should be: every attempt is a transport error, retried until
/// `server.max_retries`, then failed, with the cause in the row.
#[tokio::test]
async fn refused_connections_are_retried_then_failed_with_the_cause() {
    let env = Env::start_with(|s| {
        s.api.dhis2_base_url = "http://127.0.0.1:9/".into();
        s.server.max_retries = 1;
    })
    .await;
    let log = submit_and_drain(&env).await;
    assert_eq!(log["status"], "failed", "{log}");
    assert_eq!(log["attempts"], 2, "{log}");
    let errors = log["errors"].as_str().unwrap_or("").to_lowercase();
    assert!(
        errors.contains("connect") || errors.contains("refused") || errors.contains("reach"),
        "{log}"
    );
}
