//! `POST /api/v2/tracker`: flat and nested DHIS2 payloads accepted as they are; structural
//! errors named by their JSON path.

use serde_json::{Value, json};

use crate::support::pipeline::Env;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/tracker/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn flat_and_nested_payloads_are_accepted_unchanged() {
    let env = Env::start().await;
    for name in [
        "tracker_post_request_flat.json",
        "tracker_post_request_nested.json",
    ] {
        let body = fixture(name);
        let response = env
            .post(&env.submitter, "/api/v2/tracker", &body, None)
            .await;
        assert_eq!(response.status(), 200, "{name}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["message"], "Tracker request queued for processing");
        assert_eq!(answer["payload"], body, "sent as received");
        let log = env.log(answer["submission_id"].as_i64().unwrap()).await;
        assert_eq!(log["kind"], "tracker");
        assert_eq!(log["org_unit"], "y77LiPqLMoq");
        assert_eq!(log["dhis2_payload"], body);
    }
}

#[tokio::test]
async fn structural_errors_are_named_by_path() {
    let env = Env::start().await;
    let body = json!({
        "trackedEntities": [
            {"orgUnit": "y77LiPqLMoq"},
            {"trackedEntityType": "nEenWmSyUEp", "orgUnit": "y77LiPqLMoq",
             "attributes": [{"attribute": "bad", "value": "x"}, {"attribute": "zDhUuAYrxNC", "value": {"a": 1}}],
             "enrollments": [{"program": "IpHINAT79UW", "orgUnit": "y77LiPqLMoq", "enrolledAt": "yesterday",
                              "events": [{"orgUnit": "y77LiPqLMoq", "occurredAt": "2019-08-01T00:00:00.000",
                                          "dataValues": [{"dataElement": "bx6fsa0t90x", "value": [1]}]}]}]}
        ],
        "events": "not a list",
        "relationships": [{"relationshipType": "dDrh5UyCyvQ", "from": {"trackedEntity": {"trackedEntity": "Kj6vYde4LHh"}}}],
        "importStrategy": "CREATE"
    });
    let response = env
        .post(&env.submitter, "/api/v2/tracker", &body, None)
        .await;
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    let mut fields: Vec<&str> = answer["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "events",
            "importStrategy",
            "relationships[0].to",
            "trackedEntities[0].trackedEntityType",
            "trackedEntities[1].attributes[0].attribute",
            "trackedEntities[1].attributes[1].value",
            "trackedEntities[1].enrollments[0].enrolledAt",
            "trackedEntities[1].enrollments[0].events[0].dataValues[0].value",
            "trackedEntities[1].enrollments[0].events[0].programStage",
        ],
        "{answer}"
    );
    for empty in [json!({}), json!({"trackedEntities": []}), json!([1])] {
        let response = env
            .post(&env.submitter, "/api/v2/tracker", &empty, None)
            .await;
        assert_eq!(response.status(), 400, "{empty}");
    }
}
