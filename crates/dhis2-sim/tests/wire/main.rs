//! Tests of the DHIS2 simulator against the documented wire format: real HTTP (reqwest) against
//! a simulator started per test on 127.0.0.1:0, responses compared with the DHIS2 fixtures in
//! the repository's `tests/fixtures/dhis2/` by shape (same keys, same JSON types, same fixed messages).

mod auth;
mod data_values;
mod faults;
mod metadata;
mod tracker;

use std::path::PathBuf;

use dhis2_sim::{self as sim, Seed, SimConfig, SimHandle};
use serde_json::Value;

pub const ADMIN: (&str, &str) = ("admin", "district");
/// Only data capture rights in Moyamba District.
pub const DISTRICT_USER: (&str, &str) = ("moyamba", "Moyamba123!");
/// Can log in, lacks F_DATAVALUE_ADD.
pub const VIEWER: (&str, &str) = ("viewer", "Viewer123!");
pub const VALID_PAT: &str = "d2pat_J6gH7QkFb0ImxV46uoikjpPGecudrTuJ2370999520";
pub const EXPIRED_PAT: &str = "d2pat_xnatvzF0ot0f03weXxaS0LWbbOLUHWGQ0206716755";

pub const MONTHLY_DS: &str = "S6zKJrYKAzR";
pub const WEEKLY_DS: &str = "KDI5FUQX7bJ";
pub const MAL_SUSP: &str = "gLEO1XbX0ii";
pub const MAL_CONF: &str = "rPRf4cXHEIx";
pub const ACT_STOCK: &str = "Yr3WEPlBeFP";
pub const FEMALE_UNDER_5: &str = "uEnSlE7fIwv";
pub const MOYAMBA_CHC: &str = "KFZHpp8BEUA";
pub const KENEMA_HOSPITAL: &str = "dPvpyhM2HDG";

pub async fn start_sim(version: &str) -> SimHandle {
    let cfg = SimConfig {
        version: version.to_owned(),
        ..SimConfig::default()
    };
    sim::start(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

/// A client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn url(sim: &SimHandle, path: &str) -> String {
    format!("{}{path}", sim.base_url())
}

pub fn get(sim: &SimHandle, path: &str) -> reqwest::RequestBuilder {
    client()
        .get(url(sim, path))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
}

pub fn post_json(sim: &SimHandle, path: &str, body: &Value) -> reqwest::RequestBuilder {
    client()
        .post(url(sim, path))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .json(body)
}

/// Status and JSON body.
pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request reaches the simulator");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON body")
    };
    (status, body)
}

pub fn fixture(name: &str) -> Value {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "tests",
        "fixtures",
        "dhis2",
        name,
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Asserts `actual` has the shape of `expected`: the same keys (except those listed in
/// `may_differ` as `path.key`), the same JSON types, arrays compared by their first element.
pub fn assert_same_shape(actual: &Value, expected: &Value, may_differ: &[&str]) {
    check_shape(actual, expected, "$", may_differ);
}

fn check_shape(actual: &Value, expected: &Value, path: &str, may_differ: &[&str]) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for key in e.keys().chain(a.keys()) {
                let child = format!("{path}.{key}");
                if may_differ.contains(&child.as_str()) {
                    continue;
                }
                match (a.get(key), e.get(key)) {
                    (Some(av), Some(ev)) => check_shape(av, ev, &child, may_differ),
                    (None, Some(_)) => panic!("missing {child}\nactual: {actual:#}"),
                    (Some(_), None) => panic!("unexpected {child}\nactual: {actual:#}"),
                    (None, None) => unreachable!(),
                }
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            if let (Some(av), Some(ev)) = (a.first(), e.first()) {
                check_shape(av, ev, &format!("{path}[0]"), may_differ);
            }
        }
        (a, e) => assert_eq!(kind(a), kind(e), "type of {path}: {a} vs fixture {e}"),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[test]
fn shipped_seed_file_equals_the_builtin_seed() {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "sim-seed.yml",
    ]
    .iter()
    .collect();
    let shipped = Seed::load(&path).unwrap();
    assert_eq!(shipped, Seed::builtin());
}

#[tokio::test]
async fn rejects_an_inconsistent_seed() {
    let mut seed = Seed::builtin();
    seed.data_elements[0].category_combo = "nOsUcHcOmBo".to_owned();
    let cfg = SimConfig {
        version: "2.40.3".into(),
        seed,
    };
    assert!(
        sim::start(cfg, "127.0.0.1:0".parse().unwrap())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn every_route_is_also_served_under_a_versioned_path_and_with_json_suffix() {
    let sim = start_sim("2.40.3").await;
    for path in [
        "/api/system/info",
        "/api/40/system/info",
        "/api/system/info.json",
        "/api/39/system/info.json",
    ] {
        let (status, body) = send(get(&sim, path)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body["version"], "2.40.3");
    }
    sim.shutdown().await;
}
