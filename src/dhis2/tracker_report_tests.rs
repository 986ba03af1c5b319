//! Tracker ImportReport, job start and job notification parsers against the fixtures of each
//! DHIS2 version.

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/dhis2/", $name))
    };
}

fn report(status: u16, body: &str) -> ImportOutcome {
    match parse_tracker_report(status, body) {
        Ok(outcome) => outcome,
        Err(e) => panic!("expected a report, got {e:?}"),
    }
}

#[test]
fn ok_reports_of_every_version() {
    let cases = [
        (fixture!("tracker_import_report_ok_2.36era.json"), (1, 0)),
        (fixture!("tracker_report_ok_2.38-2.39.json"), (1, 1)),
        (fixture!("tracker_report_ok_2.40.json"), (3, 0)),
        (
            fixture!("tracker_import_report_structure_2.41.json"),
            (3, 0),
        ),
        (fixture!("tracker_post_sync_ok_2.41.json"), (2, 0)),
    ];
    for (body, (created, updated)) in cases {
        let outcome = report(200, body);
        assert_eq!(outcome.status, ImportStatus::Success);
        assert_eq!(outcome.counts.imported, created);
        assert_eq!(outcome.counts.updated, updated);
        assert_eq!(outcome.counts.ignored, 0);
        assert!(outcome.conflicts.is_empty());
        assert_eq!(outcome.raw_body, body);
        assert_eq!(outcome.message, None);
    }
}

#[test]
fn validation_error_409_without_bundle_report() {
    let cases = [
        (
            fixture!("tracker_import_report_error_event_2.36era.json"),
            "E1029",
            "EVENT",
            "STPIK5YTi4f",
            1,
        ),
        (
            fixture!("tracker_report_validation_error_409_2.38-2.40.json"),
            "E1005",
            "TRACKED_ENTITY",
            "Kj6vYde4LHh",
            2,
        ),
        (
            fixture!("tracker_post_sync_validation_error_409_2.41.json"),
            "E1005",
            "TRACKED_ENTITY",
            "Kj6vYde4LHh",
            1,
        ),
    ];
    for (body, code, tracker_type, uid, ignored) in cases {
        let outcome = report(409, body);
        assert_eq!(outcome.status, ImportStatus::Error);
        assert_eq!(outcome.http_status, 409);
        assert_eq!(outcome.counts.ignored, ignored);
        let first = &outcome.conflicts[0];
        assert_eq!(first.error_code.as_deref(), Some(code));
        assert_eq!(first.property.as_deref(), Some(tracker_type));
        assert_eq!(first.object.as_deref(), Some(uid));
        assert!(!first.value.is_empty());
        assert_eq!(first.indexes, None);
    }
}

#[test]
fn object_report_errors_are_added_once_with_their_index() {
    let outcome = report(
        409,
        fixture!("tracker_report_partial_atomic_object_2.40.json"),
    );
    assert_eq!(outcome.status, ImportStatus::Error);
    assert_eq!(outcome.counts.imported, 1);
    assert_eq!(outcome.counts.ignored, 1);
    let codes: Vec<_> = outcome
        .conflicts
        .iter()
        .map(|c| c.error_code.as_deref().unwrap())
        .collect();
    // Warnings (`warningCode`) are not conflicts.
    assert_eq!(codes, ["E1030", "E1302"]);
    assert_eq!(outcome.conflicts[1].indexes, Some(vec![2]));
}

#[test]
fn duplicated_errors_are_not_repeated() {
    let error = r#"{"message":"m","errorCode":"E1030","trackerType":"EVENT","uid":"STPIK5YTi4f"}"#;
    let body = format!(
        r#"{{"status":"ERROR","validationReport":{{"errorReports":[{error}]}},
        "bundleReport":{{"typeReportMap":{{"EVENT":{{"objectReports":[{{"uid":"STPIK5YTi4f","index":0,"errorReports":[{error}]}}]}}}}}}}}"#
    );
    assert_eq!(report(409, &body).conflicts.len(), 1);
}

#[test]
fn counts_fall_back_to_bundle_stats() {
    let body = r#"{"status":"OK","bundleReport":{"typeReportMap":{
        "EVENT":{"stats":{"created":2,"updated":1,"deleted":0,"ignored":0}},
        "ENROLLMENT":{"stats":{"created":1,"updated":"3"}}}}}"#;
    let counts = report(200, body).counts;
    assert_eq!((counts.imported, counts.updated), (3, 4));
}

#[test]
fn aborted_report_message_and_warning_status() {
    let body = r#"{"status":"WARNING","message":"Import aborted","stats":{"created":0},"validationReport":{"errorReports":[],"warningReports":[{"warningCode":"E1300","message":"w"}]}}"#;
    let outcome = report(200, body);
    assert_eq!(outcome.status, ImportStatus::Warning);
    assert_eq!(outcome.message.as_deref(), Some("Import aborted"));
    assert!(outcome.conflicts.is_empty());
}

#[test]
fn a_webmessage_wrapped_report_is_unwrapped() {
    let inner = fixture!("tracker_post_sync_validation_error_409_2.41.json");
    let body = format!(
        r#"{{"httpStatus":"Conflict","httpStatusCode":409,"status":"ERROR","message":"x","response":{inner}}}"#
    );
    let outcome = report(409, &body);
    assert_eq!(outcome.status, ImportStatus::Error);
    assert_eq!(outcome.conflicts.len(), 1);
}

#[test]
fn failures_and_non_reports() {
    let e = parse_tracker_report(401, fixture!("unauthorized_401.json")).unwrap_err();
    assert!(matches!(e, Dhis2Error::Unauthorized { status: 401, .. }));
    let not_found = r#"{"httpStatus":"Not Found","httpStatusCode":404,"status":"ERROR","message":"Summary for job abc does not exist","errorCode":"E1005"}"#;
    assert!(matches!(
        parse_tracker_report(404, not_found),
        Err(Dhis2Error::NotFound { .. })
    ));
    let e = parse_tracker_report(502, fixture!("proxy_502_bad_gateway.html")).unwrap_err();
    assert!(e.is_retryable());
    match parse_tracker_report(200, fixture!("tracker_post_async_response_2.41.json")) {
        Err(Dhis2Error::Unparsable { reason, .. }) => assert!(reason.contains("async job")),
        other => panic!("{other:?}"),
    }
    let bad_request = r#"{"httpStatus":"Bad Request","httpStatusCode":400,"status":"ERROR","message":"Invalid JSON"}"#;
    assert!(matches!(
        parse_tracker_report(400, bad_request),
        Err(Dhis2Error::Client { status: 400, .. })
    ));
    assert!(matches!(
        parse_tracker_report(200, fixture!("login_page_200.html")),
        Err(Dhis2Error::Unparsable { .. })
    ));
    assert!(matches!(
        parse_tracker_report(200, r#"{"status":"FINE","stats":{}}"#),
        Err(Dhis2Error::Unparsable { .. })
    ));
}

#[test]
fn job_start_of_every_version() {
    let cases = [
        (
            fixture!("tracker_post_async_response_2.38-2.40.json"),
            "LkXBUdIgbe3",
        ),
        (fixture!("tracker_post_async_response_2.38.json"), ""),
        (
            fixture!("tracker_post_async_response_2.41.json"),
            "cHh2OCTJvRw",
        ),
    ];
    for (body, expected) in cases {
        match parse_tracker_job_start(200, body) {
            Ok(TrackerStart::Job { id }) => {
                if !expected.is_empty() {
                    assert_eq!(id, expected);
                }
                assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
            }
            other => panic!("{other:?}"),
        }
    }
    let from_location =
        r#"{"status":"OK","response":{"location":"https://h/api/tracker/jobs/AbC123dEf45/"}}"#;
    assert_eq!(
        parse_tracker_job_start(200, from_location).unwrap(),
        TrackerStart::Job {
            id: "AbC123dEf45".into()
        }
    );
    let hostile = r#"{"status":"OK","response":{"id":"../../users"}}"#;
    assert!(parse_tracker_job_start(200, hostile).is_err());
    // A server that imports synchronously anyway: its report is the outcome.
    match parse_tracker_job_start(200, fixture!("tracker_post_sync_ok_2.41.json")) {
        Ok(TrackerStart::Report(outcome)) => assert_eq!(outcome.counts.imported, 2),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_tracker_job_start(
            409,
            fixture!("tracker_post_sync_validation_error_409_2.41.json")
        ),
        Ok(TrackerStart::Report(ImportOutcome {
            status: ImportStatus::Error,
            ..
        }))
    ));
    assert!(matches!(
        parse_tracker_job_start(403, fixture!("forbidden_403_preauthorize.json")),
        Err(Dhis2Error::Unauthorized { status: 403, .. })
    ));
}

#[test]
fn job_notifications() {
    assert_eq!(
        tracker_job_completed(200, fixture!("tracker_jobs_notifications_2.38.json")),
        Ok(true)
    );
    assert_eq!(
        tracker_job_completed(200, fixture!("tracker_jobs_notifications_2.41.json")),
        Ok(true)
    );
    assert_eq!(
        tracker_job_completed(200, fixture!("tracker_jobs_notifications_2.41_sdk.json")),
        Ok(true)
    );
    let running = r#"[{"message":"Running PreHeat","completed":false},{"message":"Tracker import started","completed":false}]"#;
    assert_eq!(tracker_job_completed(200, running), Ok(false));
    assert_eq!(tracker_job_completed(200, "[]"), Ok(false));
    assert!(matches!(
        tracker_job_completed(200, "{}"),
        Err(Dhis2Error::Unparsable { .. })
    ));
    assert!(matches!(
        tracker_job_completed(404, ""),
        Err(Dhis2Error::NotFound { .. })
    ));
}
