//! Tracker imports through the client: sync reports and async job polling on 2.38, 2.40, 2.41.

use std::time::Duration;

use dhis2_sim::Fault;
use dhis2gw::dhis2::{Dhis2Error, ImportStatus, TrackerMode};
use serde_json::{Value, json};

use super::*;

fn tracker_payload() -> Value {
    json!({ "trackedEntities": [{
        "trackedEntity": "Kj6vYde4LHh", "trackedEntityType": PERSON, "orgUnit": MOYAMBA_CHC,
        "enrollments": [{ "enrollment": "MNWZ6hnuhSw", "program": MALARIA_PROGRAM, "orgUnit": MOYAMBA_CHC,
            "enrolledAt": "2024-01-10", "occurredAt": "2024-01-10", "status": "ACTIVE" }]
    }]})
}

#[tokio::test]
async fn tracker_sync_ok_then_validation_error() {
    for version in ["2.38.7", "2.40.3", "2.41.0"] {
        let sim = start_sim(version).await;
        let client = client_for(&sim);
        let outcome = client
            .post_tracker(&tracker_payload(), TrackerMode::Sync)
            .await
            .unwrap();
        assert_eq!(outcome.status, ImportStatus::Success, "{version}");
        assert_eq!(outcome.counts.imported, 2, "{version}");
        let request = last_request(&sim);
        assert_eq!(request.path, "/api/tracker");
        assert_eq!(request.query.as_deref(), Some("async=false"));

        let bad = json!({ "trackedEntities": [{ "trackedEntity": "Kj6vYde4LHx", "trackedEntityType": "Q9GufDoplCL", "orgUnit": MOYAMBA_CHC }] });
        let outcome = client.post_tracker(&bad, TrackerMode::Sync).await.unwrap();
        assert_eq!(outcome.http_status, 409, "{version}");
        assert_eq!(outcome.status, ImportStatus::Error);
        assert_eq!(outcome.counts.ignored, 1);
        let conflict = &outcome.conflicts[0];
        assert_eq!(conflict.error_code.as_deref(), Some("E1005"));
        assert_eq!(conflict.property.as_deref(), Some("TRACKED_ENTITY"));
        assert_eq!(conflict.object.as_deref(), Some("Kj6vYde4LHx"));
    }
}

#[tokio::test]
async fn tracker_async_polls_the_job_then_reads_its_report() {
    let mode = TrackerMode::Async {
        poll_interval: Duration::from_millis(50),
        max_wait: Duration::from_secs(5),
    };
    for version in ["2.38.7", "2.40.3", "2.41.0"] {
        let sim = start_sim(version).await;
        let outcome = client_for(&sim)
            .post_tracker(&tracker_payload(), mode)
            .await
            .unwrap();
        assert_eq!(outcome.status, ImportStatus::Success, "{version}");
        assert_eq!(outcome.counts.imported, 2, "{version}");
        let requests = sim.received();
        let post = &requests[0];
        assert_eq!(
            (post.method.as_str(), post.query.as_deref()),
            ("POST", Some("async=true"))
        );
        let job = requests[1]
            .path
            .strip_prefix("/api/tracker/jobs/")
            .unwrap()
            .to_owned();
        assert_eq!(requests[1].method, "GET");
        let last = requests.last().unwrap();
        assert_eq!(
            last.path,
            format!("/api/tracker/jobs/{job}/report"),
            "{version}"
        );
    }
}

#[tokio::test]
async fn tracker_async_faults_before_the_job_starts_are_errors() {
    let sim = start_sim("2.41.0").await;
    let mode = TrackerMode::Async {
        poll_interval: Duration::from_millis(20),
        max_wait: Duration::from_secs(2),
    };
    sim.push_fault(Fault::HtmlError(504));
    let error = client_for(&sim)
        .post_tracker(&tracker_payload(), mode)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Dhis2Error::Server { status: 504, .. }),
        "{error:?}"
    );
    assert_eq!(sim.received().len(), 1, "no polling without a job");
}
