//! Every way an aggregate body can be wrong is refused naming each bad field, and nothing is
//! logged: a 400 when the body breaks its documented schema (the `AggregateRequest` of
//! `/openapi.json`), a 422 when it fits the schema but a rule refuses it (a period the calendar
//! lacks, a code with no mapping, a blank text).

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::pipeline::{DATA_SET, Env, aggregate_body};

/// The answer to `body`, which must be refused with `status`.
async fn refused(env: &Env, body: &Value, status: u16) -> Value {
    let response = env
        .post(&env.submitter, "/api/v2/aggregate", body, None)
        .await;
    let got = response.status();
    let answer: Value = response.json().await.expect("JSON error body");
    assert_eq!(got, status, "{body}: {answer}");
    assert_eq!(answer["code"], "validation_failed", "{answer}");
    answer
}

/// Refused for breaking the schema.
async fn rejected(env: &Env, body: &Value) -> Value {
    let answer = refused(env, body, 400).await;
    assert_eq!(answer["error"], "Request does not match required schema");
    answer
}

/// Refused by a rule the schema cannot state.
async fn unprocessable(env: &Env, body: &Value) -> Value {
    refused(env, body, 422).await
}

fn fields(answer: &Value) -> Vec<String> {
    answer["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect()
}

fn message_of<'a>(answer: &'a Value, field: &str) -> &'a str {
    answer["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["field"] == field)
        .and_then(|d| d["message"].as_str())
        .unwrap_or_else(|| panic!("no detail for {field}: {answer}"))
}

async fn logged(env: &Env) -> i64 {
    let response = env.get(&env.admin, "/api/v2/logs").await;
    response.json::<Value>().await.unwrap()["total"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn every_bad_field_is_named_at_once() {
    let env = Env::start().await;
    let body = json!({
        "orgUnit": 42,
        "period": "2024W54",
        "dataSet": "not-a-uid",
        "attributeOptionCombo": "1BOMPrpg1QX",
        "completeDate": "2024-02-30",
        "dataValues": {
            "MAL_SUSP": null,
            "MAL_TESTED": {"nested": 1},
            "ACT_STOCK": [1, 2],
            "MAL_CONF_F_LT5": "",
            "MAL_CONF_M_LT5": {"value": 3, "comment": 7}
        }
    });
    // Schema problems and rules together: a 400 that names them all, the schema's first.
    let answer = rejected(&env, &body).await;
    let mut got = fields(&answer);
    assert_eq!(got[got.len() - 2..], ["period", "completeDate"], "{answer}");
    got.sort();
    assert_eq!(
        got,
        [
            "attributeOptionCombo",
            "completeDate",
            "dataSet",
            "dataValues.ACT_STOCK",
            "dataValues.MAL_CONF_F_LT5",
            "dataValues.MAL_CONF_M_LT5.comment",
            "dataValues.MAL_SUSP",
            "dataValues.MAL_TESTED",
            "orgUnit",
            "period",
        ]
    );
    assert!(
        message_of(&answer, "period").contains("week 54 does not exist in 2024"),
        "{answer}"
    );
    assert!(message_of(&answer, "dataValues.MAL_SUSP").contains("null"));
    assert!(message_of(&answer, "dataValues.ACT_STOCK").contains("array"));
    assert!(message_of(&answer, "orgUnit").contains("string"));
    assert_eq!(logged(&env).await, 0, "nothing is logged for a bad request");
}

#[tokio::test]
async fn periods_are_checked_against_the_calendar() {
    let env = Env::start().await;
    // Written in a DHIS2 format (the schema's pattern), but not on the calendar: 422.
    for bad in [
        "2024W54",
        "202413",
        "20240230",
        "2021W53",
        "2024Q5",
        "2024S3",
        "202407B",
        "2024BiW28",
        "2024-13",
    ] {
        let answer = unprocessable(&env, &aggregate_body(bad, json!({"MAL_SUSP": 1}))).await;
        assert_eq!(fields(&answer), ["period"], "{bad}: {answer}");
    }
    // In no DHIS2 format: the pattern is broken, 400.
    for bad in ["24", "2024June", "abc", "2024W1 ", "2024w1"] {
        let answer = rejected(&env, &aggregate_body(bad, json!({"MAL_SUSP": 1}))).await;
        assert_eq!(fields(&answer), ["period"], "{bad}: {answer}");
        assert!(
            message_of(&answer, "period").contains("unrecognised period format"),
            "{answer}"
        );
    }
    let good = [
        "2024",
        "202401",
        "2024-01",
        "20240115",
        "2024-01-15",
        "2024W1",
        "2024W01",
        "2020W53",
        "2024WedW3",
        "2024ThuW3",
        "2024SatW3",
        "2024SunW3",
        "2024BiW2",
        "202401B",
        "2024Q1",
        "2024NovQ1",
        "2024S1",
        "2024AprilS2",
        "2024NovS1",
        "2024April",
        "2024July",
        "2024Oct",
        "2024Nov",
    ];
    for period in good {
        let response = env
            .post(
                &env.submitter,
                "/api/v2/aggregate",
                &aggregate_body(period, json!({"MAL_SUSP": 1})),
                None,
            )
            .await;
        let status = response.status();
        assert_eq!(status, 200, "{period}: {}", response.text().await.unwrap());
    }
}

#[tokio::test]
async fn uids_must_be_dhis2_uids() {
    let env = Env::start().await;
    for bad in ["pBOMPrpg1Q", "pBOMPrpg1QXa", "1BOMPrpg1QX", "pBOMP-pg1QX"] {
        let mut body = aggregate_body("202401", json!({"MAL_SUSP": 1}));
        body["dataSet"] = json!(bad);
        body["orgUnit"] = json!(bad);
        let answer = rejected(&env, &body).await;
        assert_eq!(fields(&answer), ["dataSet", "orgUnit"], "{bad}: {answer}");
        assert!(
            message_of(&answer, "orgUnit").contains("no org-unit mapping"),
            "{answer}"
        );
        // The data set's UID is the schema's pattern; an org unit may be a mapped code, so
        // alone it is a rule.
        body["dataSet"] = json!(DATA_SET);
        let answer = unprocessable(&env, &body).await;
        assert_eq!(fields(&answer), ["orgUnit"], "{bad}: {answer}");
    }
}

#[tokio::test]
async fn data_values_must_be_a_non_empty_object() {
    let env = Env::start().await;
    for (values, needle) in [
        (json!({}), "at least one"),
        (json!([{"MAL_SUSP": 1}]), "an array"),
        (json!("MAL_SUSP=1"), "a string"),
        (Value::Null, "required"),
    ] {
        let body = aggregate_body("202401", values.clone());
        let answer = rejected(&env, &body).await;
        assert_eq!(fields(&answer), ["dataValues"], "{values}");
        assert!(
            message_of(&answer, "dataValues").contains(needle),
            "{answer}"
        );
    }
    let mut missing = aggregate_body("202401", json!({}));
    missing.as_object_mut().unwrap().remove("dataValues");
    missing.as_object_mut().unwrap().remove("period");
    let answer = rejected(&env, &missing).await;
    assert_eq!(fields(&answer), ["period", "dataValues"]);
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_refused_clearly() {
    let env = Env::start().await;
    let send = |body: &'static str| {
        env.app
            .request(Method::POST, "/api/v2/aggregate")
            .auth(&env.submitter.authorization)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    for (body, needle) in [
        ("{\"orgUnit\": ", "Invalid JSON"),
        ("", "empty"),
        ("[1,2]", "JSON object"),
        ("42", "JSON object"),
    ] {
        let response = send(body).await;
        assert_eq!(response.status(), 400, "{body:?}");
        let answer: Value = response.json().await.unwrap();
        assert!(
            answer["error"].as_str().unwrap().contains(needle)
                || answer["details"][0]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(needle),
            "{body:?}: {answer}"
        );
    }
    // The original's clients may omit Content-Type: the JSON is read anyway.
    let response = env
        .app
        .request(Method::POST, "/api/v2/aggregate")
        .auth(&env.submitter.authorization)
        .body(aggregate_body("202401", json!({"MAL_SUSP": 1})).to_string())
        .send()
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn keys_that_map_to_nothing_are_refused_when_nothing_would_be_sent() {
    let env = Env::start().await;
    let answer = unprocessable(
        &env,
        &aggregate_body("202401", json!({"NOPE": 1, "ALSO_NOPE": 2})),
    )
    .await;
    assert_eq!(
        answer["error"],
        "Request matches the schema but cannot be accepted"
    );
    let mut got = fields(&answer);
    got.sort();
    assert_eq!(got, ["dataValues.ALSO_NOPE", "dataValues.NOPE"]);
    assert!(message_of(&answer, "dataValues.NOPE").contains("no mapping"));
}

#[tokio::test]
async fn a_bad_idempotency_key_is_refused() {
    let env = Env::start().await;
    let body = aggregate_body("202401", json!({"MAL_SUSP": 1}));
    let long = "k".repeat(300);
    for key in ["", long.as_str()] {
        let response = env
            .post(&env.submitter, "/api/v2/aggregate", &body, Some(key))
            .await;
        assert_eq!(response.status(), 400, "{key:?}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(fields(&answer), ["Idempotency-Key"]);
    }
}

/// What schemathesis sent as schema-valid (seed 24) breaks the schema now that it says what the
/// service requires: non-empty strings, a period pattern, a UID, at least one value.
#[tokio::test]
async fn empty_fields_break_the_schema() {
    let env = Env::start().await;
    let body = json!({"orgUnit": "", "period": "", "dataSet": "", "dataValues": {}});
    let answer = rejected(&env, &body).await;
    assert_eq!(
        fields(&answer),
        ["orgUnit", "period", "dataSet", "dataValues"],
        "{answer}"
    );
    for field in ["orgUnitName", "source", "instance"] {
        let mut body = aggregate_body("202401", json!({"MAL_SUSP": 1}));
        body[field] = json!("");
        let answer = rejected(&env, &body).await;
        assert_eq!(fields(&answer), [field], "{answer}");
    }
}

/// A JSON number or boolean where the schema says string is a 400 naming the field, in every
/// string field of the body.
#[tokio::test]
async fn a_number_or_boolean_is_not_a_string() {
    let env = Env::start().await;
    for field in [
        "orgUnit",
        "orgUnitName",
        "period",
        "dataSet",
        "attributeOptionCombo",
        "completeDate",
        "source",
        "instance",
    ] {
        for not_text in [json!(202401), json!(true)] {
            let mut body = aggregate_body("202401", json!({"MAL_SUSP": 1}));
            body[field] = not_text.clone();
            let answer = rejected(&env, &body).await;
            assert_eq!(fields(&answer), [field], "{not_text}: {answer}");
            assert!(
                message_of(&answer, field).contains("must be a string"),
                "{answer}"
            );
        }
    }
    let body = aggregate_body(
        "202401",
        json!({"MAL_SUSP": {"value": 1, "comment": false}}),
    );
    let answer = rejected(&env, &body).await;
    assert_eq!(fields(&answer), ["dataValues.MAL_SUSP.comment"], "{answer}");
    assert_eq!(logged(&env).await, 0);
}

/// Bodies that fit the schema but that the service cannot take: a 422 naming the field.
#[tokio::test]
async fn what_the_schema_cannot_state_is_unprocessable() {
    let env = Env::start().await;
    let valid = || aggregate_body("202401", json!({"MAL_SUSP": 1}));
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut b = valid();
                b["orgUnit"] = json!("  ");
                b
            },
            "orgUnit",
        ),
        (
            {
                let mut b = valid();
                b["orgUnit"] = json!("NO-SUCH-FACILITY");
                b
            },
            "orgUnit",
        ),
        (
            {
                let mut b = valid();
                b["source"] = json!(" ");
                b
            },
            "source",
        ),
        (
            {
                let mut b = valid();
                b["completeDate"] = json!("2024-02-30");
                b
            },
            "completeDate",
        ),
        (
            aggregate_body("202401", json!({"MAL_SUSP": "   "})),
            "dataValues.MAL_SUSP",
        ),
        (
            aggregate_body("202401", json!({"MAL_SUSP": 1e300})),
            "dataValues.MAL_SUSP",
        ),
        (
            aggregate_body("202401", json!({"MAL_SUSP": 1, "": 2})),
            "dataValues.",
        ),
        (
            aggregate_body("202401", json!({"MAL_SUSP": 1, " ": 2})),
            "dataValues. ",
        ),
    ];
    for (body, field) in cases {
        let answer = unprocessable(&env, &body).await;
        assert_eq!(fields(&answer), [field], "{body}: {answer}");
    }
    assert_eq!(logged(&env).await, 0);
    // The same shapes with good content are accepted.
    let mut body = valid();
    body["completeDate"] = json!("2024-02-29");
    body["dataValues"] =
        json!({"MAL_SUSP": "12", "MAL_CONF_F_LT5": {"value": 1e3, "comment": "x"}});
    let response = env
        .post(&env.submitter, "/api/v2/aggregate", &body, None)
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}
