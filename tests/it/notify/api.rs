//! The deliveries and recipients API: filters, paging, roles, a person's retry, skip reasons.

use dhis2gw::auth::Role;
use dhis2gw::notify::plan_deliveries;
use reqwest::Method;

use super::env::{DISTRICT, notice};
use crate::support::app::TestApp;
use crate::support::users::create_user;

#[tokio::test]
async fn deliveries_are_listed_filtered_and_retried_by_an_admin() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let viewer = create_user(&app, Role::Viewer).await;
    let submitter = create_user(&app, Role::Submitter).await;
    {
        let mut client = app.state.db().get().await.unwrap();
        client
            .execute(
                "INSERT INTO notify_recipients (source, source_key, name, first_name, org_unit_paths,
                        email, phone, phone_skip)
                 VALUES ('dhis2', 'u1', 'Ann Banda', 'Ann', ARRAY[$1], 'ann@moh.test', NULL,
                         '\"0977\" has no country code')",
                &[&DISTRICT],
            )
            .await
            .unwrap();
        let tx = client.transaction().await.unwrap();
        assert_eq!(plan_deliveries(&tx, &notice(41)).await.unwrap(), 1);
        assert_eq!(plan_deliveries(&tx, &notice(42)).await.unwrap(), 1);
        tx.commit().await.unwrap();
    }

    let (status, page) = app
        .request(Method::GET, "/api/v2/deliveries?alert_id=42&channel=email")
        .auth(viewer.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["alert_id"], 42);
    assert_eq!(items[0]["address"], "ann@moh.test");
    let id = items[0]["id"].as_i64().unwrap();

    let (status, page) = app
        .request(Method::GET, "/api/v2/deliveries?recipient=banda&limit=1")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["next_before"].is_i64(), "{page}");
    let (status, _) = app
        .request(Method::GET, "/api/v2/deliveries?channel=fax")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 400);
    let (status, _) = app
        .request(Method::GET, "/api/v2/deliveries")
        .auth(submitter.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 403);

    let path = format!("/api/v2/deliveries/{id}/retry");
    let (status, _) = app
        .request(Method::POST, &path)
        .auth(viewer.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 403);
    let (status, body) = app
        .request(Method::POST, &path)
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["id"], id);
    assert_eq!(body["status"], "queued");
    let (status, _) = app
        .request(Method::POST, "/api/v2/deliveries/999999/retry")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 404);

    let (status, page) = app
        .request(Method::GET, "/api/v2/recipients?source=dhis2")
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["name"], "Ann Banda");
    assert!(
        page["items"][0]["phone_skip"]
            .as_str()
            .unwrap()
            .contains("country code")
    );
    app.stop().await;
}
