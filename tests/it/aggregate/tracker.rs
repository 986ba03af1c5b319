//! `POST /api/v2/tracker`: flat and nested DHIS2 payloads accepted as they are; structural
//! errors named by their JSON path: a 400 for the outer shape the schema states, a 422 for the
//! DHIS2 tracker model inside the objects and for a payload with nothing in it.

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
    // The shape (`events`, `importStrategy`) and the model together: a 400 naming all.
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    let mut fields = fields_of(&answer);
    assert_eq!(fields[..2], ["importStrategy", "events"], "{answer}");
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
}

fn fields_of(answer: &Value) -> Vec<&str> {
    answer["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect()
}

async fn answer(env: &Env, body: &Value, status: u16) -> Value {
    let response = env
        .post(&env.submitter, "/api/v2/tracker", body, None)
        .await;
    let got = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(got, status, "{body}: {answer}");
    assert_eq!(answer["code"], "validation_failed", "{answer}");
    answer
}

#[tokio::test]
async fn the_outer_shape_is_the_schemas_the_model_a_rule() {
    let env = Env::start().await;
    // Breaks the schema: not an object, an unknown list, a list that is not an array of
    // objects.
    for (body, field) in [
        (json!([1]), ""),
        (
            json!({"importStrategy": "CREATE", "events": []}),
            "importStrategy",
        ),
        (json!({"events": "x"}), "events"),
        (json!({"trackedEntities": {}}), "trackedEntities"),
        (json!({"events": [1]}), "events[0]"),
        (json!({"relationships": [null]}), "relationships[0]"),
    ] {
        let answer = answer(&env, &body, 400).await;
        assert_eq!(fields_of(&answer), [field], "{answer}");
    }
    // Fits the schema, but holds nothing (what schemathesis sent, seed 24) or breaks DHIS2's
    // tracker model inside an object.
    for (body, field) in [
        (json!({}), ""),
        (json!({"trackedEntities": []}), ""),
        (
            json!({"trackedEntities": null, "enrollments": null, "events": null, "relationships": null}),
            "",
        ),
        (
            json!({"events": [{"program": "IpHINAT79UW", "orgUnit": 7}]}),
            "events[0].orgUnit",
        ),
        (
            json!({"events": [{"program": "IpHINAT79UW", "orgUnit": "y77LiPqLMoq", "occurredAt": "2019-02-30"}]}),
            "events[0].occurredAt",
        ),
        (
            json!({"trackedEntities": [{"trackedEntityType": "nEenWmSyUEp", "orgUnit": "y77LiPqLMoq", "enrollments": [5]}]}),
            "trackedEntities[0].enrollments[0]",
        ),
    ] {
        let answer = answer(&env, &body, 422).await;
        assert_eq!(fields_of(&answer), [field], "{answer}");
    }
    let logs = env.get(&env.admin, "/api/v2/logs").await;
    assert_eq!(logs.json::<Value>().await.unwrap()["total"], 0);
}
