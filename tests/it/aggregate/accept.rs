//! Accepted aggregate submissions: the answer, the payload built from the mappings (each
//! scheme), exact values, optional fields, idempotency, roles, and PostgreSQL being down.

use dhis2gw::auth::Role;
use dhis2gw::config::MappingScheme;
use dhis2gw::db::mappings::{self, MappingFields};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::pipeline::{
    ACT_STOCK, COC_F_LT5, COC_M_LT5, DATA_SET, Env, FACILITY_CODE, MAL_CONF, MAL_SUSP, ORG_UNIT,
    aggregate_body, caller,
};
use crate::support::users;

#[tokio::test]
async fn answers_the_original_keys_after_the_row_is_committed() {
    let env = Env::start().await;
    // Written as a client writes it (a Rust float literal would lose the trailing zero).
    let values: Value = serde_json::from_str(
        r#"{"MAL_SUSP": 1000000, "ACT_STOCK": 12.50, "MAL_CONF_F_LT5": "7", "MAL_CONF_M_LT5": 3, "NOT_MAPPED": 1}"#,
    )
    .unwrap();
    let body = aggregate_body("202401", values);
    let answer = env.submit(&body).await;
    assert_eq!(answer["message"], "Aggregate request queued for processing");
    let id = answer["submission_id"].as_i64().unwrap();
    assert_eq!(answer["status_url"], format!("/api/v2/logs/{id}"));
    assert_eq!(answer["status"], "queued");
    assert_eq!(answer["unmapped"], json!(["NOT_MAPPED"]));
    assert!(uuid::Uuid::parse_str(answer["task_id"].as_str().unwrap()).is_ok());
    let payload = &answer["payload"];
    assert_eq!(payload["dataSet"], DATA_SET);
    assert_eq!(payload["orgUnit"], ORG_UNIT);
    assert_eq!(payload["period"], "202401");
    assert!(
        payload.get("completeDate").is_none(),
        "completeDate only when asked: {payload}"
    );
    assert!(payload.get("attributeOptionCombo").is_none());
    let values = payload["dataValues"].as_array().unwrap();
    let value_of = |de: &str, coc: Option<&str>| {
        values
            .iter()
            .find(|v| {
                v["dataElement"] == de
                    && v.get("categoryOptionCombo").and_then(Value::as_str) == coc
            })
            .unwrap_or_else(|| panic!("{de}/{coc:?} in {payload}"))["value"]
            .clone()
    };
    // Integers stay integers, decimals as given, every value a string as DHIS2 wants.
    assert_eq!(value_of(MAL_SUSP, None), "1000000");
    assert_eq!(value_of(ACT_STOCK, None), "12.50");
    assert_eq!(value_of(MAL_CONF, Some(COC_F_LT5)), "7");
    assert_eq!(value_of(MAL_CONF, Some(COC_M_LT5)), "3");
    assert_eq!(values.len(), 4);

    // Committed before the answer: the log has it, with who sent it and from where.
    let log = env.log(id).await;
    assert_eq!(log["task_id"], answer["task_id"]);
    assert_eq!(log["payload"], body);
    assert_eq!(log["dhis2_payload"], answer["payload"]);
    assert_eq!(log["user_id"], env.submitter.user.user_id);
    assert_eq!(log["username"], env.submitter.user.username.as_str());
    assert_eq!(log["source_ip"], "127.0.0.1");
    assert_eq!(log["unmapped"], json!(["NOT_MAPPED"]));
    assert_eq!(log["kind"], "aggregate");
    let dhis2_text: String = {
        let sql = users::sql(&env.app).await;
        sql.query_one(
            "SELECT dhis2_payload FROM submission_log WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0)
    };
    assert!(
        dhis2_text.contains("\"1000000\"") && !dhis2_text.contains("e+"),
        "{dhis2_text}"
    );
}

#[tokio::test]
async fn optional_fields_reach_the_payload() {
    let env = Env::start().await;
    let mut body = aggregate_body(
        "2024W01",
        json!({"MAL_SUSP": {"value": 4, "comment": "two from the outreach"}, "ACT_STOCK": true}),
    );
    body["attributeOptionCombo"] = json!("HllvX50cXC0");
    body["completeDate"] = json!("2024-01-08");
    body["orgUnit"] = json!(FACILITY_CODE);
    let answer = env.submit(&body).await;
    let payload = &answer["payload"];
    assert_eq!(payload["period"], "2024W1", "canonical DHIS2 spelling");
    assert_eq!(payload["orgUnit"], ORG_UNIT, "org-unit mapping applied");
    assert_eq!(payload["attributeOptionCombo"], "HllvX50cXC0");
    assert_eq!(payload["completeDate"], "2024-01-08");
    let susp = payload["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["dataElement"] == MAL_SUSP)
        .unwrap();
    assert_eq!(susp["value"], "4");
    assert_eq!(susp["comment"], "two from the outreach");
    let stock = payload["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["dataElement"] == ACT_STOCK)
        .unwrap();
    assert_eq!(stock["value"], "true");
}

async fn add_mapping(env: &Env, fields: MappingFields) {
    let pool = users::pool(&env.app);
    let client = pool.get().await.unwrap();
    mappings::insert(&client, None, &fields).await.unwrap();
}

#[tokio::test]
async fn uid_scheme_maps_data_element_uids_and_operands() {
    let env = Env::start_with(|s| s.api.mapping_scheme = MappingScheme::Uid).await;
    let mut values = serde_json::Map::new();
    values.insert(MAL_SUSP.to_owned(), json!(5));
    values.insert(format!("{MAL_CONF}.{COC_M_LT5}"), json!(6));
    values.insert("MAL_SUSP".to_owned(), json!(1));
    let body = aggregate_body("202401", Value::Object(values));
    let answer = env.submit(&body).await;
    let values = answer["payload"]["dataValues"].as_array().unwrap().clone();
    assert_eq!(values.len(), 2, "{values:?}");
    assert!(
        values
            .iter()
            .any(|v| v["dataElement"] == MAL_SUSP && v["value"] == "5")
    );
    assert!(values.iter().any(|v| v["dataElement"] == MAL_CONF
        && v["categoryOptionCombo"] == COC_M_LT5
        && v["value"] == "6"));
    assert_eq!(
        answer["unmapped"],
        json!(["MAL_SUSP"]),
        "codes are not keys under UID"
    );
}

#[tokio::test]
async fn name_scheme_maps_names() {
    let env = Env::start_with(|s| s.api.mapping_scheme = MappingScheme::Name).await;
    let mut named = MappingFields::data_element("SUSP_CODE", MAL_SUSP, None);
    named.name = "Malaria suspected".into();
    add_mapping(&env, named).await;
    let answer = env
        .submit(&aggregate_body(
            "202401",
            json!({"Malaria suspected": 9, "malaria SUSPECTED ": 9}),
        ))
        .await;
    let values = answer["payload"]["dataValues"].as_array().unwrap();
    assert_eq!(values.len(), 2);
    assert!(values.iter().all(|v| v["dataElement"] == MAL_SUSP));
}

#[tokio::test]
async fn source_and_instance_choose_the_mapping_namespace() {
    let env = Env::start().await;
    let mut fields = MappingFields::data_element("MAL_SUSP", ACT_STOCK, None);
    fields.source_name = "lab".into();
    fields.instance_name = "north".into();
    add_mapping(&env, fields).await;
    let mut body = aggregate_body("202401", json!({"MAL_SUSP": 2, "MAL_TESTED": 3}));
    body["source"] = json!("lab");
    body["instance"] = json!("north");
    let answer = env.submit(&body).await;
    assert_eq!(
        answer["payload"]["dataValues"],
        json!([{"dataElement": ACT_STOCK, "value": "2"}])
    );
    assert_eq!(answer["unmapped"], json!(["MAL_TESTED"]));
    let log = env.log(answer["submission_id"].as_i64().unwrap()).await;
    assert_eq!(
        (log["source"].as_str(), log["instance"].as_str()),
        (Some("lab"), Some("north"))
    );
}

#[tokio::test]
async fn idempotency_key_returns_the_first_submission_or_conflicts() {
    let env = Env::start().await;
    let body = aggregate_body("202401", json!({"MAL_SUSP": 1, "MAL_TESTED": 2}));
    let first = env
        .post(&env.submitter, "/api/v2/aggregate", &body, Some("batch-17"))
        .await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("Idempotent-Replayed").is_none());
    let first: Value = first.json().await.unwrap();

    // Same key, same data written differently (key order, spacing): the first submission.
    let same = aggregate_body("202401", json!({"MAL_TESTED": 2, "MAL_SUSP": 1}));
    let again = env
        .post(&env.submitter, "/api/v2/aggregate", &same, Some("batch-17"))
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["Idempotent-Replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["submission_id"], first["submission_id"]);
    assert_eq!(again["task_id"], first["task_id"]);
    assert_eq!(again["payload"], first["payload"]);

    // Same key, other body: 409 naming the first submission.
    let other = aggregate_body("202401", json!({"MAL_SUSP": 99}));
    let conflict = env
        .post(
            &env.submitter,
            "/api/v2/aggregate",
            &other,
            Some("batch-17"),
        )
        .await;
    assert_eq!(conflict.status(), 409);
    let conflict: Value = conflict.json().await.unwrap();
    assert_eq!(conflict["code"], "conflict");
    assert!(conflict["error"].as_str().unwrap().contains("batch-17"));

    // The key belongs to its user: another submitter may use it.
    let other_user = caller(&env.app, Role::Submitter).await;
    let theirs = env
        .post(&other_user, "/api/v2/aggregate", &body, Some("batch-17"))
        .await;
    assert_eq!(theirs.status(), 200);
    let theirs: Value = theirs.json().await.unwrap();
    assert_ne!(theirs["submission_id"], first["submission_id"]);

    let sql = users::sql(&env.app).await;
    let rows: i64 = sql
        .query_one("SELECT count(*) FROM submission_log", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_make_one_submission() {
    let env = Env::start().await;
    let body = aggregate_body("202402", json!({"MAL_SUSP": 5}));
    let requests =
        (0..16).map(|_| env.post(&env.submitter, "/api/v2/aggregate", &body, Some("same-key")));
    let answers = futures::future::join_all(requests).await;
    let mut ids = std::collections::HashSet::new();
    for response in answers {
        assert_eq!(response.status(), 200);
        ids.insert(
            response.json::<Value>().await.unwrap()["submission_id"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn only_submitters_and_admins_submit() {
    let env = Env::start().await;
    let body = aggregate_body("202401", json!({"MAL_SUSP": 1}));
    let viewer = caller(&env.app, Role::Viewer).await;
    let response = env.post(&viewer, "/api/v2/aggregate", &body, None).await;
    assert_eq!(response.status(), 403);
    let anonymous = env
        .app
        .request(Method::POST, "/api/v2/aggregate")
        .json(&body)
        .send()
        .await;
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("WWW-Authenticate"));
    let response = env.post(&env.admin, "/api/v2/aggregate", &body, None).await;
    assert_eq!(response.status(), 200);
    // Basic auth works too, as the original's clients use it.
    let basic = env
        .app
        .request(Method::POST, "/api/v2/aggregate")
        .auth(env.submitter.user.basic())
        .json(&body)
        .send()
        .await;
    assert_eq!(basic.status(), 200);
}

#[tokio::test]
async fn a_changed_mapping_applies_to_the_next_submissions() {
    let env = Env::start().await;
    let body = aggregate_body("202401", json!({"MAL_SUSP": 1}));
    let first = env.submit(&body).await;
    assert_eq!(first["payload"]["dataValues"][0]["dataElement"], MAL_SUSP);
    // Mappings are cached per namespace; a change (here straight in SQL) empties the cache by
    // NOTIFY, moments after the commit, so the test polls until a submission sees it.
    let sql = users::sql(&env.app).await;
    sql.execute(
        "UPDATE dhis2_mappings SET dataelement = $1 WHERE code = 'MAL_SUSP'",
        &[&ACT_STOCK],
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let answer = env.submit(&body).await;
        if answer["payload"]["dataValues"][0]["dataElement"] == ACT_STOCK {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the mapping change was never seen"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
