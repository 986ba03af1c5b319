//! `POST /api/tracker`: sync reports, async jobs, version shapes.

use serde_json::json;

use super::*;

const PERSON: &str = "LbpW75gVtW5";
const MALARIA_PROGRAM: &str = "EgUtuyusFCa";

/// A documentation payload with its ids swapped for the seed's.
fn docs_payload(name: &str) -> Value {
    let text = fixture(name)
        .to_string()
        .replace("y77LiPqLMoq", MOYAMBA_CHC)
        .replace("nEenWmSyUEp", PERSON)
        .replace("IpHINAT79UW", MALARIA_PROGRAM)
        .replace("A03MvHHogjR", "XEeKmvFSPWA")
        .replace("ZzYYXq4fJie", "dgcKz5408Ri");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn sync_import_answers_the_import_report() {
    let sim = start_sim("2.41.0").await;
    let payload = docs_payload("tracker_post_request_flat.json");
    let (status, report) = send(post_json(&sim, "/api/tracker?async=false", &payload)).await;
    assert_eq!(status, 200, "{report:#}");
    assert_same_shape(&report, &fixture("tracker_post_sync_ok_2.41.json"), &[]);
    assert_same_shape(
        &report,
        &fixture("tracker_import_report_structure_2.41.json"),
        &[],
    );
    assert_eq!(
        report["stats"],
        json!({"created": 6, "updated": 0, "deleted": 0, "ignored": 0, "total": 6})
    );
    // The relationship has no uid in the payload, so a new one is created each time.
    let (_, again) = send(post_json(&sim, "/api/tracker?async=false", &payload)).await;
    assert_eq!(
        again["stats"],
        json!({"created": 1, "updated": 5, "deleted": 0, "ignored": 0, "total": 6})
    );
    assert_eq!(sim.received_tracker().len(), 2);
}

#[tokio::test]
async fn sync_validation_error_is_409_without_bundle_report() {
    let sim = start_sim("2.41.0").await;
    let payload = json!({ "trackedEntities": [{ "trackedEntity": "Kj6vYde4LHh", "trackedEntityType": "Q9GufDoplCL", "orgUnit": MOYAMBA_CHC }] });
    let (status, report) = send(post_json(&sim, "/api/tracker?async=false", &payload)).await;
    assert_eq!(status, 409);
    assert_eq!(
        report,
        fixture("tracker_post_sync_validation_error_409_2.41.json")
    );

    let unknown_program = json!({ "enrollments": [{ "enrollment": "MNWZ6hnuhSw", "program": "nOpRoGrAm01", "trackedEntity": "Kj6vYde4LHh", "orgUnit": MOYAMBA_CHC }] });
    let (status, report) = send(post_json(
        &sim,
        "/api/tracker?async=false",
        &unknown_program,
    ))
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        report["validationReport"]["errorReports"][0]["errorCode"],
        "E1069"
    );
    assert!(report.get("bundleReport").is_none());
}

#[tokio::test]
async fn report_shapes_follow_the_version() {
    let sim = start_sim("2.40.3").await;
    let payload = docs_payload("tracker_post_request_flat.json");
    let (_, report) = send(post_json(&sim, "/api/tracker?async=false", &payload)).await;
    let bundle = &report["bundleReport"];
    assert_eq!(bundle["empty"], false);
    assert!(bundle.get("status").is_none());
    let te_reports = &bundle["typeReportMap"]["TRACKED_ENTITY"]["objectReports"];
    assert_eq!(
        te_reports[1]["index"], 1,
        "2.40 object reports carry their index"
    );

    sim.set_version("2.38.7");
    let (_, report) = send(post_json(&sim, "/api/tracker?async=false", &payload)).await;
    let bundle = &report["bundleReport"];
    assert_eq!(bundle["status"], "OK");
    assert_eq!(bundle["stats"]["updated"], 5);
    assert!(bundle.get("empty").is_none());
    let bad = json!({ "events": [{ "event": "ZwwuwNp6gVd", "program": MALARIA_PROGRAM, "programStage": "nOsTaGe0001", "orgUnit": MOYAMBA_CHC }] });
    let (status, report) = send(post_json(&sim, "/api/tracker?async=false", &bad)).await;
    assert_eq!(status, 409);
    let error = &report["validationReport"]["errorReports"][0];
    assert_eq!(error["errorCode"], "E1013");
    assert!(error.get("args").is_none(), "args only from 2.41");
}

#[tokio::test]
async fn nested_payloads_are_flattened() {
    let sim = start_sim("2.41.0").await;
    let payload = docs_payload("tracker_post_request_nested.json");
    let (status, report) = send(post_json(&sim, "/api/tracker?async=false", &payload)).await;
    assert_eq!(status, 200, "{report:#}");
    let types = &report["bundleReport"]["typeReportMap"];
    for kind in ["TRACKED_ENTITY", "ENROLLMENT", "EVENT"] {
        assert_eq!(types[kind]["stats"]["created"], 1, "{kind}");
    }
}

#[tokio::test]
async fn async_import_is_a_job_with_notifications_and_a_report() {
    for (version, start_fixture, notifications_fixture, report_fixture) in [
        (
            "2.40.3",
            "tracker_post_async_response_2.38-2.40.json",
            "tracker_jobs_notifications_2.38.json",
            None,
        ),
        (
            "2.41.0",
            "tracker_post_async_response_2.41.json",
            "tracker_jobs_notifications_2.41.json",
            Some("tracker_import_report_structure_2.41.json"),
        ),
    ] {
        let sim = start_sim(version).await;
        let payload = docs_payload("tracker_post_request_flat.json");
        let (status, started) = send(post_json(&sim, "/api/tracker", &payload)).await;
        assert_eq!(status, 200);
        assert_same_shape(&started, &fixture(start_fixture), &[]);
        let id = started["response"]["id"].as_str().unwrap();
        assert_eq!(
            started["response"]["location"],
            url(&sim, &format!("/api/tracker/jobs/{id}"))
        );

        let (status, notes) = send(get(&sim, &format!("/api/tracker/jobs/{id}"))).await;
        assert_eq!(status, 200);
        assert_same_shape(&notes, &fixture(notifications_fixture), &[]);
        assert_eq!(notes[0]["completed"], true);
        assert_eq!(notes[0]["category"], "TRACKER_IMPORT_JOB");

        let (status, report) = send(get(&sim, &format!("/api/tracker/jobs/{id}/report"))).await;
        assert_eq!(status, 200);
        assert_eq!(report["status"], "OK");
        if let Some(name) = report_fixture {
            assert_same_shape(&report, &fixture(name), &[]);
        }
        let (status, missing) = send(get(&sim, "/api/tracker/jobs/nOsUcHjOb01/report")).await;
        assert_eq!(status, 404);
        assert_eq!(missing["errorCode"], "E1005");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn sync_reports_match_the_older_shapes() {
    let sim = start_sim("2.38.7").await;
    let payload = docs_payload("tracker_post_request_flat.json");
    for (version, name) in [
        ("2.38.7", "tracker_report_ok_2.38-2.39.json"),
        ("2.40.3", "tracker_report_ok_2.40.json"),
    ] {
        sim.set_version(version);
        let (status, report) = send(post_json(&sim, "/api/tracker?async=false", &payload)).await;
        assert_eq!(status, 200);
        assert_same_shape(&report, &fixture(name), &[]);
    }
    let bad = json!({ "trackedEntities": [{ "trackedEntity": "Kj6vYde4LHh", "trackedEntityType": "Q9GufDoplCL", "orgUnit": MOYAMBA_CHC }] });
    let (status, report) = send(post_json(&sim, "/api/tracker?async=false", &bad)).await;
    assert_eq!(status, 409);
    assert_same_shape(
        &report,
        &fixture("tracker_report_validation_error_409_2.38-2.40.json"),
        &[],
    );
}

#[tokio::test]
async fn atomic_mode_object_keeps_the_valid_objects_and_still_answers_409() {
    let sim = start_sim("2.40.3").await;
    let event = json!({ "event": "STPIK5YTi4f", "program": "VruzuaheZll", "programStage": "TIAEKDEHUXG", "orgUnit": MOYAMBA_CHC });
    let (status, _) = send(post_json(
        &sim,
        "/api/tracker?async=false",
        &json!({ "events": [event] }),
    ))
    .await;
    assert_eq!(status, 200);
    let te = json!({ "trackedEntity": "aVcGf9iO8Xp", "trackedEntityType": PERSON, "orgUnit": MOYAMBA_CHC });
    let mixed = json!({ "trackedEntities": [te], "events": [event] });
    let path = "/api/tracker?async=false&atomicMode=OBJECT&importStrategy=CREATE";
    let (status, report) = send(post_json(&sim, path, &mixed)).await;
    assert_eq!(status, 409);
    // That fixture lists only the EVENT type report; the server lists all four.
    let other_types = [
        "$.bundleReport.typeReportMap.ENROLLMENT",
        "$.bundleReport.typeReportMap.RELATIONSHIP",
        "$.bundleReport.typeReportMap.TRACKED_ENTITY",
    ];
    let expected = fixture("tracker_report_partial_atomic_object_2.40.json");
    assert_same_shape(&report, &expected, &other_types);
    assert_eq!(
        report["validationReport"]["errorReports"][0]["message"],
        "Event: `STPIK5YTi4f`, already exists."
    );
    assert_eq!(
        report["stats"],
        json!({"created": 1, "updated": 0, "deleted": 0, "ignored": 1, "total": 2})
    );
}
