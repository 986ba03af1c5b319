//! Injected faults on the data endpoints, latency, and the request log.

use std::time::{Duration, Instant};

use dhis2_sim::Fault;
use serde_json::json;

use super::*;

fn small_payload() -> Value {
    json!({ "dataSet": MONTHLY_DS, "period": "202401", "orgUnit": MOYAMBA_CHC, "dataValues": [{ "dataElement": MAL_SUSP, "value": "1" }] })
}

#[tokio::test]
async fn status_faults_answer_webmessages_in_queue_order() {
    let sim = start_sim("2.40.3").await;
    sim.push_fault(Fault::Status(500));
    sim.push_fault(Fault::Status(429));
    sim.push_fault(Fault::Status(503));
    let post = || post_json(&sim, "/api/dataValueSets", &small_payload());

    let (status, body) = send(post()).await;
    assert_eq!(status, 500);
    assert_eq!(
        (body["httpStatus"].as_str(), body["status"].as_str()),
        (Some("Internal Server Error"), Some("ERROR"))
    );
    let response = post().send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let (status, body) = send(post()).await;
    assert_eq!((status, body["httpStatusCode"].as_u64()), (503, Some(503)));
    let (status, _) = send(post()).await;
    assert_eq!(status, 200, "the queue is used up");
    assert_eq!(
        sim.received_data_value_sets().len(),
        1,
        "faulted requests are not processed"
    );
}

#[tokio::test]
async fn standing_fault_applies_until_cleared_and_only_to_data_endpoints() {
    let sim = start_sim("2.40.3").await;
    sim.set_fault_always(Some(Fault::HtmlError(502)));
    for _ in 0..2 {
        let response = post_json(&sim, "/api/tracker", &json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 502);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("<title>502 Bad Gateway</title>")
        );
    }
    let (status, _) = send(get(&sim, "/api/system/info")).await;
    assert_eq!(status, 200, "reads are not faulted");
    sim.set_fault_always(None);
    let (status, _) = send(post_json(&sim, "/api/dataValueSets", &small_payload())).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn delay_then_answers_and_latency_slows_every_request() {
    let sim = start_sim("2.40.3").await;
    sim.push_fault(Fault::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    let (status, _) = send(post_json(&sim, "/api/dataValueSets", &small_payload())).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    sim.set_latency(Duration::from_millis(200));
    let started = Instant::now();
    let pong = client()
        .get(url(&sim, "/api/system/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(pong.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn hang_never_answers() {
    let sim = start_sim("2.40.3").await;
    sim.push_fault(Fault::Hang);
    let error = post_json(&sim, "/api/dataValueSets", &small_payload())
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("no answer");
    assert!(error.is_timeout(), "{error:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn drop_closes_the_connection_without_a_response() {
    let sim = start_sim("2.40.3").await;
    sim.push_fault(Fault::Drop);
    let error = post_json(&sim, "/api/tracker", &json!({}))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect_err("a transport error, not an HTTP status");
    assert!(error.status().is_none() && !error.is_timeout(), "{error:?}");
    let (status, _) = send(post_json(&sim, "/api/tracker?async=false", &json!({}))).await;
    assert_eq!(status, 200, "the next request is served normally");
}

#[tokio::test]
async fn drop_on_a_kept_alive_connection_is_not_retried_by_the_client() {
    let sim = start_sim("2.40.3").await;
    let shared = client();
    let post = || {
        shared
            .post(url(&sim, "/api/dataValueSets"))
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .json(&small_payload())
    };
    assert_eq!(post().send().await.unwrap().status(), 200);
    sim.push_fault(Fault::Drop);
    let error = post().send().await.expect_err("dropped");
    assert!(error.status().is_none(), "{error:?}");
    assert_eq!(post().send().await.unwrap().status(), 200);
    let statuses: Vec<u16> = sim.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 0, 200], "the dropped request was sent once");
}

#[tokio::test]
async fn received_records_every_request_in_order() {
    let sim = start_sim("2.40.3").await;
    sim.push_fault(Fault::Drop);
    let _ = post_json(&sim, "/api/dataValueSets?dryRun=true", &small_payload())
        .send()
        .await;
    send(get(&sim, "/api/me?fields=id")).await;
    send(client().get(url(&sim, "/api/me"))).await;

    let received = sim.received();
    let summary: Vec<(&str, &str, u16)> = received
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.status))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST", "/api/dataValueSets", 0),
            ("GET", "/api/me", 200),
            ("GET", "/api/me", 302)
        ]
    );
    let first = &received[0];
    assert_eq!(first.query.as_deref(), Some("dryRun=true"));
    assert_eq!(
        serde_json::from_slice::<Value>(&first.body).unwrap(),
        small_payload()
    );
    assert!(first.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(received[1].query.as_deref(), Some("fields=id"));

    sim.clear_received();
    assert!(sim.received().is_empty());
}
