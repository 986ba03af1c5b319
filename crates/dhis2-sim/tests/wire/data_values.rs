//! `POST /api/dataValueSets`: response shapes per version, conflicts and counting.

use serde_json::json;

use super::*;

fn monthly(values: Value) -> Value {
    json!({ "dataSet": MONTHLY_DS, "period": "202401", "orgUnit": MOYAMBA_CHC, "dataValues": values })
}

/// Three good values, one unknown data element, one week that does not exist, one org unit
/// outside the district user's hierarchy, and a second unknown data element (merged).
fn mixed_payload() -> Value {
    json!({
        "dataSet": WEEKLY_DS,
        "dataValues": [
            { "dataElement": MAL_CONF, "categoryOptionCombo": FEMALE_UNDER_5, "period": "2024W10", "orgUnit": MOYAMBA_CHC, "value": "4" },
            { "dataElement": "deUnknown01", "period": "2024W10", "orgUnit": MOYAMBA_CHC, "value": "1" },
            { "dataElement": MAL_CONF, "period": "2024W99", "orgUnit": MOYAMBA_CHC, "value": "2" },
            { "dataElement": MAL_CONF, "period": "2024W10", "orgUnit": KENEMA_HOSPITAL, "value": "3" },
            { "dataElement": "deUnknown01", "period": "2024W11", "orgUnit": MOYAMBA_CHC, "value": "5" },
        ]
    })
}

async fn post_as(sim: &SimHandle, user: (&str, &str), path: &str, body: &Value) -> (u16, Value) {
    let request = client()
        .post(url(sim, path))
        .basic_auth(user.0, Some(user.1))
        .json(body);
    send(request).await
}

#[tokio::test]
async fn success_on_2_38_is_a_webmessage_with_200() {
    let sim = start_sim("2.38.4").await;
    let body = monthly(json!([{ "dataElement": MAL_SUSP, "value": "12" }]));
    let (status, answer) = send(post_json(&sim, "/api/dataValueSets", &body)).await;
    assert_eq!(status, 200);
    assert_same_shape(
        &answer,
        &fixture("datavaluesets_post_success_2.38.json"),
        &[],
    );
    assert_eq!(answer["message"], "Import was successful.");
    assert_eq!(answer["response"]["status"], "SUCCESS");
    assert_eq!(
        answer["response"]["importCount"],
        json!({"imported": 1, "updated": 0, "ignored": 0, "deleted": 0})
    );
    assert_eq!(sim.received_data_value_sets(), vec![body]);
}

#[tokio::test]
async fn version_2_37_and_api_37_paths_answer_the_bare_summary_with_200() {
    let sim = start_sim("2.37.9").await;
    let (status, answer) =
        post_as(&sim, DISTRICT_USER, "/api/dataValueSets", &mixed_payload()).await;
    assert_eq!(status, 200);
    let plain = fixture("datavaluesets_post_plain_ImportSummary_api37_or_pre2.38.json");
    assert_same_shape(&answer, &plain, &[]);
    assert_eq!(answer["status"], "WARNING");

    sim.set_version("2.40.3");
    let (status, answer) = post_as(
        &sim,
        DISTRICT_USER,
        "/api/37/dataValueSets",
        &mixed_payload(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["responseType"], "ImportSummary");
    assert!(answer.get("httpStatus").is_none());
    let (status, _) = post_as(
        &sim,
        DISTRICT_USER,
        "/api/38/dataValueSets",
        &mixed_payload(),
    )
    .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn conflicts_on_2_40_are_a_409_warning_with_merged_conflicts_and_rejected_indexes() {
    let sim = start_sim("2.40.3").await;
    let (status, answer) =
        post_as(&sim, DISTRICT_USER, "/api/dataValueSets", &mixed_payload()).await;
    assert_eq!(status, 409);
    let expected = fixture("datavaluesets_post_conflicts_409_WARNING_2.40plus.json");
    // The fixture echoes the 2.41 ImportOptions, which added the strictDataSet* flags.
    let added_in_2_41 = [
        "$.response.importOptions.strictDataSetApproval",
        "$.response.importOptions.strictDataSetLocking",
        "$.response.importOptions.strictDataSetInputPeriods",
    ];
    assert_same_shape(&answer, &expected, &added_in_2_41);
    assert_eq!(answer["message"], expected["message"]);
    let summary = &answer["response"];
    assert_eq!(
        summary["importCount"],
        json!({"imported": 1, "updated": 0, "ignored": 4, "deleted": 0})
    );
    assert_eq!(summary["rejectedIndexes"], json!([1, 2, 3, 4]));
    let conflicts = summary["conflicts"].as_array().unwrap();
    assert_eq!(
        conflicts.len(),
        3,
        "the two unknown data elements are merged: {conflicts:#?}"
    );
    assert_eq!(conflicts[0]["indexes"], json!([1, 4]));
    assert_eq!(
        conflicts[0]["value"],
        "Data element not found or not accessible: `deUnknown01`"
    );
    assert_eq!(conflicts[1]["value"], "Period not valid: `2024W99`");
    let user_uid = "zks65UZTnvg";
    assert_eq!(
        conflicts[2]["objects"],
        json!({ "organisationUnit": KENEMA_HOSPITAL, "user": user_uid })
    );
    assert_eq!(
        conflicts[2]["value"],
        format!(
            "Organisation unit: `{KENEMA_HOSPITAL}` not in hierarchy of current user: `{user_uid}`"
        )
    );

    sim.set_version("2.41.0");
    let (_, answer) = post_as(&sim, DISTRICT_USER, "/api/dataValueSets", &mixed_payload()).await;
    assert_same_shape(&answer, &expected, &[]);
}

#[tokio::test]
async fn rejected_indexes_appear_only_from_2_39_2_and_2_40_1() {
    let sim = start_sim("2.38.7").await;
    for (version, present) in [
        ("2.38.7", false),
        ("2.39.1", false),
        ("2.39.2", true),
        ("2.40.0", false),
        ("2.40.1", true),
    ] {
        sim.set_version(version);
        let (status, answer) =
            post_as(&sim, DISTRICT_USER, "/api/dataValueSets", &mixed_payload()).await;
        assert_eq!(status, 409);
        assert_eq!(
            answer["response"].get("rejectedIndexes").is_some(),
            present,
            "{version}"
        );
    }
}

#[tokio::test]
async fn unknown_data_set_aborts_with_409_error() {
    let sim = start_sim("2.40.3").await;
    let body = json!({ "dataSet": "dsUnknown01", "dataValues": [{ "dataElement": MAL_SUSP, "period": "202401", "orgUnit": MOYAMBA_CHC, "value": "1" }] });
    let (status, answer) = send(post_json(&sim, "/api/dataValueSets", &body)).await;
    assert_eq!(status, 409);
    let expected = fixture("datavaluesets_post_dataset_not_found_409_ERROR_2.40plus.json");
    let strict = [
        "strictDataSetApproval",
        "strictDataSetLocking",
        "strictDataSetInputPeriods",
    ]
    .map(|k| format!("$.response.importOptions.{k}"));
    let strict: Vec<&str> = strict.iter().map(String::as_str).collect();
    assert_same_shape(&answer, &expected, &strict);
    assert_eq!(
        answer["response"]["conflicts"],
        expected["response"]["conflicts"]
    );
    assert_eq!(
        answer["response"]["description"],
        "Import process was aborted"
    );
    assert!(answer["response"].get("dataSetComplete").is_none());
}

#[tokio::test]
async fn unparsable_json_fails_the_import_with_409_error() {
    let sim = start_sim("2.40.3").await;
    let request = client()
        .post(url(&sim, "/api/dataValueSets"))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .header("content-type", "application/json")
        .body("{\"dataValues\": [");
    let (status, answer) = send(request).await;
    assert_eq!(status, 409);
    assert_eq!(answer["status"], "ERROR");
    let description = answer["response"]["description"].as_str().unwrap();
    assert!(
        description.starts_with("The import process failed: "),
        "{description}"
    );
}

#[tokio::test]
async fn identical_reimport_counts_ignored_from_2_40_3_and_updated_before() {
    let sim = start_sim("2.40.3").await;
    let body = monthly(json!([{ "dataElement": MAL_SUSP, "value": "12" }]));
    let count = |answer: &Value| answer["response"]["importCount"].clone();
    let (_, first) = send(post_json(&sim, "/api/dataValueSets", &body)).await;
    assert_eq!(count(&first)["imported"], 1);
    let (status, again) = send(post_json(&sim, "/api/dataValueSets", &body)).await;
    assert_eq!(status, 200);
    assert_eq!(
        count(&again),
        json!({"imported": 0, "updated": 0, "ignored": 1, "deleted": 0})
    );

    sim.set_version("2.40.2");
    let (_, old) = send(post_json(&sim, "/api/dataValueSets", &body)).await;
    assert_eq!(
        count(&old),
        json!({"imported": 0, "updated": 1, "ignored": 0, "deleted": 0})
    );

    sim.set_version("2.41.0");
    let changed = monthly(json!([{ "dataElement": MAL_SUSP, "value": "13" }]));
    let (_, updated) = send(post_json(&sim, "/api/dataValueSets", &changed)).await;
    assert_eq!(count(&updated)["updated"], 1);
    let emptied = monthly(json!([{ "dataElement": MAL_SUSP, "value": "" }]));
    let (_, deleted) = send(post_json(&sim, "/api/dataValueSets", &emptied)).await;
    assert_eq!(
        count(&deleted),
        json!({"imported": 0, "updated": 0, "ignored": 0, "deleted": 1})
    );
}

#[tokio::test]
async fn value_type_conflict_is_worded_per_version() {
    let sim = start_sim("2.38.7").await;
    let body = monthly(json!([{ "dataElement": ACT_STOCK, "value": "lots" }]));
    let (_, answer) = send(post_json(&sim, "/api/dataValueSets", &body)).await;
    let conflict = &answer["response"]["conflicts"][0];
    assert_same_shape(
        conflict,
        &fixture("datavaluesets_import_conflict_object_2.38plus.json"),
        &[],
    );
    assert_eq!(
        conflict["value"],
        format!(
            "Value must match data element's `{ACT_STOCK}` type constraints: Data value is not numeric"
        )
    );
    sim.set_version("2.39.5");
    let (_, answer) = send(post_json(&sim, "/api/dataValueSets", &body)).await;
    assert_eq!(
        answer["response"]["conflicts"][0]["value"],
        format!("Value must match value type of data element `{ACT_STOCK}`: `value_not_numeric`")
    );
}

#[tokio::test]
async fn id_schemes_and_complete_date_are_honoured() {
    let sim = start_sim("2.40.3").await;
    let body = json!({
        "dataSet": "MAL_MONTHLY", "period": "202402", "orgUnit": "OU_MOY_CHC", "completeDate": "2024-03-05",
        "dataValues": [{ "dataElement": "MAL_CONF", "categoryOptionCombo": "F_LT5", "value": "7" }]
    });
    let (status, answer) = send(post_json(&sim, "/api/dataValueSets?idScheme=CODE", &body)).await;
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(answer["response"]["dataSetComplete"], "2024-03-05");
    assert_eq!(
        answer["response"]["importOptions"]["idSchemes"],
        json!({ "idScheme": { "type": "CODE" } })
    );
    let path =
        format!("/api/dataValueSets?dataSet={MONTHLY_DS}&period=202402&orgUnit={MOYAMBA_CHC}");
    let (status, stored) = send(get(&sim, &path)).await;
    assert_eq!(status, 200);
    assert_eq!(stored["completeDate"], "2024-03-05");
    let value = &stored["dataValues"][0];
    assert_same_shape(
        value,
        &fixture("datavaluesets_get_weekly.json")["dataValues"][0],
        &["$.comment"],
    );
    assert_eq!(
        (
            value["value"].as_str(),
            value["categoryOptionCombo"].as_str()
        ),
        (Some("7"), Some(FEMALE_UNDER_5))
    );
    assert!(
        value["comment"].is_null() && value.get("comment").is_some(),
        "nulls are written out"
    );
}

#[tokio::test]
async fn async_import_is_polled_through_tasks_and_task_summaries() {
    for (version, start_fixture, first_message) in [
        (
            "2.40.3",
            "datavaluesets_post_async_response_2.38-2.40.json",
            "Import done",
        ),
        (
            "2.41.0",
            "datavaluesets_post_async_2.41.json",
            "Import complete with status SUCCESS, 1 created, 0 updated, 0 deleted, 0 ignored",
        ),
    ] {
        let sim = start_sim(version).await;
        let body = monthly(json!([{ "dataElement": MAL_SUSP, "value": "3" }]));
        let (status, started) = send(post_json(&sim, "/api/dataValueSets?async=true", &body)).await;
        assert_eq!(status, 200);
        // The fixture trims the echoed ImportOptions; the full echo is checked elsewhere.
        assert_same_shape(
            &started,
            &fixture(start_fixture),
            &["$.response.jobParameters"],
        );
        let id = started["response"]["id"].as_str().unwrap();
        let endpoint = started["response"]["relativeNotifierEndpoint"]
            .as_str()
            .unwrap();
        assert_eq!(endpoint, format!("/api/system/tasks/DATAVALUE_IMPORT/{id}"));

        let (status, tasks) = send(get(&sim, endpoint)).await;
        assert_eq!(status, 200);
        if version == "2.40.3" {
            assert_same_shape(
                &tasks,
                &fixture("system_tasks_DATAVALUE_IMPORT_2.38-2.40.json"),
                &[],
            );
        }
        assert_eq!(tasks[0]["message"], first_message, "newest first");
        assert_eq!(tasks[0]["completed"], true);

        let (status, summary) = send(get(
            &sim,
            &format!("/api/system/taskSummaries/DATAVALUE_IMPORT/{id}"),
        ))
        .await;
        assert_eq!(status, 200);
        assert_eq!(summary["responseType"], "ImportSummary");
        assert_eq!(summary["importCount"]["imported"], 1);
        let (status, nothing) = send(get(
            &sim,
            "/api/system/taskSummaries/DATAVALUE_IMPORT/unknownJob1",
        ))
        .await;
        assert_eq!((status, nothing), (200, Value::Null));
        sim.shutdown().await;
    }
}
