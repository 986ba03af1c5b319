//! `parse_data_value_set_response` against every `POST /api/dataValueSets` answer shape in
//! `tests/fixtures/dhis2/`, and against garbage.

use std::collections::BTreeMap;

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/dhis2/", $name))
    };
}

fn parse_ok(status: u16, body: &str) -> ImportOutcome {
    match parse_data_value_set_response(status, body) {
        Ok(outcome) => outcome,
        Err(e) => panic!("expected an outcome, got {e:?}"),
    }
}

#[test]
fn webmessage_200_ok_of_2_38() {
    let body = fixture!("datavaluesets_post_success_2.38.json");
    let outcome = parse_ok(200, body);
    assert_eq!(outcome.status, ImportStatus::Success);
    assert_eq!(
        outcome.counts,
        ImportCounts {
            imported: 0,
            updated: 10,
            ignored: 0,
            deleted: 0
        }
    );
    assert!(outcome.conflicts.is_empty());
    assert!(outcome.rejected_indexes.is_empty());
    assert_eq!(
        outcome.description.as_deref(),
        Some("Import process completed successfully")
    );
    assert_eq!(outcome.message.as_deref(), Some("Import was successful."));
    assert_eq!(outcome.http_status, 200);
    assert_eq!(outcome.raw_body, body);
}

#[test]
fn webmessage_409_warning_with_rich_conflicts() {
    let body = fixture!("datavaluesets_post_conflicts_409_WARNING_2.40plus.json");
    let outcome = parse_ok(409, body);
    assert_eq!(outcome.status, ImportStatus::Warning);
    assert_eq!(outcome.counts.imported, 1);
    assert_eq!(outcome.counts.ignored, 3);
    assert_eq!(outcome.rejected_indexes, vec![1, 2, 3]);
    assert_eq!(
        outcome.message.as_deref(),
        Some("One more conflicts encountered, please check import summary.")
    );
    assert_eq!(outcome.conflicts.len(), 3);
    let outside = &outcome.conflicts[2];
    assert_eq!(outside.object.as_deref(), Some("ouOutside01"));
    assert_eq!(outside.error_code.as_deref(), Some("E7617"));
    assert_eq!(outside.property.as_deref(), Some("orgUnit"));
    assert_eq!(outside.indexes, Some(vec![3]));
    let objects = outside.objects.as_ref().expect("objects");
    assert_eq!(
        objects,
        &BTreeMap::from([
            ("organisationUnit".to_owned(), "ouOutside01".to_owned()),
            ("user".to_owned(), "xE7jOejl9FI".to_owned()),
        ])
    );
    assert_eq!(
        outside.value,
        "Organisation unit: `ouOutside01` not in hierarchy of current user: `xE7jOejl9FI`"
    );
}

#[test]
fn webmessage_409_error_dataset_not_found_is_an_outcome() {
    let body = fixture!("datavaluesets_post_dataset_not_found_409_ERROR_2.40plus.json");
    let outcome = parse_ok(409, body);
    assert_eq!(outcome.status, ImportStatus::Error);
    assert_eq!(outcome.counts, ImportCounts::default());
    assert_eq!(
        outcome.description.as_deref(),
        Some("Import process was aborted")
    );
    assert_eq!(outcome.conflicts.len(), 1);
    let conflict = &outcome.conflicts[0];
    assert_eq!(conflict.error_code.as_deref(), Some("E7600"));
    assert_eq!(conflict.property.as_deref(), Some("dataSet"));
    // Set-level conflicts carry no index.
    assert_eq!(conflict.indexes, None);
}

#[test]
fn webmessage_409_error_import_process_failed() {
    let outcome = parse_ok(
        409,
        fixture!("datavaluesets_post_import_failed_409_ERROR.json"),
    );
    assert_eq!(outcome.status, ImportStatus::Error);
    assert!(outcome.conflicts.is_empty());
    assert!(
        outcome
            .description
            .as_deref()
            .unwrap()
            .starts_with("The import process failed: ")
    );
}

#[test]
fn bare_import_summary_of_2_37_and_api_37() {
    let outcome = parse_ok(
        200,
        fixture!("datavaluesets_post_plain_ImportSummary_api37_or_pre2.38.json"),
    );
    // Always HTTP 200 before 2.38, even with WARNING: the summary's status decides.
    assert_eq!(outcome.status, ImportStatus::Warning);
    assert_eq!(outcome.counts.imported, 2);
    assert_eq!(outcome.counts.ignored, 1);
    assert_eq!(outcome.message, None);
    assert_eq!(outcome.conflicts[0].indexes, Some(vec![2]));
    // No rejectedIndexes before 2.39.2.
    assert!(outcome.rejected_indexes.is_empty());
}

#[test]
fn short_conflict_form_of_2_36() {
    let outcome = parse_ok(
        200,
        fixture!("datavaluesets_post_conflicts_short_form_2.36.json"),
    );
    assert_eq!(outcome.status, ImportStatus::Warning);
    assert_eq!(
        outcome.conflicts[1],
        Conflict {
            object: Some("2024W99".into()),
            objects: None,
            value: "Period not valid".into(),
            error_code: None,
            property: None,
            indexes: None,
        }
    );
}

#[test]
fn task_summary_without_conflicts_key() {
    let outcome = parse_ok(200, fixture!("system_taskSummaries_datavalue_import.json"));
    assert_eq!(outcome.status, ImportStatus::Success);
    assert_eq!(outcome.counts.updated, 431);
    assert!(outcome.conflicts.is_empty());
}

#[test]
fn conflict_object_of_2_38_round_trips_through_serde() {
    let item: serde_json::Value = serde_json::from_str(fixture!(
        "datavaluesets_import_conflict_object_2.38plus.json"
    ))
    .unwrap();
    let conflict = conflict_of(&item).unwrap();
    assert_eq!(conflict.indexes, Some(vec![2, 7]));
    assert_eq!(conflict.error_code.as_deref(), Some("E7619"));
    // Stored in the log in DHIS2's own spelling, and read back identically.
    let stored = serde_json::to_value(&conflict).unwrap();
    assert_eq!(stored, item);
    let back: Conflict = serde_json::from_value(stored).unwrap();
    assert_eq!(back, conflict);
}

#[test]
fn async_start_answers_are_not_summaries() {
    for body in [
        fixture!("datavaluesets_post_async_response_2.38-2.40.json"),
        fixture!("datavaluesets_post_async_2.41.json"),
    ] {
        match parse_data_value_set_response(200, body) {
            Err(Dhis2Error::Unparsable { status, reason, .. }) => {
                assert_eq!(status, 200);
                assert!(reason.contains("async job"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn auth_failures_are_unauthorized_with_dhis2_message() {
    let cases = [
        (401, fixture!("unauthorized_401.json"), "Unauthorized"),
        (
            401,
            fixture!("pat_unknown_token_401_2.38-2.40.json"),
            "The API token does not exists.",
        ),
        (
            401,
            fixture!("pat_unknown_token_401_2.41plus.json"),
            "The API token does not exists",
        ),
        (
            401,
            fixture!("pat_expired_401.json"),
            "Failed to authenticate API token, token has expired.",
        ),
        (
            403,
            fixture!("forbidden_403_preauthorize.json"),
            "Access is denied",
        ),
        (
            403,
            fixture!("webmessage_403_forbidden.json"),
            "You don't have the proper permissions to read objects of this type.",
        ),
    ];
    for (status, body, expected) in cases {
        match parse_data_value_set_response(status, body) {
            Err(Dhis2Error::Unauthorized {
                status: s,
                message,
                body: b,
            }) => {
                assert_eq!(s, status);
                assert_eq!(message, expected);
                assert_eq!(b, body);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn not_found_and_bad_request() {
    for body in [
        fixture!("not_found_404_2.38-2.39.json"),
        fixture!("not_found_404_2.40plus.json"),
    ] {
        let e = parse_data_value_set_response(404, body).unwrap_err();
        assert_eq!(e, Dhis2Error::NotFound { body: body.into() });
        assert!(!e.is_retryable());
    }
    let body = fixture!("pat_bad_checksum_400_2.41plus.json");
    let e = parse_data_value_set_response(400, body).unwrap_err();
    assert_eq!(
        e,
        Dhis2Error::Client {
            status: 400,
            body: body.into()
        }
    );
    assert!(e.to_string().contains("Checksum validation failed"));
}

#[test]
fn proxy_html_pages_are_retryable_server_errors() {
    let cases = [
        (
            502,
            fixture!("proxy_502_bad_gateway.html"),
            "502 Bad Gateway",
        ),
        (
            503,
            fixture!("proxy_503_service_unavailable.html"),
            "503 Service Unavailable",
        ),
        (
            504,
            fixture!("proxy_504_gateway_timeout.html"),
            "504 Gateway Time-out",
        ),
    ];
    for (status, body, title) in cases {
        let e = parse_data_value_set_response(status, body).unwrap_err();
        assert_eq!(
            e,
            Dhis2Error::Server {
                status,
                body: body.into()
            }
        );
        assert!(e.is_retryable());
        assert_eq!(
            e.to_string(),
            format!("DHIS2 answered HTTP {status}: {title}")
        );
    }
}

#[test]
fn html_or_empty_200_is_unparsable() {
    for (body, kind) in [
        (fixture!("login_page_200.html"), "HTML"),
        ("", "empty"),
        ("  \n", "empty"),
        ("{\"httpStatus\":\"OK\"", "not JSON"),
        ("[]", "unexpected shape"),
    ] {
        match parse_data_value_set_response(200, body) {
            Err(Dhis2Error::Unparsable {
                reason, body: b, ..
            }) => {
                assert!(reason.contains(kind), "{reason}");
                assert_eq!(b, body);
            }
            other => panic!("{body:?}: {other:?}"),
        }
    }
}

#[test]
fn status_decides_for_bodies_without_summary() {
    let e = parse_data_value_set_response(500, "").unwrap_err();
    assert_eq!(
        e,
        Dhis2Error::Server {
            status: 500,
            body: String::new()
        }
    );
    let e = parse_data_value_set_response(429, "").unwrap_err();
    assert!(matches!(e, Dhis2Error::TooManyRequests { .. }));
    assert!(e.is_retryable());
    // A 5xx is retried even if a summary came with it: DHIS2 never sends one with 5xx.
    let body = fixture!("datavaluesets_post_success_2.38.json");
    assert!(matches!(
        parse_data_value_set_response(503, body),
        Err(Dhis2Error::Server { status: 503, .. })
    ));
    let webmessage_409 = r#"{"httpStatus":"Conflict","httpStatusCode":409,"status":"ERROR","message":"Invalid JSON"}"#;
    assert!(matches!(
        parse_data_value_set_response(409, webmessage_409),
        Err(Dhis2Error::Client { status: 409, .. })
    ));
}

#[test]
fn summary_status_spellings() {
    let body = |status: &str| {
        format!(
            r#"{{"responseType":"ImportSummary","status":{status},"importCount":{{"imported":"2","updated":1}}}}"#
        )
    };
    assert_eq!(
        parse_ok(200, &body("\"success\"")).status,
        ImportStatus::Success
    );
    assert_eq!(parse_ok(200, &body("\"OK\"")).status, ImportStatus::Success);
    assert_eq!(parse_ok(200, &body("\"OK\"")).counts.imported, 2);
    assert!(matches!(
        parse_data_value_set_response(200, &body("\"DONE\"")),
        Err(Dhis2Error::Unparsable { .. })
    ));
    assert!(matches!(
        parse_data_value_set_response(200, &body("null")),
        Err(Dhis2Error::Unparsable { .. })
    ));
    // The WebMessage status stands in when the summary has none.
    let wrapped = r#"{"status":"WARNING","message":"m","response":{"responseType":"ImportSummary","importCount":{}}}"#;
    assert_eq!(parse_ok(409, wrapped).status, ImportStatus::Warning);
}

#[test]
fn lenient_conflict_fields() {
    let body = r#"{"responseType":"ImportSummary","status":"WARNING","conflicts":[
        {"object":12,"objects":{"dataElement":"a","n":3,"x":null,"o":{}},"value":"v","indexes":[1,-1,"2",3.5,4]},
        "not an object", null,
        {"message":"no value key"}
    ],"rejectedIndexes":"nope"}"#;
    let outcome = parse_ok(200, body);
    assert_eq!(outcome.conflicts.len(), 2);
    let first = &outcome.conflicts[0];
    assert_eq!(first.object.as_deref(), Some("12"));
    assert_eq!(first.indexes, Some(vec![1, 4]));
    assert_eq!(
        first.objects,
        Some(BTreeMap::from([
            ("dataElement".to_owned(), "a".to_owned()),
            ("n".to_owned(), "3".to_owned())
        ]))
    );
    assert_eq!(outcome.conflicts[1].value, "no value key");
    assert!(outcome.rejected_indexes.is_empty());
}

#[test]
fn conflicts_json_is_dhis2_spelled() {
    let outcome = parse_ok(
        409,
        fixture!("datavaluesets_post_conflicts_409_WARNING_2.40plus.json"),
    );
    let json = outcome.conflicts_json();
    assert_eq!(json[0]["errorCode"], "E7610");
    assert_eq!(json[0]["indexes"][0], 1);
    assert!(outcome.has_conflicts());
}

#[test]
fn error_text_names_the_cause() {
    let text = |status: u16, body: &str| parse_ok(status, body).error_text();
    assert_eq!(
        text(200, fixture!("datavaluesets_post_success_2.38.json")),
        None
    );
    assert_eq!(
        text(
            409,
            fixture!("datavaluesets_post_dataset_not_found_409_ERROR_2.40plus.json")
        )
        .as_deref(),
        Some("Data set not found or not accessible: `dsUnknown01`")
    );
    assert_eq!(
        text(
            409,
            fixture!("datavaluesets_post_conflicts_409_WARNING_2.40plus.json")
        )
        .as_deref(),
        Some("Data element not found or not accessible: `deUnknown01` (and 2 more conflicts)")
    );
    assert!(
        text(
            409,
            fixture!("datavaluesets_post_import_failed_409_ERROR.json")
        )
        .unwrap()
        .starts_with("The import process failed: Unexpected character")
    );
    let error_without_conflicts = r#"{"responseType":"ImportSummary","status":"ERROR","description":"Import process was aborted"}"#;
    assert_eq!(
        text(200, error_without_conflicts).as_deref(),
        Some("Import process was aborted")
    );
}
