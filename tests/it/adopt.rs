//! `dhis2gw migrate --adopt` on databases built with the original dhis2gw's own migrations
//! (`tests/fixtures/original-db/`), at its oldest and newest schema: the old users log in with
//! their old passwords and tokens, and the logs and mappings are served by the original's
//! routes afterwards.

mod original;
mod readme_config;

use base64::Engine;
use dhis2gw::db::adopt::{self, AdoptError, Options};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::app::{TestApp, test_settings};
use crate::support::process;
use original::{
    Edits, INTEGRATOR, INTEGRATOR_TOKEN, OPERATOR, OPERATOR_EXPIRED_TOKEN, REVOKED_TOKEN,
};

fn basic(username: &str, password: &str) -> String {
    let pair = format!("{username}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn pool(uri: &str) -> dhis2gw::db::Pool {
    dhis2gw::db::connect(&dhis2gw::config::DatabaseSettings {
        uri: uri.to_owned(),
        pool_size: 2,
        connect_timeout_secs: 5,
    })
    .unwrap()
}

async fn app_on(uri: &str) -> TestApp {
    let mut settings = test_settings().await;
    settings.database.uri = uri.to_owned();
    TestApp::spawn_with(settings).await
}

async fn scalar<T: for<'a> tokio_postgres::types::FromSql<'a>>(uri: &str, sql: &str) -> T {
    original::connect(uri)
        .await
        .query_one(sql, &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn the_newest_original_schema_is_adopted_and_served_through_the_original_routes() {
    let uri = original::build(7, Edits::Edited).await;
    original::seed(&uri).await;

    let report = adopt::adopt(&pool(&uri), Options::default()).await.unwrap();
    let text = report.to_string();
    assert_eq!(report.users, 4, "{text}");
    assert!(report.default_admin_disabled, "{text}");
    assert_eq!(
        (
            report.tokens_copied,
            report.tokens_skipped,
            report.tokens_renewed
        ),
        (3, 1, 1),
        "{text}"
    );
    assert_eq!(report.mappings, 4, "{text}");
    assert_eq!(report.log_rows(), 5, "{text}");
    assert!(report.schema.contains("version 7"), "{text}");
    assert!(text.contains("with user_apitoken.expires_at"), "{text}");
    assert!(report.kept_tables.iter().any(|t| t == "servers"), "{text}");

    let app = app_on(&uri).await;
    let ops = basic(OPERATOR.0, OPERATOR.1);
    let integrator_token = format!("Token {INTEGRATOR_TOKEN}");

    // Old passwords (bcrypt from Go) and old tokens still work; the seeded admin does not.
    let (status, logs) = app
        .request(Method::GET, "/api/v2/logs?page_size=50")
        .auth(&ops)
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{logs}");
    let (status, _) = app
        .request(Method::GET, "/api/v2/mappings")
        .auth(basic(INTEGRATOR.0, INTEGRATOR.1))
        .status_and_json()
        .await;
    assert_eq!(status, 200);
    let (status, mappings) = app
        .request(Method::GET, "/api/v2/mappings")
        .auth(&integrator_token)
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{mappings}");
    for (token, expected) in [(OPERATOR_EXPIRED_TOKEN, 200), (REVOKED_TOKEN, 401)] {
        let (status, body) = app
            .request(Method::GET, "/api/v2/mappings")
            .auth(format!("Token {token}"))
            .status_and_json()
            .await;
        assert_eq!(status, expected, "token {token}: {body}");
    }
    let (status, _) = app
        .request(Method::GET, "/api/v2/logs")
        .auth(basic("admin", "@dm1n"))
        .status_and_json()
        .await;
    assert_eq!(
        status, 401,
        "the seeded admin with its published password must be disabled"
    );
    let (status, _) = app
        .request(Method::GET, "/api/v2/logs")
        .auth(basic("former", "whatever"))
        .status_and_json()
        .await;
    assert_eq!(status, 401, "an inactive user stays inactive");

    // The history is there, each status translated, nothing left to deliver.
    let items = logs["items"].as_array().unwrap();
    let by_task = |task: &str| {
        items
            .iter()
            .find(|i| i["task_id"] == task)
            .unwrap_or_else(|| panic!("{task} not in {logs}"))
    };
    assert_eq!(
        by_task("0b7f7c3e-4a8e-4d8e-9b1e-1a2b3c4d5e6f")["status"],
        "completed"
    );
    assert_eq!(
        by_task("2d909e50-6ca0-4fa0-9d30-3c4d5e6f7081")["status"],
        "completed_with_conflicts"
    );
    let failed = by_task("3ea1af61-7db1-40b1-8e41-4d5e6f708192");
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["errors"].as_str().unwrap().contains("i/o timeout"),
        "{failed}"
    );
    let queued = by_task("4fb2b072-8ec2-41c2-9f52-5e6f708192a3");
    assert_eq!(queued["status"], "failed");
    assert!(
        queued["errors"]
            .as_str()
            .unwrap()
            .contains("never delivered"),
        "{queued}"
    );
    let id = by_task("0b7f7c3e-4a8e-4d8e-9b1e-1a2b3c4d5e6f")["id"]
        .as_i64()
        .unwrap();
    let (status, one) = app
        .request(Method::GET, &format!("/api/v2/logs/{id}"))
        .auth(&ops)
        .status_and_json()
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        one["dhis2_payload"]["dataValues"][0]["dataElement"], "fbfJHSPpUQD",
        "{one}"
    );
    assert_eq!(
        scalar::<i64>(&uri, "SELECT count(*) FROM submission_open").await,
        0
    );

    // The adopted mappings drive new submissions, whose ids follow the old ones.
    let codes: Vec<&str> = mappings_codes(&mappings);
    assert!(
        codes.contains(&"MAL_CONF") && codes.contains(&"KLA-HC-01"),
        "{mappings}"
    );
    let (status, accepted) = app
        .request(Method::POST, "/api/v2/aggregate")
        .auth(&integrator_token)
        .json(
            &json!({"orgUnit": "DiszpKrYNg8", "period": "202507", "dataSet": "pKxY5g6WgDm",
                      "dataValues": {"MAL_CONF": 4, "MAL_TEST": 9}}),
        )
        .status_and_json()
        .await;
    assert!(status == 200 || status == 202, "{status} {accepted}");
    let values = accepted["payload"]["dataValues"].as_array().unwrap();
    assert!(values.iter().any(|v| v["dataElement"] == "fbfJHSPpUQD" && v["categoryOptionCombo"] == "pq2XI5kz2BY"), "{accepted}");
    let max_old: i64 = scalar(
        &uri,
        "SELECT max(id)::int8 FROM original_dhis2gw.submission_log",
    )
    .await;
    assert!(
        accepted["submission_id"].as_i64().unwrap() > max_old,
        "{accepted}"
    );
    app.stop().await;
}

fn mappings_codes(body: &Value) -> Vec<&str> {
    let rows = body
        .as_array()
        .or_else(|| body["items"].as_array())
        .expect("a list of mappings");
    rows.iter().filter_map(|m| m["code"].as_str()).collect()
}

#[tokio::test]
async fn the_oldest_original_schema_is_adopted() {
    let uri = original::build(1, Edits::Released).await;
    original::seed(&uri).await;
    let report = adopt::adopt(&pool(&uri), Options::default()).await.unwrap();
    let text = report.to_string();
    assert!(text.contains("version 1"), "{text}");
    assert!(text.contains("without user_apitoken.expires_at"), "{text}");
    assert_eq!(report.mappings, 2, "{text}");
    // Before namespaces every mapping was read as default/default.
    let namespaces: i64 = scalar(&uri, "SELECT count(*) FROM dhis2_mappings WHERE source_name = 'default' AND instance_name = 'default' AND what = 'de'").await;
    assert_eq!(namespaces, 2);
    // Tokens of that schema never expired, and still do not.
    let never: i64 = scalar(
        &uri,
        "SELECT count(*) FROM user_apitoken WHERE expires_at IS NULL AND is_active",
    )
    .await;
    assert_eq!(never, 2, "{text}");

    let app = app_on(&uri).await;
    let (status, logs) = app
        .request(Method::GET, "/api/v2/logs")
        .auth(basic(OPERATOR.0, OPERATOR.1))
        .status_and_json()
        .await;
    assert_eq!((status, logs["total"].as_i64()), (200, Some(5)), "{logs}");
    let (status, _) = app
        .request(Method::GET, "/api/v2/mappings")
        .auth(format!("Token {INTEGRATOR_TOKEN}"))
        .status_and_json()
        .await;
    assert_eq!(status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_dry_run_reports_and_changes_nothing() {
    let uri = original::build(7, Edits::Edited).await;
    original::seed(&uri).await;
    let report = adopt::adopt(
        &pool(&uri),
        Options {
            dry_run: true,
            skip_unfit: false,
        },
    )
    .await
    .unwrap();
    let text = report.to_string();
    assert!(text.starts_with("Dry run: nothing was changed"), "{text}");
    assert!(
        text.contains("'admin' still had the published password"),
        "{text}"
    );
    assert_eq!(report.log_rows(), 5);
    assert!(
        scalar::<bool>(
            &uri,
            "SELECT to_regclass('public.schema_migrations') IS NOT NULL"
        )
        .await
    );
    assert!(
        scalar::<bool>(
            &uri,
            "SELECT to_regclass('public.refinery_schema_history') IS NULL"
        )
        .await
    );
    assert!(scalar::<bool>(&uri, "SELECT to_regnamespace('original_dhis2gw') IS NULL").await);
}

#[tokio::test]
async fn rows_that_do_not_fit_refuse_the_adoption_unless_left_behind() {
    // The released 000004 allowed one code in two datasets; dhis2gw keys a namespace by code.
    let uri = original::build(7, Edits::Released).await;
    original::seed(&uri).await;
    original::connect(&uri)
        .await
        .batch_execute(
            "INSERT INTO dhis2_mappings (name, code, dataset, dataelement, instance_name, source_name, what) \
             VALUES ('Malaria confirmed (other set)', 'MAL_CONF', 'Other0Set01', 'x0000000001', 'default', 'default', 'de'), \
                    ('', '', '', '', 'default', 'default', '')",
        )
        .await
        .unwrap();
    let refused = adopt::adopt(&pool(&uri), Options::default())
        .await
        .unwrap_err();
    let AdoptError::Misfits(misfits) = &refused else {
        panic!("{refused}")
    };
    let message = refused.to_string();
    let mut ids: Vec<i64> = misfits.iter().map(|m| m.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "{message}");
    assert!(
        message.contains("'MAL_CONF' is mapped by rows"),
        "{message}"
    );
    assert!(message.contains("no code"), "{message}");
    assert!(
        scalar::<bool>(
            &uri,
            "SELECT to_regclass('public.refinery_schema_history') IS NULL"
        )
        .await,
        "refusal changed the database"
    );

    let report = adopt::adopt(
        &pool(&uri),
        Options {
            dry_run: false,
            skip_unfit: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(report.misfits.len(), misfits.len());
    assert_eq!(report.mappings, 3, "{report}");
    assert!(
        report
            .to_string()
            .contains("left in original_dhis2gw: mapping"),
        "{report}"
    );
    assert!(matches!(
        adopt::adopt(&pool(&uri), Options::default()).await,
        Err(AdoptError::AlreadyDhis2gw)
    ));
}

#[tokio::test]
async fn migrate_and_serve_refuse_an_original_database_until_it_is_adopted() {
    let uri = original::build(7, Edits::Edited).await;
    original::seed(&uri).await;
    let config = process::config_file("");
    let path = config.path().to_str().unwrap();
    let env = [("DHIS2GW_DB", uri.as_str())];

    let plain = process::run(&["migrate", "--config-file", path], &env);
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert_ne!(plain.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("migrate --adopt --dry-run"), "{stderr}");

    let serve = process::run(&["serve", "--config-file", path], &env);
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert_ne!(serve.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("belongs to the original dhis2gw"),
        "{stderr}"
    );

    let dry = process::run(
        &["migrate", "--adopt", "--dry-run", "--config-file", path],
        &env,
    );
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        stdout.contains("Dry run") && stdout.contains("submission log: 5 rows"),
        "{stdout}"
    );

    let real = process::run(&["migrate", "--adopt", "--config-file", path], &env);
    assert_eq!(
        real.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    assert!(String::from_utf8_lossy(&real.stdout).contains("Adopted"));
    let again = process::run(&["migrate", "--config-file", path], &env);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
