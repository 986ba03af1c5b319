//! Authentication failures, per version.

use serde_json::json;

use super::*;

#[tokio::test]
async fn wrong_basic_password_is_a_401_webmessage() {
    let sim = start_sim("2.40.3").await;
    let request = client()
        .get(url(&sim, "/api/me"))
        .basic_auth("admin", Some("nope"));
    let (status, body) = send(request).await;
    assert_eq!(status, 401);
    assert_eq!(body, fixture("unauthorized_401.json"));
    let (status, body) = send(
        client()
            .get(url(&sim, "/api/me"))
            .basic_auth("retired", Some("Retired123!")),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Account disabled"))
    );
}

#[tokio::test]
async fn unknown_pat_is_401_with_www_authenticate_and_the_version_message() {
    let sim = start_sim("2.40.3").await;
    let unknown = "d2pat_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1234567890";
    let call = || {
        client()
            .get(url(&sim, "/api/me"))
            .header("Authorization", format!("ApiToken {unknown}"))
    };
    let response = call().send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "ApiToken");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, fixture("pat_unknown_token_401_2.38-2.40.json"));

    // 2.41 checks the checksum first: a well-formed but unknown key still gets 401, without
    // the final period.
    sim.set_version("2.41.0");
    let valid_checksum_unknown = "d2pat_5xVA12xyUbWNedQxy4ohH77WlxRGVvZZ1151814092";
    let request = client().get(url(&sim, "/api/me")).header(
        "Authorization",
        format!("ApiToken {valid_checksum_unknown}"),
    );
    let (status, body) = send(request).await;
    assert_eq!(status, 401);
    assert_eq!(body, fixture("pat_unknown_token_401_2.41plus.json"));
}

#[tokio::test]
async fn bad_checksum_is_400_on_2_41_and_unknown_before() {
    let sim = start_sim("2.41.0").await;
    let bad = "d2pat_5xVA12xyUbWNedQxy4ohH77WlxRGVvZZ1151814093";
    let call = || {
        client()
            .get(url(&sim, "/api/me"))
            .header("Authorization", format!("ApiToken {bad}"))
    };
    let (status, body) = send(call()).await;
    assert_eq!(status, 400);
    assert_eq!(body, fixture("pat_bad_checksum_400_2.41plus.json"));
    sim.set_version("2.40.3");
    let (status, body) = send(call()).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "The API token does not exists.");
}

#[tokio::test]
async fn valid_pat_authenticates_and_expired_pat_is_401() {
    let sim = start_sim("2.41.0").await;
    let with = |key: &str| {
        client()
            .get(url(&sim, "/api/me?fields=username"))
            .header("Authorization", format!("ApiToken {key}"))
    };
    let (status, body) = send(with(VALID_PAT)).await;
    assert_eq!((status, body), (200, json!({ "username": "admin" })));
    let (status, body) = send(with(EXPIRED_PAT)).await;
    assert_eq!(status, 401);
    assert_eq!(body, fixture("pat_expired_401.json"));
}

#[tokio::test]
async fn no_credentials_redirects_to_the_login_page_unless_xhr() {
    let sim = start_sim("2.40.3").await;
    let response = client().get(url(&sim, "/api/me")).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let login = format!("{}/dhis-web-commons/security/login.action", sim.base_url());
    assert_eq!(response.headers()["location"], login.as_str());

    sim.set_version("2.41.1");
    let response = client().get(url(&sim, "/api/me")).send().await.unwrap();
    assert_eq!(
        response.headers()["location"],
        format!("{}/dhis-web-login", sim.base_url()).as_str()
    );
    // A client that follows the redirect lands on an HTML page with 200, like on a real server.
    let followed = reqwest::get(url(&sim, "/api/me")).await.unwrap();
    assert_eq!(followed.status(), 200);
    assert!(
        followed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    let xhr = client()
        .get(url(&sim, "/api/me"))
        .header("X-Requested-With", "XMLHttpRequest");
    let (status, body) = send(xhr).await;
    assert_eq!(status, 401);
    assert_eq!(body, fixture("unauthorized_401.json"));
}

#[tokio::test]
async fn posting_data_without_the_authority_is_403() {
    let sim = start_sim("2.40.3").await;
    let request = client()
        .post(url(&sim, "/api/dataValueSets"))
        .basic_auth(VIEWER.0, Some(VIEWER.1))
        .json(&json!({ "dataValues": [] }));
    let (status, body) = send(request).await;
    assert_eq!(status, 403);
    assert_eq!(body, fixture("forbidden_403_preauthorize.json"));
    assert!(
        sim.received_data_value_sets().is_empty(),
        "a refused body is not processed"
    );
}
