//! `POST /api/v2/dataValueSets`: a DHIS2 dataValueSet as it is, checked, logged, queued and
//! delivered to DHIS2 (the simulator) unchanged.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::pipeline::{COC_F_LT5, DATA_SET, Env, MAL_CONF, MAL_SUSP, ORG_UNIT};

fn data_value_set(period: &str) -> Value {
    json!({
        "dataSet": DATA_SET,
        "completeDate": "2024-02-05",
        "period": period,
        "orgUnit": ORG_UNIT,
        "dataValues": [
            {"dataElement": MAL_SUSP, "value": "17", "comment": "from a DHIS2 client"},
            {"dataElement": MAL_CONF, "categoryOptionCombo": COC_F_LT5, "value": 4},
        ]
    })
}

#[tokio::test]
async fn a_data_value_set_is_logged_queued_and_delivered_as_sent() {
    let env = Env::start().await;
    let body = data_value_set("202401");
    let response = env
        .post(&env.submitter, "/api/v2/dataValueSets", &body, None)
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["status"], "queued", "{answer}");
    assert_eq!(answer["payload"], body, "the payload is the set as sent");
    assert_eq!(answer["unmapped"], json!([]));
    let id = answer["submission_id"].as_i64().unwrap();
    assert_eq!(answer["status_url"], format!("/api/v2/logs/{id}"));

    env.run_pending_deliveries().await;
    let sent = env.sim.received_data_value_sets();
    assert_eq!(
        sent,
        std::slice::from_ref(&body),
        "DHIS2 got the set unchanged"
    );
    let log = env.log(id).await;
    assert_eq!(log["status"], "completed", "{log}");
    assert_eq!(log["imported"], 2, "{log}");
    assert_eq!(log["org_unit"], ORG_UNIT, "{log}");
    assert_eq!(log["period"], "202401", "{log}");
    assert_eq!(log["data_set"], DATA_SET, "{log}");
    env.app.stop().await;
}

#[tokio::test]
async fn a_bad_set_is_refused_naming_each_field_and_nothing_is_logged() {
    let env = Env::start().await;
    let body = json!({
        "dataSet": "not-a-uid",
        "period": "202413",
        "dataValues": [
            {"value": "1"},
            {"dataElement": MAL_SUSP, "orgUnit": ORG_UNIT, "value": {"x": 1}},
        ]
    });
    let response = env
        .post(&env.submitter, "/api/v2/dataValueSets", &body, None)
        .await;
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    let fields: Vec<&str> = answer["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for field in [
        "dataSet",
        "period",
        "dataValues[0].dataElement",
        "dataValues[0].orgUnit",
        "dataValues[1].value",
    ] {
        assert!(fields.contains(&field), "{field} not named: {answer}");
    }
    let (status, logs) = env
        .app
        .request(Method::GET, "/api/v2/logs")
        .auth(&env.admin.authorization)
        .status_and_json()
        .await;
    assert_eq!(status, 200);
    assert_eq!(logs["total"], 0, "{logs}");
    // A viewer may not submit; nobody anonymous either.
    let viewer = crate::support::pipeline::caller(&env.app, dhis2gw::auth::Role::Viewer).await;
    let response = env
        .post(
            &viewer,
            "/api/v2/dataValueSets",
            &data_value_set("202401"),
            None,
        )
        .await;
    assert_eq!(response.status(), 403);
    let response = env
        .app
        .request(Method::POST, "/api/v2/dataValueSets")
        .json(&data_value_set("202401"))
        .send()
        .await;
    assert_eq!(response.status(), 401);
    env.app.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_gives_back_the_first_submission() {
    let env = Env::start().await;
    let body = data_value_set("202402");
    let first: Value = env
        .post(
            &env.submitter,
            "/api/v2/dataValueSets",
            &body,
            Some("dvs-1"),
        )
        .await
        .json()
        .await
        .unwrap();
    let again = env
        .post(
            &env.submitter,
            "/api/v2/dataValueSets",
            &body,
            Some("dvs-1"),
        )
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["submission_id"], first["submission_id"]);
    env.app.stop().await;
}
