//! The DHIS2 client against the DHIS2 simulator over real HTTP: base URL spellings, Basic and PAT
//! headers as received, every DHIS2 version's answer shape, conflicts, faults, tracker sync and
//! async polling, and payload numbers sent byte for byte.

mod faults;
mod tracker;

use base64::Engine as _;
use dhis2_sim::{self as sim, SimConfig, SimHandle};
use dhis2gw::config::{ApiSettings, Dhis2AuthMethod, Settings};
use dhis2gw::dhis2::{Dhis2Client, Dhis2Error, ImportStatus};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("admin", "district");
/// Logs in, lacks F_DATAVALUE_ADD.
const VIEWER: (&str, &str) = ("viewer", "Viewer123!");
const VALID_PAT: &str = "d2pat_J6gH7QkFb0ImxV46uoikjpPGecudrTuJ2370999520";
const EXPIRED_PAT: &str = "d2pat_xnatvzF0ot0f03weXxaS0LWbbOLUHWGQ0206716755";
const MONTHLY_DS: &str = "S6zKJrYKAzR";
const MAL_SUSP: &str = "gLEO1XbX0ii";
const MAL_TESTED: &str = "mxMvRmuC81k";
const ACT_STOCK: &str = "Yr3WEPlBeFP";
const MOYAMBA_CHC: &str = "KFZHpp8BEUA";
const MALARIA_PROGRAM: &str = "EgUtuyusFCa";
const PERSON: &str = "LbpW75gVtW5";

async fn start_sim(version: &str) -> SimHandle {
    let cfg = SimConfig {
        version: version.to_owned(),
        ..SimConfig::default()
    };
    sim::start(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

fn api_settings(base_url: &str) -> ApiSettings {
    let mut api = Settings::defaults().api;
    api.dhis2_base_url = base_url.to_owned();
    api.dhis2_auth_method = Dhis2AuthMethod::Basic;
    api.dhis2_user = ADMIN.0.to_owned();
    api.dhis2_password = ADMIN.1.to_owned();
    api.dhis2_timeout_secs = 10;
    api.dhis2_connect_timeout_secs = 2;
    api
}

fn client_for(sim: &SimHandle) -> Dhis2Client {
    Dhis2Client::new(&api_settings(&sim.base_url())).expect("client")
}

fn monthly_payload(values: Value) -> Value {
    json!({ "dataSet": MONTHLY_DS, "period": "202401", "orgUnit": MOYAMBA_CHC, "dataValues": values })
}

fn good_payload() -> Value {
    monthly_payload(json!([
        { "dataElement": MAL_SUSP, "value": "12" },
        { "dataElement": MAL_TESTED, "value": "30" },
    ]))
}

fn last_request(sim: &SimHandle) -> sim::Received {
    sim.received()
        .pop()
        .expect("the simulator received a request")
}

#[tokio::test]
async fn every_base_url_spelling_reaches_the_api() {
    let sim = start_sim("2.40.3").await;
    let base = sim.base_url();
    for spelling in [
        base.clone(),
        format!("{base}/"),
        format!("{base}/api"),
        format!("{base}/api/"),
    ] {
        let client = Dhis2Client::new(&api_settings(&spelling)).unwrap();
        assert_eq!(
            client.api_url("dataValueSets"),
            format!("{base}/api/dataValueSets")
        );
        let info = client.system_info().await.expect("system/info");
        assert_eq!(info["version"], "2.40.3", "{spelling}");
        assert_eq!(last_request(&sim).path, "/api/system/info");
    }
}

#[tokio::test]
async fn basic_auth_is_sent_as_dhis2_expects() {
    let sim = start_sim("2.40.3").await;
    client_for(&sim).system_info().await.unwrap();
    let request = last_request(&sim);
    let expected = base64::engine::general_purpose::STANDARD.encode("admin:district");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Basic {expected}").as_str())
    );
    assert_eq!(request.header("x-requested-with"), Some("XMLHttpRequest"));
    assert_eq!(request.header("accept"), Some("application/json"));
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("dhis2gw/")
    );
}

#[tokio::test]
async fn pat_is_sent_as_an_api_token() {
    let sim = start_sim("2.41.0").await;
    let mut api = api_settings(&sim.base_url());
    api.dhis2_auth_method = Dhis2AuthMethod::Pat;
    api.dhis2_pat = VALID_PAT.to_owned();
    let client = Dhis2Client::new(&api).unwrap();
    let me = client.get_json("me?fields=id,username").await.unwrap();
    assert_eq!(me["username"], "admin");
    let request = last_request(&sim);
    assert_eq!(
        request.header("authorization"),
        Some(format!("ApiToken {VALID_PAT}").as_str())
    );
    assert_eq!(request.query.as_deref(), Some("fields=id,username"));
    // The client's Debug output never shows the credentials.
    assert!(!format!("{client:?}").contains(VALID_PAT));
}

#[tokio::test]
async fn refused_credentials_are_unauthorized_and_not_retried() {
    let sim = start_sim("2.40.3").await;
    let mut api = api_settings(&sim.base_url());
    api.dhis2_password = "wrong".to_owned();
    let error = Dhis2Client::new(&api)
        .unwrap()
        .post_data_value_set(&good_payload())
        .await
        .unwrap_err();
    match &error {
        Dhis2Error::Unauthorized {
            status, message, ..
        } => {
            assert_eq!((*status, message.as_str()), (401, "Unauthorized"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.is_retryable());
    assert!(!error.to_string().contains("wrong"));

    api.dhis2_auth_method = Dhis2AuthMethod::Pat;
    api.dhis2_pat = EXPIRED_PAT.to_owned();
    let error = Dhis2Client::new(&api)
        .unwrap()
        .system_info()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Dhis2Error::Unauthorized { status: 401, message, .. } if message.contains("expired")),
        "{error:?}"
    );

    let mut api = api_settings(&sim.base_url());
    (api.dhis2_user, api.dhis2_password) = (VIEWER.0.to_owned(), VIEWER.1.to_owned());
    let error = Dhis2Client::new(&api)
        .unwrap()
        .post_data_value_set(&good_payload())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Dhis2Error::Unauthorized { status: 403, message, .. } if message == "Access is denied"),
        "{error:?}"
    );
    assert!(sim.received_data_value_sets().is_empty());
}

#[tokio::test]
async fn aggregate_answer_shapes_of_each_version() {
    let sim = start_sim("2.37.10").await;
    let client = client_for(&sim);
    // 2.37: the bare ImportSummary.
    let outcome = client.post_data_value_set(&good_payload()).await.unwrap();
    assert_eq!(outcome.http_status, 200);
    assert_eq!(outcome.status, ImportStatus::Success);
    assert_eq!(outcome.counts.imported, 2);
    assert_eq!(outcome.message, None);
    let body: Value = serde_json::from_str(&outcome.raw_body).unwrap();
    assert_eq!(body["responseType"], "ImportSummary");

    // 2.38: the WebMessage wrapper.
    sim.set_version("2.38.7");
    let changed = monthly_payload(json!([{ "dataElement": MAL_SUSP, "value": "13" }]));
    let outcome = client.post_data_value_set(&changed).await.unwrap();
    assert_eq!(outcome.status, ImportStatus::Success);
    assert_eq!(outcome.counts.updated, 1);
    assert_eq!(outcome.message.as_deref(), Some("Import was successful."));

    // 2.40, and the same server pinned to /api/37 by the base URL: the bare summary again.
    sim.set_version("2.40.3");
    let outcome = client.post_data_value_set(&good_payload()).await.unwrap();
    assert!(outcome.message.is_some());
    let pinned = Dhis2Client::new(&api_settings(&format!("{}/api/37", sim.base_url()))).unwrap();
    let outcome = pinned.post_data_value_set(&good_payload()).await.unwrap();
    assert_eq!(last_request(&sim).path, "/api/37/dataValueSets");
    assert_eq!(outcome.message, None);
    assert_eq!(outcome.status, ImportStatus::Success);
}

#[tokio::test]
async fn conflicts_are_an_outcome_not_an_error() {
    let sim = start_sim("2.40.3").await;
    let client = client_for(&sim);
    let payload = monthly_payload(json!([
        { "dataElement": MAL_SUSP, "value": "5" },
        { "dataElement": "deUnknown01", "value": "1" },
        { "dataElement": MAL_TESTED, "value": "7", "period": "2024W99" },
    ]));
    let outcome = client.post_data_value_set(&payload).await.unwrap();
    assert_eq!(outcome.http_status, 409);
    assert_eq!(outcome.status, ImportStatus::Warning);
    assert_eq!(outcome.counts.imported, 1);
    assert_eq!(outcome.counts.ignored, 2);
    let codes: Vec<_> = outcome
        .conflicts
        .iter()
        .map(|c| c.error_code.clone().unwrap_or_default())
        .collect();
    assert!(codes.contains(&"E7610".to_owned()), "{codes:?}");
    let unknown = outcome
        .conflicts
        .iter()
        .find(|c| c.error_code.as_deref() == Some("E7610"))
        .unwrap();
    assert_eq!(unknown.object.as_deref(), Some("deUnknown01"));
    assert_eq!(unknown.property.as_deref(), Some("dataElement"));
    assert_eq!(unknown.indexes, Some(vec![1]));
    assert!(outcome.rejected_indexes.contains(&1));

    let unknown_set = json!({ "dataSet": "dsUnknown01", "period": "202401", "orgUnit": MOYAMBA_CHC, "dataValues": [{ "dataElement": MAL_SUSP, "value": "1" }] });
    let outcome = client.post_data_value_set(&unknown_set).await.unwrap();
    assert_eq!(outcome.http_status, 409);
    assert_eq!(outcome.status, ImportStatus::Error);
    assert_eq!(outcome.conflicts[0].error_code.as_deref(), Some("E7600"));
}

#[tokio::test]
async fn numbers_leave_exactly_as_given() {
    let sim = start_sim("2.40.3").await;
    let payload: Value = serde_json::from_str(&format!(
        r#"{{"dataSet":"{MONTHLY_DS}","period":"202401","orgUnit":"{MOYAMBA_CHC}","dataValues":[
            {{"dataElement":"{MAL_SUSP}","value":1000000}},
            {{"dataElement":"{ACT_STOCK}","value":0.10}},
            {{"dataElement":"{MAL_TESTED}","value":12345678901234567890123}}]}}"#
    ))
    .unwrap();
    let _ = client_for(&sim)
        .post_data_value_set(&payload)
        .await
        .unwrap();
    let request = last_request(&sim);
    let sent = String::from_utf8(request.body.clone()).unwrap();
    assert!(sent.contains(r#""value":1000000}"#), "{sent}");
    assert!(sent.contains(r#""value":0.10}"#), "{sent}");
    assert!(
        sent.contains(r#""value":12345678901234567890123}"#),
        "{sent}"
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn reads_not_found_and_bad_config() {
    let sim = start_sim("2.40.3").await;
    let client = client_for(&sim);
    let error = client.get_json("dataSets/abcdefghijk").await.unwrap_err();
    assert!(matches!(error, Dhis2Error::NotFound { .. }), "{error:?}");
    let error = client.get_json("noSuchThing").await.unwrap_err();
    assert_eq!(error.http_status(), Some(404));

    let mut api = api_settings(&sim.base_url());
    api.dhis2_auth_method = Dhis2AuthMethod::Pat;
    api.dhis2_pat = "  ".to_owned();
    assert!(matches!(
        Dhis2Client::new(&api),
        Err(Dhis2Error::InvalidConfig(_))
    ));
    let mut api = api_settings("https://admin:district@dhis.example.org");
    api.dhis2_user = "admin".to_owned();
    assert!(matches!(
        Dhis2Client::new(&api),
        Err(Dhis2Error::InvalidConfig(_))
    ));
}
