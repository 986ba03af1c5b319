//! The aggregate pipeline reads the mappings of each submission's namespace when it arrives: an
//! import takes effect on the next submission, without a restart.

use reqwest::Method;
use serde_json::{Value, json};

use super::common::{counts, multipart};
use crate::support::pipeline::{ACT_STOCK, Env, MAL_SUSP, MAL_TESTED, aggregate_body};

fn element_of<'a>(payload: &'a Value, element: &str) -> Option<&'a Value> {
    payload["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["dataElement"] == element)
}

#[tokio::test]
async fn the_aggregate_pipeline_picks_up_an_imported_mapping_without_a_restart() {
    let env = Env::start().await;
    let body = aggregate_body("202401", json!({"MAL_SUSP": 3, "NEW_KEY": 5}));
    let before = env.submit(&body).await;
    assert_eq!(before["unmapped"], json!(["NEW_KEY"]), "{before}");
    assert_eq!(
        element_of(&before["payload"], MAL_SUSP).unwrap()["value"],
        "3"
    );

    let csv = format!("code,dataelement\nMAL_SUSP,{MAL_TESTED}\nNEW_KEY,{ACT_STOCK}\n");
    let (content_type, upload) = multipart("file", "m.csv", csv.as_bytes());
    let response = env
        .app
        .request(Method::POST, "/api/v2/mappings/import/csv?mode=upsert")
        .auth(&env.admin.authorization)
        .header("Content-Type", content_type)
        .body(upload)
        .send()
        .await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(counts(&report), [1, 1, 0, 0, 0, 0], "{report}");

    let after = env.submit(&body).await;
    assert_eq!(after["unmapped"], json!([]), "{after}");
    let payload = &after["payload"];
    assert!(element_of(payload, MAL_SUSP).is_none(), "{payload}");
    assert_eq!(element_of(payload, MAL_TESTED).unwrap()["value"], "3");
    assert_eq!(element_of(payload, ACT_STOCK).unwrap()["value"], "5");

    env.run_pending_deliveries().await;
    let delivered = env.sim.received_data_value_sets();
    let last = delivered.last().expect("delivered to DHIS2");
    assert!(element_of(last, ACT_STOCK).is_some(), "{last}");
}
