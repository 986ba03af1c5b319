//! System endpoints, `/api/me` and metadata collections.

use serde_json::json;

use super::*;

#[tokio::test]
async fn system_info_has_the_documented_fields_and_honours_fields() {
    let sim = start_sim("2.39.5").await;
    let (status, info) = send(get(&sim, "/api/system/info")).await;
    assert_eq!(status, 200);
    let fixture = fixture("system_info.json");
    for key in fixture.as_object().unwrap().keys() {
        assert!(info.get(key).is_some(), "system/info lacks {key}");
    }
    assert_eq!(info["version"], "2.39.5");
    assert_eq!(info["contextPath"], sim.base_url());
    let server_date = info["serverDate"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(server_date, "%Y-%m-%dT%H:%M:%S%.3f").is_ok(),
        "{server_date}"
    );
    assert_eq!(
        server_date.len(),
        "2017-11-29T11:27:46.935".len(),
        "no time zone"
    );

    let (_, some) = send(get(&sim, "/api/system/info?fields=version,serverDate")).await;
    assert_eq!(some.as_object().unwrap().len(), 2);
    let viewer = client()
        .get(url(&sim, "/api/system/info"))
        .basic_auth(VIEWER.0, Some(VIEWER.1));
    let (_, info) = send(viewer).await;
    assert!(
        info.get("databaseInfo").is_none(),
        "sensitive fields are cleared for non-superusers"
    );
}

#[tokio::test]
async fn ping_is_public_and_me_honours_fields() {
    let sim = start_sim("2.40.3").await;
    let pong = client()
        .get(url(&sim, "/api/system/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(pong.status(), 200);
    assert_eq!(pong.text().await.unwrap(), "pong");
    let (status, me) = send(get(&sim, "/api/me?fields=id,username,displayName")).await;
    assert_eq!(status, 200);
    assert_eq!(
        me,
        json!({ "id": "zdtAvfWVAUt", "username": "admin", "displayName": "John Traore" })
    );
    let (_, me) = send(get(&sim, "/api/me")).await;
    assert!(
        me["authorities"]
            .as_array()
            .unwrap()
            .contains(&json!("ALL"))
    );
    assert_eq!(me["organisationUnits"], json!([{ "id": "sEl465gkHn9" }]));
}

#[tokio::test]
async fn org_units_page_filter_and_select_fields() {
    let sim = start_sim("2.40.3").await;
    let (status, page) = send(get(&sim, "/api/organisationUnits?fields=id,code,name,level,path,parent&filter=level:eq:4&pageSize=3&page=2")).await;
    assert_eq!(status, 200);
    let pager = &page["pager"];
    assert_eq!(
        (
            pager["page"].as_u64(),
            pager["pageCount"].as_u64(),
            pager["total"].as_u64()
        ),
        (Some(2), Some(3), Some(8))
    );
    assert!(pager["nextPage"].as_str().unwrap().ends_with("page=3"));
    assert!(
        pager["prevPage"]
            .as_str()
            .unwrap()
            .starts_with(&sim.base_url())
    );
    let units = page["organisationUnits"].as_array().unwrap();
    assert_eq!(units.len(), 3);
    let unit = &units[0];
    assert_eq!(unit.as_object().unwrap().len(), 6);
    assert_eq!(unit["path"].as_str().unwrap().matches('/').count(), 4);
    assert_eq!(
        unit["parent"].as_object().unwrap().len(),
        1,
        "references render as {{id}}"
    );

    let (_, all) = send(get(&sim, "/api/organisationUnits?paging=false&level=2")).await;
    assert!(all.get("pager").is_none());
    let names: Vec<&str> = all["organisationUnits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Northern Region", "Southern Region"]);
    let (_, recent) = send(get(
        &sim,
        "/api/dataElements?filter=lastUpdated:gt:2030-01-01&paging=false",
    ))
    .await;
    assert_eq!(recent["dataElements"], json!([]));
}

#[tokio::test]
async fn data_set_with_nested_fields_and_unknown_ids() {
    let sim = start_sim("2.40.3").await;
    let fields = "id,periodType,dataSetElements[dataElement[id,code,categoryCombo[id,categoryOptionCombos[id,code,name]]]]";
    let (status, ds) = send(get(
        &sim,
        &format!("/api/dataSets/{WEEKLY_DS}?fields={fields}"),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(ds["periodType"], "Weekly");
    let element = &ds["dataSetElements"][0]["dataElement"];
    assert_eq!(element["code"], "IDSR_CHOL");
    assert_eq!(
        element["categoryCombo"]["categoryOptionCombos"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let (status, missing) = send(get(&sim, "/api/dataSets/abcdefghijk")).await;
    assert_eq!(status, 404);
    assert_eq!(missing, fixture("not_found_404_2.40plus.json"));
    sim.set_version("2.39.5");
    let (_, missing) = send(get(&sim, "/api/dataSets/abcdefghijk")).await;
    assert_eq!(missing, fixture("not_found_404_2.38-2.39.json"));
}

#[tokio::test]
async fn users_by_group_and_group_members() {
    let sim = start_sim("2.41.0").await;
    let path = "/api/users?filter=userGroups.id:eq:p9ZB8AHWvLu&fields=id,username,firstName,surname,email,phoneNumber,whatsApp,telegram&paging=false";
    let (status, users) = send(get(&sim, path)).await;
    assert_eq!(status, 200);
    assert_same_shape(
        &users,
        &fixture("users_filter_by_group_paging_false.json"),
        &[],
    );
    assert_eq!(
        users["users"][1].get("email"),
        None,
        "absent contacts are omitted"
    );

    let (_, group) = send(get(
        &sim,
        "/api/userGroups/p9ZB8AHWvLu?fields=id,name,users[id,email,phoneNumber]",
    ))
    .await;
    let member = &group["users"][0];
    let expected_member = &fixture("usergroup_get_users_transformed.json")["users"][0];
    assert_same_shape(member, expected_member, &[]);
    assert!(member["code"].is_null());
}

#[tokio::test]
async fn unknown_routes_and_methods_are_webmessages() {
    let sim = start_sim("2.40.3").await;
    let (status, body) = send(get(&sim, "/api/doesNotExist")).await;
    assert_eq!(
        (status, body["httpStatus"].as_str()),
        (404, Some("Not Found"))
    );
    let (status, body) = send(
        client()
            .delete(url(&sim, "/api/dataValueSets"))
            .basic_auth(ADMIN.0, Some(ADMIN.1)),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (405, Some("ERROR")));
}
