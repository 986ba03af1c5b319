//! The mappings API: create, read, replace, delete, bulk delete, list filters and pagination,
//! the 4xx answers, and which role may call what.

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use super::common::{COC_F_LT5, DEFAULT_COC, FACILITY, MAL_CONF, MAL_DATA_SET, MAL_SUSP, spawn};
use crate::support::users::create_user;

fn de(code: &str, element: &str) -> Value {
    json!({"code": code, "dataElement": element})
}

#[tokio::test]
async fn a_mapping_is_created_read_replaced_and_deleted() {
    let admin = spawn().await;
    let (status, created) = admin
        .json(
            Method::POST,
            "/api/v2/mappings",
            Some(json!({
                "code": "MAL_CONF_F", "dataElement": MAL_CONF,
                "categoryOptionCombo": COC_F_LT5, "dataSet": MAL_DATA_SET,
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["what"], "de");
    assert_eq!(created["name"], "MAL_CONF_F", "name defaults to code");
    assert_eq!(created["dataElement"], MAL_CONF);
    assert_eq!(created["categoryOptionCombo"], COC_F_LT5);
    assert_eq!(created["dataSet"], MAL_DATA_SET);
    assert_eq!(created["instanceName"], "default");
    assert_eq!(created["sourceName"], "default");
    assert!(
        created.get("description").is_none(),
        "absent values are omitted"
    );
    let uid = created["uid"].as_str().unwrap().to_owned();
    assert_eq!(uid.len(), 11);

    let (status, read) = admin.get(&format!("/api/v2/mappings/{uid}")).await;
    assert_eq!(status, 200);
    assert_eq!(read, created);

    let (status, replaced) = admin
        .json(
            Method::PUT,
            &format!("/api/v2/mappings/{uid}"),
            Some(json!({"code": "MAL_CONF_F", "dataElement": MAL_CONF, "name": "Confirmed", "description": "d"})),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["uid"], uid.as_str());
    assert_eq!(replaced["name"], "Confirmed");
    assert_eq!(replaced["description"], "d");
    assert!(
        replaced.get("categoryOptionCombo").is_none(),
        "PUT replaces every field"
    );
    assert!(replaced["updated"].as_str() >= created["updated"].as_str());

    let (status, deleted) = admin
        .json(Method::DELETE, &format!("/api/v2/mappings/{uid}"), None)
        .await;
    assert_eq!((status, deleted), (200, json!({"deleted": 1})));
    let (status, body) = admin.get(&format!("/api/v2/mappings/{uid}")).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    let (status, _) = admin
        .json(Method::DELETE, &format!("/api/v2/mappings/{uid}"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_invalid_body_names_each_bad_field() {
    let admin = spawn().await;
    let (status, body) = admin
        .json(
            Method::POST,
            "/api/v2/mappings",
            Some(
                json!({"what": "dx", "dataSet": "not-a-uid", "categoryOptionCombo": "1abcdefghij"}),
            ),
        )
        .await;
    // Fits the schema; the mapping rules refuse it, every bad field named.
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "validation_failed");
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for field in [
        "what",
        "dataSet",
        "categoryOptionCombo",
        "code",
        "dataElement",
    ] {
        assert!(fields.contains(&field), "{field} missing from {body}");
    }

    let (status, body) = admin
        .json(
            Method::POST,
            "/api/v2/mappings",
            Some(json!({"what": "ou", "sourceOrgUnit": "X"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["details"][0]["field"], "destinationOrgUnit");

    // A CSV-style key is not silently ignored.
    let (status, body) = admin
        .json(
            Method::POST,
            "/api/v2/mappings",
            Some(json!({"code": "A", "dataelement": MAL_CONF})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("dataelement"),
        "{body}"
    );

    let (status, body) = admin
        .json(
            Method::PUT,
            "/api/v2/mappings/Nosuchuid01",
            Some(de("A", MAL_CONF)),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn a_key_mapped_twice_in_a_namespace_is_a_conflict() {
    let admin = spawn().await;
    let post = |body: Value| admin.json(Method::POST, "/api/v2/mappings", Some(body));
    assert_eq!(post(de("K", MAL_CONF)).await.0, 201);
    let (status, body) = post(de("K", MAL_SUSP)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "conflict");
    let mut elsewhere = de("K", MAL_SUSP);
    elsewhere["instanceName"] = json!("hmis2");
    assert_eq!(post(elsewhere).await.0, 201);

    let ou = json!({"what": "ou", "sourceOrgUnit": "FAC-1", "destinationOrgUnit": FACILITY});
    assert_eq!(post(ou.clone()).await.0, 201);
    let mut again = ou;
    again["code"] = json!("another label");
    assert_eq!(post(again).await.0, 409);

    // Renaming onto a taken key is a conflict too.
    let (_, second) = post(de("K2", MAL_CONF)).await;
    let (status, _) = admin
        .json(
            Method::PUT,
            &format!("/api/v2/mappings/{}", second["uid"].as_str().unwrap()),
            Some(de("K", MAL_CONF)),
        )
        .await;
    assert_eq!(status, 409);
}

/// Creates the list fixture: 12 mappings over three namespaces.
async fn seed(admin: &super::common::Admin) {
    for i in 0..8 {
        let mut body = de(
            &format!("DE_{i:02}"),
            if i % 2 == 0 { MAL_CONF } else { MAL_SUSP },
        );
        body["name"] = json!(format!("Malaria item {i}"));
        if i < 3 {
            body["categoryOptionCombo"] = json!(COC_F_LT5);
            body["dataSet"] = json!(MAL_DATA_SET);
        }
        let (status, answer) = admin
            .json(Method::POST, "/api/v2/mappings", Some(body))
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    for (source, instance) in [("pbs", "default"), ("pbs", "hmis2")] {
        let body = json!({"code": "DE_00", "dataElement": MAL_SUSP, "categoryOptionCombo": DEFAULT_COC,
                          "sourceName": source, "instanceName": instance, "name": "Other namespace"});
        assert_eq!(
            admin
                .json(Method::POST, "/api/v2/mappings", Some(body))
                .await
                .0,
            201
        );
    }
    for (code, unit) in [("FAC-1", FACILITY), ("FAC-2", "LPIAhpkQLR4")] {
        let body =
            json!({"what": "ou", "sourceOrgUnit": code, "destinationOrgUnit": unit, "name": code});
        assert_eq!(
            admin
                .json(Method::POST, "/api/v2/mappings", Some(body))
                .await
                .0,
            201
        );
    }
}

#[tokio::test]
async fn every_list_filter_narrows_the_list() {
    let admin = spawn().await;
    seed(&admin).await;
    let total = |query: &str| {
        let path = format!("/api/v2/mappings?{query}");
        let admin = &admin;
        async move {
            let (status, page) = admin.get(&path).await;
            assert_eq!(status, 200, "{path}: {page}");
            page["total"].as_i64().unwrap()
        }
    };
    assert_eq!(total("").await, 12);
    assert_eq!(total("code=DE_00").await, 3);
    assert_eq!(total("what=ou").await, 2);
    assert_eq!(total("what=DE").await, 10);
    assert_eq!(
        total("name=MALARIA%20ITEM").await,
        8,
        "case-insensitive substring"
    );
    assert_eq!(total("name=item%205").await, 1);
    assert_eq!(total("name=%25").await, 0, "% is literal");
    assert_eq!(total(&format!("dataSet={MAL_DATA_SET}")).await, 3);
    assert_eq!(total(&format!("dataElement={MAL_SUSP}")).await, 6);
    assert_eq!(total(&format!("categoryOptionCombo={COC_F_LT5}")).await, 3);
    assert_eq!(
        total(&format!("categoryOptionCombo={DEFAULT_COC}")).await,
        2
    );
    assert_eq!(total("source=pbs").await, 2);
    assert_eq!(total("instance_name=hmis2").await, 1);
    assert_eq!(total("source=pbs&instance_name=default").await, 1);
    assert_eq!(total("source_orgunit=FAC-2").await, 1);
    assert_eq!(total(&format!("destination_orgunit={FACILITY}")).await, 1);
    assert_eq!(
        total("created_from=2000-01-01&created_to=2999-12-31").await,
        12
    );
    assert_eq!(total("created_to=2000-01-01").await, 0);
    assert_eq!(total("updated=2999-01-01T00:00:00Z").await, 0);
    assert_eq!(total("updated_from=2000-01-01").await, 12);

    let (_, page) = admin.get("/api/v2/mappings?code=DE_03").await;
    let uid = page["items"][0]["uid"].as_str().unwrap().to_owned();
    assert_eq!(total(&format!("uid={uid}")).await, 1);
}

#[tokio::test]
async fn the_list_is_paginated_in_a_stable_order() {
    let admin = spawn().await;
    seed(&admin).await;
    let mut seen = Vec::new();
    for page in 1..=3 {
        let (status, body) = admin
            .get(&format!("/api/v2/mappings?page={page}&page_size=5"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            (
                &body["total"],
                &body["page"],
                &body["page_size"],
                &body["total_pages"]
            ),
            (&json!(12), &json!(page), &json!(5), &json!(3))
        );
        let items = body["items"].as_array().unwrap();
        assert_eq!(items.len(), if page < 3 { 5 } else { 2 });
        seen.extend(items.iter().map(|m| m["uid"].as_str().unwrap().to_owned()));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 12, "pages neither overlap nor skip");
    let (_, beyond) = admin.get("/api/v2/mappings?page=9&page_size=5").await;
    assert_eq!(beyond["items"], json!([]));

    for (query, field) in [
        ("page=0", "page"),
        ("page_size=0", "page_size"),
        ("page_size=1001", "page_size"),
        ("created_from=yesterday", "created_from"),
        ("updated_to=2024-13-01", "updated_to"),
        ("what=xx", "what"),
    ] {
        let (status, body) = admin.get(&format!("/api/v2/mappings?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["details"][0]["field"], field, "{query}: {body}");
    }
}

#[tokio::test]
async fn bulk_delete_takes_a_namespace_and_refuses_to_guess() {
    let admin = spawn().await;
    seed(&admin).await;
    let (status, body) = admin.json(Method::DELETE, "/api/v2/mappings", None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(admin.all().await.len(), 12, "nothing deleted");
    let (status, body) = admin
        .json(
            Method::DELETE,
            "/api/v2/mappings?source=pbs&instance=hmis2",
            None,
        )
        .await;
    assert_eq!((status, body), (200, json!({"deleted": 1})));
    let (_, body) = admin
        .json(Method::DELETE, "/api/v2/mappings?source=pbs", None)
        .await;
    assert_eq!(body, json!({"deleted": 1}));
    let (_, body) = admin
        .json(Method::DELETE, "/api/v2/mappings?all=true", None)
        .await;
    assert_eq!(body, json!({"deleted": 10}));
    assert!(admin.all().await.is_empty());
}

#[tokio::test]
async fn readers_read_and_only_admins_write() {
    let admin = spawn().await;
    seed(&admin).await;
    let (_, page) = admin.get("/api/v2/mappings?page_size=1").await;
    let uid = page["items"][0]["uid"].as_str().unwrap().to_owned();
    let app = &admin.app;
    for role in [Role::Viewer, Role::Submitter] {
        let user = create_user(app, role).await;
        let basic = user.basic();
        let call = |method: Method, path: String| {
            app.request(method, &path)
                .auth(&basic)
                .json(&de("NEW", MAL_CONF))
                .send()
        };
        for path in [
            "/api/v2/mappings".to_owned(),
            format!("/api/v2/mappings/{uid}"),
            "/api/v2/mappings/export/csv".to_owned(),
            "/api/v2/mappings/export/excel".to_owned(),
            "/api/v2/mappings/export/excel-template".to_owned(),
        ] {
            let status = call(Method::GET, path.clone()).await.status();
            assert_eq!(status, 200, "{role:?} GET {path}");
        }
        for (method, path) in [
            (Method::POST, "/api/v2/mappings".to_owned()),
            (Method::PUT, format!("/api/v2/mappings/{uid}")),
            (Method::DELETE, format!("/api/v2/mappings/{uid}")),
            (Method::DELETE, "/api/v2/mappings?all=true".to_owned()),
            (Method::POST, "/api/v2/mappings/import/csv".to_owned()),
            (Method::POST, "/api/v2/mappings/import/excel".to_owned()),
        ] {
            let response = call(method.clone(), path.clone()).await;
            assert_eq!(response.status(), 403, "{role:?} {method} {path}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "forbidden");
        }
    }
    for path in ["/api/v2/mappings", "/api/v2/mappings/export/excel-template"] {
        let response = app.request(Method::GET, path).send().await;
        assert_eq!(response.status(), 401, "anonymous GET {path}");
    }
    assert_eq!(admin.all().await.len(), 12);
}
