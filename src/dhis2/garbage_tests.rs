//! Robustness of every parser: truncated, corrupted, hostile and huge bodies at any status get an
//! answer (Ok or Err), never a panic.

use crate::dhis2::{
    parse_data_value_set_response, parse_tracker_job_start, parse_tracker_report,
    tracker_job_completed,
};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/dhis2/", $name))
    };
}

/// Every prefix of every fixture, and byte-level corruptions of them, at many statuses: the
/// parser answers (Ok or Err) and never panics.
#[test]
fn never_panics_on_truncated_or_garbled_bodies() {
    let bodies = [
        fixture!("datavaluesets_post_success_2.38.json"),
        fixture!("datavaluesets_post_conflicts_409_WARNING_2.40plus.json"),
        fixture!("datavaluesets_post_plain_ImportSummary_api37_or_pre2.38.json"),
        fixture!("datavaluesets_post_conflicts_short_form_2.36.json"),
        fixture!("proxy_502_bad_gateway.html"),
        fixture!("unauthorized_401.json"),
    ];
    const GARBAGE: &[u8] = b"{}[]\":,0-9.eE\\ \xff\x00a";
    let statuses = [
        0, 99, 200, 201, 204, 302, 400, 401, 403, 404, 409, 429, 500, 502, 999,
    ];
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for body in bodies {
        for cut in 0..=body.len() {
            if !body.is_char_boundary(cut) {
                continue;
            }
            let prefix = &body[..cut];
            let status = statuses[cut % statuses.len()];
            let _ = parse_data_value_set_response(status, prefix);
            let _ = parse_tracker_report(status, prefix);
        }
        for _ in 0..100 {
            let mut bytes = body.as_bytes().to_vec();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed as usize) % bytes.len();
                bytes[at] = GARBAGE[(seed >> 32) as usize % GARBAGE.len()];
            }
            let garbled = String::from_utf8_lossy(&bytes);
            for status in statuses {
                let _ = parse_data_value_set_response(status, &garbled);
                let _ = parse_tracker_report(status, &garbled);
            }
        }
    }
    let deep = "[".repeat(100_000);
    assert!(parse_data_value_set_response(200, &deep).is_err());
    let huge_number = format!(
        "{{\"responseType\":\"ImportSummary\",\"status\":\"SUCCESS\",\"importCount\":{{\"imported\":{}}}}}",
        "9".repeat(400)
    );
    assert!(parse_data_value_set_response(200, &huge_number).is_ok());
}

#[test]
fn never_panics_on_truncated_tracker_bodies() {
    for body in [
        fixture!("tracker_report_partial_atomic_object_2.40.json"),
        fixture!("tracker_post_async_response_2.38-2.40.json"),
        fixture!("tracker_jobs_notifications_2.41_sdk.json"),
    ] {
        for cut in (0..=body.len()).filter(|c| body.is_char_boundary(*c)) {
            for status in [200, 409, 500] {
                let _ = parse_tracker_report(status, &body[..cut]);
                let _ = parse_tracker_job_start(status, &body[..cut]);
                let _ = tracker_job_completed(status, &body[..cut]);
            }
        }
    }
}

/// Right keys, wrong types: every field a parser reads, given every JSON type.
#[test]
fn wrong_types_in_known_fields_never_panic() {
    let kinds = [
        "null",
        "true",
        "-1",
        "1e400",
        "\"x\"",
        "[]",
        "{}",
        "[null,{}]",
        "{\"a\":[1]}",
    ];
    let templates = [
        r#"{"responseType":"ImportSummary","status":"SUCCESS","importCount":@}"#,
        r#"{"responseType":"ImportSummary","status":"WARNING","conflicts":@}"#,
        r#"{"responseType":"ImportSummary","status":"WARNING","conflicts":[{"value":"v","objects":@,"indexes":@}]}"#,
        r#"{"responseType":"ImportSummary","status":@,"rejectedIndexes":@,"description":@}"#,
        r#"{"status":"ERROR","message":@,"response":@}"#,
        r#"{"status":"OK","stats":@,"bundleReport":@}"#,
        r#"{"status":"ERROR","validationReport":{"errorReports":@}}"#,
        r#"{"status":"OK","bundleReport":{"typeReportMap":{"EVENT":{"stats":@,"objectReports":@}}}}"#,
        r#"{"status":"OK","bundleReport":{"typeReportMap":{"EVENT":{"objectReports":[{"index":@,"errorReports":@}]}}}}"#,
        r#"{"status":"OK","response":{"id":@,"location":@}}"#,
        r#"[{"completed":@},@]"#,
    ];
    for template in templates {
        for kind in kinds {
            let body = template.replace('@', kind);
            for status in [200, 409] {
                let _ = parse_data_value_set_response(status, &body);
                let _ = parse_tracker_report(status, &body);
                let _ = parse_tracker_job_start(status, &body);
                let _ = tracker_job_completed(status, &body);
            }
        }
    }
}
