//! `/api/v2/alert-rules`: create, read, replace, delete; who may; and every validation error
//! naming its field.

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use super::{ANTHRAX, DISTRICT, MEASLES, spawn};
use crate::support::users::create_user;

fn anthrax() -> Value {
    json!({
        "name": "Anthrax suspected",
        "data_element": ANTHRAX,
        "disease_code": "DA034_ANTHRAX",
        "rule_type": "one_case",
    })
}

#[tokio::test]
async fn an_admin_creates_reads_replaces_and_deletes_a_rule() {
    let rules = spawn().await;
    let (status, created) = rules
        .call(Method::POST, "/api/v2/alert-rules", Some(anthrax()))
        .await;
    assert_eq!(status, 201, "{created}");
    // Defaults of everything not given.
    assert_eq!(created["params"], json!({}));
    assert_eq!(created["overrides"], json!({}));
    assert_eq!(created["level"], 3);
    assert_eq!(created["missing_policy"], "skip");
    assert_eq!(created["severity"], "alert");
    assert_eq!(created["enabled"], true);
    assert_eq!(created["disease_code"], "DA034_ANTHRAX");
    let uid = created["uid"].as_str().unwrap();
    assert_eq!(uid.len(), 11, "{uid}");
    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v2/alert-rules/{id}");

    let (status, got) = rules.call(Method::GET, &path, None).await;
    assert_eq!((status, &got), (200, &created));

    let replacement = json!({
        "name": "  Anthrax  ",
        "data_element": ANTHRAX,
        "rule_type": "one_case",
        "params": {"threshold": 2},
        "level": 4,
        "overrides": {DISTRICT: {"rule_type": "doubling", "min_cases": 2}},
        "missing_policy": "zero",
        "severity": "action",
        "enabled": false,
    });
    let (status, replaced) = rules.call(Method::PUT, &path, Some(replacement)).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["name"], "Anthrax", "names are trimmed");
    assert!(replaced.get("disease_code").is_none(), "{replaced}");
    assert_eq!(replaced["params"], json!({"threshold": 2}));
    assert_eq!(
        replaced["overrides"],
        json!({DISTRICT: {"rule_type": "doubling", "min_cases": 2}})
    );
    assert_eq!(
        (
            &replaced["level"],
            &replaced["missing_policy"],
            &replaced["severity"],
            &replaced["enabled"]
        ),
        (&json!(4), &json!("zero"), &json!("action"), &json!(false))
    );
    assert_eq!(replaced["uid"], created["uid"]);
    assert_eq!(rules.all().await, vec![replaced.clone()]);

    // The alert run does not see a disabled rule; enabled again, it gets the parsed methods.
    let pool = dhis2gw::db::connect(&rules.app.settings.database).unwrap();
    assert!(
        dhis2gw::alerts::enabled_rules(&pool)
            .await
            .unwrap()
            .is_empty()
    );
    let mut body = replaced.clone();
    for key in ["id", "uid", "created", "updated"] {
        body.as_object_mut().unwrap().remove(key);
    }
    body["enabled"] = json!(true);
    let (status, _) = rules.call(Method::PUT, &path, Some(body)).await;
    assert_eq!(status, 200);
    let enabled = dhis2gw::alerts::enabled_rules(&pool).await.unwrap();
    assert_eq!(enabled.len(), 1);
    let rule = &enabled[0];
    assert_eq!(rule.method.name(), "one_case");
    assert_eq!(rule.method_for(DISTRICT).name(), "doubling");
    assert_eq!(rule.method_for("fdc6uOvgoji").name(), "one_case");
    assert_eq!(rule.missing_policy, dhis2gw_detect::MissingPolicy::Zero);
    assert_eq!(rule.severity, dhis2gw::alerts::Severity::Action);
    assert_eq!(rule.level, 4);

    let (status, deleted) = rules.call(Method::DELETE, &path, None).await;
    assert_eq!((status, deleted), (200, json!({"deleted": 1})));
    let (status, gone) = rules.call(Method::GET, &path, None).await;
    assert_eq!(status, 404, "{gone}");
    let (status, _) = rules.call(Method::DELETE, &path, None).await;
    assert_eq!(status, 404);
    let (status, _) = rules.call(Method::PUT, &path, Some(anthrax())).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn viewers_read_submitters_see_nothing_and_only_admins_write() {
    let rules = spawn().await;
    let (_, created) = rules
        .call(Method::POST, "/api/v2/alert-rules", Some(anthrax()))
        .await;
    let path = format!("/api/v2/alert-rules/{}", created["id"]);
    let viewer = create_user(&rules.app, Role::Viewer).await;
    let submitter = create_user(&rules.app, Role::Submitter).await;

    for read in [
        "/api/v2/alert-rules",
        path.as_str(),
        "/api/v2/alert-rules/export/csv",
    ] {
        let (status, _) = rules.call_as(&viewer, Method::GET, read, None).await;
        assert_eq!(status, 200, "viewer GET {read}");
        let (status, _) = rules.call_as(&submitter, Method::GET, read, None).await;
        assert_eq!(status, 403, "submitter GET {read}");
    }
    let mut measles = anthrax();
    measles["data_element"] = json!(MEASLES);
    for user in [&viewer, &submitter] {
        let writes = [
            (Method::POST, "/api/v2/alert-rules", Some(measles.clone())),
            (Method::PUT, path.as_str(), Some(anthrax())),
            (Method::DELETE, path.as_str(), None),
            (Method::POST, "/api/v2/alert-rules/import/csv", None),
        ];
        for (method, write, body) in writes {
            let (status, _) = rules.call_as(user, method.clone(), write, body).await;
            assert_eq!(status, 403, "{:?} {method} {write}", user.role);
        }
    }
    assert_eq!(rules.all().await.len(), 1, "nothing was written");
    // Without credentials: 401.
    let response = rules.app.get("/api/v2/alert-rules").await;
    assert_eq!(response.status(), 401);
}

/// Every field a rule can get wrong: the answer is 422 (the body fits the schema; a rule of
/// the method refuses it) and names it, in `details` and in the message.
#[tokio::test]
async fn every_validation_error_names_its_field() {
    let rules = spawn().await;
    let with = |changes: Value| {
        let mut body = anthrax();
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (with(json!({"name": "  "})), "name", "is required"),
        (with(json!({"name": "x".repeat(231)})), "name", "230"),
        (
            with(json!({"data_element": ""})),
            "data_element",
            "is required",
        ),
        (
            with(json!({"data_element": "zBFmdwpO2L"})),
            "data_element",
            "11 characters",
        ),
        (
            with(json!({"data_element": "9BFmdwpO2LZ"})),
            "data_element",
            "starts with a letter",
        ),
        (
            with(json!({"data_element": "zBFmdwp-2LZ"})),
            "data_element",
            "letters and digits",
        ),
        (
            with(json!({"disease_code": "D".repeat(101)})),
            "disease_code",
            "100",
        ),
        (with(json!({"rule_type": ""})), "rule_type", "is required"),
        (
            with(json!({"rule_type": "poisson"})),
            "rule_type",
            "unknown method",
        ),
        (
            with(json!({"params": {"treshold": 2}})),
            "params.treshold",
            "no such parameter",
        ),
        (
            with(json!({"params": {"threshold": "many"}})),
            "params.threshold",
            "not a number",
        ),
        (
            with(json!({"params": {"threshold": 0}})),
            "params.threshold",
            "above 0",
        ),
        (
            with(json!({"rule_type": "cluster"})),
            "params.threshold",
            "is required",
        ),
        (
            with(json!({"rule_type": "c2", "params": {"alpha": 2}})),
            "params.alpha",
            "between 0 and 1",
        ),
        (
            with(json!({"rule_type": "ratio_to_mean", "params": {"weeks": 2.5}})),
            "params.weeks",
            "whole number",
        ),
        (
            with(json!({"rule_type": "cusum", "params": {"trans": "log"}})),
            "params.trans",
            "standard",
        ),
        (
            with(json!({"rule_type": "farrington", "params": {"b": 0}})),
            "params.b",
            "",
        ),
        (
            with(json!({"rule_type": "cusum", "params": {"consecutive": 2}})),
            "params.consecutive",
            "cusum",
        ),
        (with(json!({"level": 0})), "level", "from 1 to 10"),
        (with(json!({"level": 11})), "level", "from 1 to 10"),
        (
            with(json!({"overrides": {"not-a-uid": {}}})),
            "overrides.not-a-uid",
            "org unit UID",
        ),
        (
            with(json!({"overrides": {DISTRICT: 3}})),
            "overrides.Rp268JB6Ne4",
            "object",
        ),
        (
            with(json!({"overrides": {DISTRICT: {"threshold": -1}}})),
            "overrides.Rp268JB6Ne4.threshold",
            "above 0",
        ),
        (
            with(json!({"overrides": {DISTRICT: {"rule_type": "doubling", "threshold": 2}}})),
            "overrides.Rp268JB6Ne4.threshold",
            "doubling has no such parameter",
        ),
        (
            with(json!({"overrides": {DISTRICT: {"rule_type": "tripling"}}})),
            "overrides.Rp268JB6Ne4.rule_type",
            "unknown method",
        ),
        (
            with(json!({"overrides": {DISTRICT: {"rule_type": 2}}})),
            "overrides.Rp268JB6Ne4.rule_type",
            "method name",
        ),
        (
            with(json!({"missing_policy": "fill"})),
            "missing_policy",
            "skip or zero",
        ),
        (
            with(json!({"severity": "urgent"})),
            "severity",
            "alert or action",
        ),
    ];
    for (body, field, words) in &cases {
        let (status, error) = rules
            .call(Method::POST, "/api/v2/alert-rules", Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {error}");
        assert_eq!(error["code"], "validation_failed", "{error}");
        assert_eq!(error["details"][0]["field"], *field, "{body}: {error}");
        let message = error["details"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(words),
            "{field}: {message:?} lacks {words:?}"
        );
        assert!(error["error"].as_str().unwrap().contains(field), "{error}");
    }
    // The same checks guard a replacement.
    let (_, created) = rules
        .call(Method::POST, "/api/v2/alert-rules", Some(anthrax()))
        .await;
    let path = format!("/api/v2/alert-rules/{}", created["id"]);
    let (status, error) = rules
        .call(Method::PUT, &path, Some(with(json!({"level": 42}))))
        .await;
    assert_eq!(
        (status, &error["details"][0]["field"]),
        (422, &json!("level"))
    );
    assert_eq!(rules.all().await, vec![created], "nothing was written");

    // A body the schema refuses (an unknown field) is a 400 before validation, naming it.
    let (status, error) = rules
        .call(
            Method::POST,
            "/api/v2/alert-rules",
            Some(with(json!({"colour": "red"}))),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error"].as_str().unwrap().contains("colour"),
        "{error}"
    );
    // What the schema leaves open (a missing name, params and overrides that are not
    // objects) is judged by the service: 422 naming the field.
    let mut no_name = anthrax();
    no_name.as_object_mut().unwrap().remove("name");
    let (status, error) = rules
        .call(Method::POST, "/api/v2/alert-rules", Some(no_name))
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["details"][0]["field"], "name", "{error}");
    let (status, error) = rules
        .call(
            Method::POST,
            "/api/v2/alert-rules",
            Some(with(json!({"params": [1]}))),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["details"][0]["field"], "params", "{error}");
    let (status, error) = rules
        .call(
            Method::POST,
            "/api/v2/alert-rules",
            Some(with(json!({"overrides": "x"}))),
        )
        .await;
    assert_eq!(
        (status, &error["details"][0]["field"]),
        (422, &json!("overrides"))
    );
}

#[tokio::test]
async fn one_rule_per_data_element_and_method() {
    let rules = spawn().await;
    let (status, first) = rules
        .call(Method::POST, "/api/v2/alert-rules", Some(anthrax()))
        .await;
    assert_eq!(status, 201);
    let (status, error) = rules
        .call(Method::POST, "/api/v2/alert-rules", Some(anthrax()))
        .await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["details"][0]["field"], "rule_type");
    assert!(
        error["error"].as_str().unwrap().contains(ANTHRAX),
        "{error}"
    );
    // Another method for the same disease is another rule.
    let mut doubling = anthrax();
    doubling["rule_type"] = json!("doubling");
    let (status, second) = rules
        .call(Method::POST, "/api/v2/alert-rules", Some(doubling.clone()))
        .await;
    assert_eq!(status, 201, "{second}");
    // A replacement may not take another rule's place either.
    let (status, error) = rules
        .call(
            Method::PUT,
            &format!("/api/v2/alert-rules/{}", first["id"]),
            Some(doubling),
        )
        .await;
    assert_eq!(
        (status, &error["details"][0]["field"]),
        (409, &json!("rule_type"))
    );
    let (status, _) = rules
        .call(Method::GET, "/api/v2/alert-rules/not-a-number", None)
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_routes_are_in_the_openapi_document() {
    let rules = spawn().await;
    let spec: Value = rules.app.get("/openapi.json").await.json().await.unwrap();
    let paths = &spec["paths"];
    for (path, methods) in [
        ("/api/v2/alert-rules", &["get", "post"][..]),
        ("/api/v2/alert-rules/{id}", &["get", "put", "delete"][..]),
        ("/api/v2/alert-rules/import/csv", &["post"][..]),
        ("/api/v2/alert-rules/export/csv", &["get"][..]),
    ] {
        for method in methods {
            let op = &paths[path][method];
            assert!(op.is_object(), "{method} {path} missing");
            assert_eq!(op["tags"], json!(["AlertRules"]), "{method} {path}");
            assert!(op["security"].is_array(), "{method} {path} has no security");
        }
    }
    let upload = &paths["/api/v2/alert-rules/import/csv"]["post"]["requestBody"]["content"]["multipart/form-data"]
        ["schema"];
    assert!(upload.to_string().contains("file"), "{upload}");
}
