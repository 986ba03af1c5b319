//! Every way an aggregate body can be wrong gets a 400 naming each bad field, and nothing is
//! logged.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::pipeline::{DATA_SET, Env, ORG_UNIT, aggregate_body};

async fn rejected(env: &Env, body: &Value) -> Value {
    let response = env
        .post(&env.submitter, "/api/v2/aggregate", body, None)
        .await;
    assert_eq!(response.status(), 400, "{body}");
    let answer: Value = response.json().await.expect("JSON error body");
    assert_eq!(answer["code"], "validation_failed", "{answer}");
    answer
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
    let answer = rejected(&env, &body).await;
    assert_eq!(answer["error"], "Request does not match required schema");
    let mut got = fields(&answer);
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
    for bad in [
        "2024W54",
        "202413",
        "20240230",
        "2021W53",
        "2024Q5",
        "2024S3",
        "202407B",
        "2024BiW28",
        "24",
        "2024-13",
        "2024June",
        "abc",
    ] {
        let answer = rejected(&env, &aggregate_body(bad, json!({"MAL_SUSP": 1}))).await;
        assert_eq!(fields(&answer), ["period"], "{bad}: {answer}");
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
        let mut got = fields(&answer);
        got.sort();
        assert_eq!(got, ["dataSet", "orgUnit"], "{bad}: {answer}");
        assert!(
            message_of(&answer, "orgUnit").contains("no org-unit mapping"),
            "{answer}"
        );
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
    let answer = rejected(
        &env,
        &aggregate_body("202401", json!({"NOPE": 1, "ALSO_NOPE": 2})),
    )
    .await;
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
    let _ = (DATA_SET, ORG_UNIT);
}
