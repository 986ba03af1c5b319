//! The alert run against the simulator's seeded surveillance data: the alerts it creates are the
//! ones computed here from the same seed, a second run creates none, failed tracker writes are
//! retried until each alert is in DHIS2 exactly once, a dry run writes nothing, and a 409 from
//! analytics is reported while the run goes on.

use std::collections::BTreeSet;

use dhis2_sim::surveillance::{
    ALERT_STAGE, Surveillance, disease_uid, district_uid, facility_uid, week_ordinal,
};
use dhis2_sim::{self as sim, Fault, Seed, SimConfig, SimHandle};
use dhis2gw::alerts::run::{RunOptions, run};
use dhis2gw::config::Settings;
use dhis2gw::db::Pool;
use serde_json::Value;

use crate::support::app::test_settings;
use crate::support::pipeline::deliver_to;

const WEEK: (i32, u32) = (2026, 47);

struct World {
    settings: Settings,
    pool: Pool,
    sim: SimHandle,
    data: Surveillance,
}

async fn world() -> World {
    let data = Surveillance {
        seed: 11,
        districts: 120,
        facilities_per_district: 4,
        diseases: 3,
        last_week: "2026W47".into(),
        weeks: 12,
        parent: "sEl465gkHn9".into(),
        zeros_stored: false,
        string_decimals: true,
    };
    let mut seed = Seed::builtin();
    seed.surveillance = Some(data.clone());
    let sim = sim::start(
        SimConfig {
            seed,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut settings = test_settings().await;
    deliver_to(&mut settings, &sim);
    settings.alerts.org_unit_roots = vec!["sEl465gkHn9".into()];
    settings.alerts.dhis2_program_stage = ALERT_STAGE.into();
    settings.alerts.dhis2_data_element_week = "AlrtWeek001".into();
    settings.alerts.dhis2_data_element_count = "AlrtCount01".into();
    settings.alerts.dhis2_data_element_facilities = "AlrtFacil01".into();
    let pool = dhis2gw::db::connect(&settings.database).unwrap();
    let db = pool.get().await.unwrap();
    for (de, rule_type, params, policy) in [
        (disease_uid(0), "one_case", "{}", "skip"),
        (disease_uid(1), "doubling", "{}", "zero"),
        (disease_uid(2), "cluster", r#"{"threshold": 4}"#, "skip"),
    ] {
        db.execute(
            "INSERT INTO alert_rules (name, data_element, rule_type, params, level, missing_policy, disease_code) \
             VALUES ($1, $2, $3, $4::text::jsonb, 3, $5, 'CODE_X')",
            &[&format!("{rule_type} {de}"), &de, &rule_type, &params, &policy],
        )
        .await
        .unwrap();
    }
    World {
        settings,
        pool,
        sim,
        data,
    }
}

/// The alerts the three rules must raise, computed from the seed alone.
fn expected(data: &Surveillance) -> BTreeSet<(String, String)> {
    let week = week_ordinal(WEEK.0, WEEK.1).unwrap();
    let mut out = BTreeSet::new();
    for i in 0..data.districts {
        let now = |d| data.district_cases(d, i, week);
        if now(0).unwrap_or(0) >= 1 {
            out.insert((disease_uid(0), district_uid(i)));
        }
        // doubling with missing as zero: at least twice last week, at least one case.
        let (c, p) = (
            now(1).unwrap_or(0),
            data.district_cases(1, i, week - 1).unwrap_or(0),
        );
        if c >= 1 && c >= 2 * p {
            out.insert((disease_uid(1), district_uid(i)));
        }
        if now(2).unwrap_or(0) >= 4 {
            out.insert((disease_uid(2), district_uid(i)));
        }
    }
    out
}

fn options() -> RunOptions {
    RunOptions {
        dry_run: false,
        week: Some("2026W47".parse().unwrap()),
    }
}

async fn alerts(pool: &Pool) -> Vec<(String, String, String, String, Value)> {
    let db = pool.get().await.unwrap();
    db.query(
        "SELECT data_element, org_unit, dhis2_state, tracked_entity, facilities FROM alerts",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect()
}

fn n(counts: &serde_json::Map<String, Value>, key: &str) -> u64 {
    counts[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {counts:?}"))
}

#[tokio::test]
async fn a_run_raises_the_expected_alerts_once_and_a_second_run_none() {
    let w = world().await;
    let want = expected(&w.data);
    assert!(want.len() >= 3, "the seed gives some alerts: {want:?}");
    let report = run(&w.pool, &w.settings, options()).await.unwrap();
    assert_eq!(report.skipped, None);
    let c = &report.counts;
    assert_eq!(n(c, "alerts_new") as usize, want.len(), "{c:?}");
    assert_eq!(n(c, "dhis2_confirmed") as usize, want.len(), "{c:?}");
    assert_eq!(
        n(c, "analytics_calls"),
        1,
        "one analytics call for every rule: {c:?}"
    );
    let rows = alerts(&w.pool).await;
    let got: BTreeSet<_> = rows.iter().map(|r| (r.0.clone(), r.1.clone())).collect();
    assert_eq!(got, want);
    assert!(rows.iter().all(|r| r.2 == "in_dhis2"));
    // The alert numbers were reserved in one call, each alert its own.
    let received = w.sim.received();
    let asked = |tail: &str| received.iter().filter(|r| r.path.ends_with(tail)).count();
    assert_eq!(asked("/generateAndReserve"), 1);
    assert_eq!(asked("/generate"), 0);
    let numbers: i64 = w
        .pool
        .get()
        .await
        .unwrap()
        .query_one("SELECT count(DISTINCT alert_number) FROM alerts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(numbers as usize, want.len());
    // Facilities listed for one_case alerts add up to the district's count.
    let week = week_ordinal(WEEK.0, WEEK.1).unwrap();
    for r in rows.iter().filter(|r| r.0 == disease_uid(0)) {
        let i: usize = r.1[3..].parse().unwrap();
        let sum: f64 =
            r.4.as_array()
                .unwrap()
                .iter()
                .map(|f| f["count"].as_f64().unwrap())
                .sum();
        assert_eq!(
            sum as u64,
            w.data.district_cases(0, i, week).unwrap(),
            "{r:?}"
        );
    }
    // Cluster alerts list the facilities that reach the threshold (4) on their own, and only
    // those: a facility with fewer cases contributed to the district's sum but is not listed.
    let (mut listed, mut left_out) = (0, 0);
    for r in rows.iter().filter(|r| r.0 == disease_uid(2)) {
        let i: usize = r.1[3..].parse().unwrap();
        let got: BTreeSet<String> =
            r.4.as_array()
                .unwrap()
                .iter()
                .map(|f| f["uid"].as_str().unwrap().to_owned())
                .collect();
        let mut want = BTreeSet::new();
        for f in 0..w.data.facilities_per_district {
            let cases = w.data.facility_cases(2, i, f, week).unwrap();
            if cases >= 4 {
                want.insert(facility_uid(i, f, w.data.facilities_per_district));
            } else if cases > 0 {
                left_out += 1;
            }
        }
        listed += want.len();
        assert_eq!(got, want, "{r:?}");
    }
    assert!(
        listed > 0 && left_out > 0,
        "the seed gives both kinds of facility: {listed} listed, {left_out} left out"
    );
    let tes: BTreeSet<String> = w.sim.tracked_entities().into_iter().collect();
    let ours: BTreeSet<String> = rows.iter().map(|r| r.3.clone()).collect();
    assert_eq!(tes, ours);

    let again = run(&w.pool, &w.settings, options()).await.unwrap();
    assert_eq!(n(&again.counts, "alerts_new"), 0, "{:?}", again.counts);
    assert_eq!(n(&again.counts, "alerts_known") as usize, want.len());
    assert_eq!(w.sim.tracked_entities().len(), want.len());
    let tracker_posts = w
        .sim
        .received()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/tracker"))
        .count();
    assert_eq!(tracker_posts, want.len(), "nothing is written twice");
    // The second run reads the stored history and asks only for the re-fetched weeks.
    assert!(n(&again.counts, "analytics_calls") >= 1);
}

#[tokio::test]
async fn failed_tracker_writes_are_retried_until_each_alert_is_in_dhis2_once() {
    let w = world().await;
    let want = expected(&w.data);
    w.sim.set_fault_always(Some(Fault::Status(503)));
    let first = run(&w.pool, &w.settings, options()).await.unwrap();
    assert_eq!(n(&first.counts, "alerts_new") as usize, want.len());
    assert_eq!(n(&first.counts, "dhis2_failed") as usize, want.len());
    assert!(w.sim.tracked_entities().is_empty());
    // A run before the backoff ends leaves them alone.
    w.sim.set_fault_always(Some(Fault::Drop));
    let early = run(&w.pool, &w.settings, options()).await.unwrap();
    assert_eq!(n(&early.counts, "dhis2_failed"), 0, "{:?}", early.counts);
    assert_eq!(n(&early.counts, "dhis2_pending") as usize, want.len());
    // The backoff has passed; DHIS2 is still down (connections dropped), then recovers.
    let db = w.pool.get().await.unwrap();
    db.execute("UPDATE alerts SET dhis2_next_attempt = now()", &[])
        .await
        .unwrap();
    let dropped = run(&w.pool, &w.settings, options()).await.unwrap();
    assert_eq!(n(&dropped.counts, "dhis2_failed") as usize, want.len());
    w.sim.set_fault_always(None);
    db.execute("UPDATE alerts SET dhis2_next_attempt = now()", &[])
        .await
        .unwrap();
    let recovered = run(&w.pool, &w.settings, options()).await.unwrap();
    assert_eq!(n(&recovered.counts, "alerts_new"), 0);
    assert_eq!(
        n(&recovered.counts, "dhis2_confirmed") as usize,
        want.len(),
        "{:?}",
        recovered.counts
    );
    assert_eq!(n(&recovered.counts, "dhis2_pending"), 0);
    let rows = alerts(&w.pool).await;
    let tes: BTreeSet<String> = w.sim.tracked_entities().into_iter().collect();
    assert_eq!(tes.len(), want.len());
    assert_eq!(tes, rows.iter().map(|r| r.3.clone()).collect());
    let attempts: Vec<i32> = db
        .query("SELECT dhis2_attempts FROM alerts", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(attempts.iter().all(|a| *a == 3), "{attempts:?}");
}

#[tokio::test]
async fn a_dry_run_writes_nothing_anywhere() {
    let w = world().await;
    let want = expected(&w.data);
    let report = run(
        &w.pool,
        &w.settings,
        RunOptions {
            dry_run: true,
            ..options()
        },
    )
    .await
    .unwrap();
    let would = report.counts["would_fire"].as_array().unwrap();
    assert_eq!(would.len(), want.len());
    let db = w.pool.get().await.unwrap();
    for table in ["alerts", "alert_history", "alert_history_coverage"] {
        let count: i64 = db
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(count, 0, "{table}");
    }
    assert!(
        w.sim.received().iter().all(|r| r.method == "GET"),
        "only reads reach DHIS2"
    );
}

#[tokio::test]
async fn analytics_409_is_reported_and_pending_alerts_are_still_written() {
    let w = world().await;
    let want = expected(&w.data);
    w.sim.set_fault_always(Some(Fault::Status(503)));
    run(&w.pool, &w.settings, options()).await.unwrap();
    w.sim.set_fault_always(None);
    w.sim.set_analytics_tables_generated(false);
    let db = w.pool.get().await.unwrap();
    db.execute("UPDATE alerts SET dhis2_next_attempt = now()", &[])
        .await
        .unwrap();
    let report = run(&w.pool, &w.settings, options()).await.unwrap();
    let c = &report.counts;
    assert_eq!(n(c, "rules_failed"), 3, "{c:?}");
    let errors = c["errors"].to_string();
    assert!(errors.contains("not generated"), "{errors}");
    assert_eq!(n(c, "dhis2_confirmed") as usize, want.len(), "{c:?}");
    assert_eq!(w.sim.tracked_entities().len(), want.len());
}

#[tokio::test]
async fn without_org_unit_roots_the_run_is_not_configured() {
    let settings = test_settings().await;
    let pool = dhis2gw::db::connect(&settings.database).unwrap();
    let report = run(&pool, &settings, options()).await.unwrap();
    assert!(report.skipped.unwrap().contains("alerts.org_unit_roots"));
}

/// The alerts API over what a run recorded: list, filters, detail, acknowledge, roles.
#[tokio::test]
async fn recorded_alerts_are_listed_explained_and_acknowledged() {
    use dhis2gw::auth::Role;
    use reqwest::Method;

    use crate::support::app::TestApp;
    use crate::support::users::create_user;

    let w = world().await;
    let want = expected(&w.data);
    // Two configured recipients: each alert gets an email and an SMS planned when DHIS2
    // confirms it; the newest alert's email is then marked sent.
    let mut notifications = w.settings.notifications.clone();
    notifications.static_recipients = vec!["email:epi@moh.test".into(), "sms:+260971000001".into()];
    dhis2gw::notify::directory::sync_configured(&w.pool, &notifications)
        .await
        .unwrap();
    run(&w.pool, &w.settings, options()).await.unwrap();
    w.pool
        .get()
        .await
        .unwrap()
        .execute(
            "UPDATE notify_deliveries SET status = 'sent', sent_at = now()
              WHERE channel = 'email' AND alert_id = (SELECT max(id) FROM alerts)",
            &[],
        )
        .await
        .unwrap();
    let app = TestApp::spawn_with(w.settings.clone()).await;
    let admin = create_user(&app, Role::Admin).await;
    let viewer = create_user(&app, Role::Viewer).await;
    let submitter = create_user(&app, Role::Submitter).await;
    let get = |path: &str, who: String| app.request(Method::GET, path).auth(who).status_and_json();

    let (status, page) = get("/api/v2/alerts?limit=500", viewer.basic()).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), want.len());
    assert!(
        items
            .iter()
            .all(|a| a["week"] == "2026W47" && a["status"] == "open")
    );
    let (status, _) = get("/api/v2/alerts", submitter.basic()).await;
    assert_eq!(status, 403);

    // Paging by id, newest first.
    let (_, first) = get("/api/v2/alerts?limit=2", admin.basic()).await;
    let before = first["next_before"].as_i64().unwrap();
    let (_, second) = get(
        &format!("/api/v2/alerts?limit=2&before={before}"),
        admin.basic(),
    )
    .await;
    assert!(second["items"][0]["id"].as_i64().unwrap() < before);
    // Filters: the disease, and weeks that hold none of them.
    let de = disease_uid(0);
    let (_, one) = get(
        &format!("/api/v2/alerts?data_element={de}&limit=500"),
        admin.basic(),
    )
    .await;
    let wanted = want.iter().filter(|(d, _)| *d == de).count();
    assert_eq!(one["items"].as_array().unwrap().len(), wanted);
    let (_, none) = get("/api/v2/alerts?week_to=2026W46", admin.basic()).await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    // What the schema forbids (a status not in its enum, a week past 53) is a 400; what fits
    // it but does not exist (week 53 of 2025, which has 52; NUL, which no column holds) a 422.
    for (query, status_wanted, field) in [
        ("status=new", 400, "status"),
        ("week_from=2026W54", 400, "week_from"),
        ("week_to=2025W53", 422, "week_to"),
        ("disease_code=a%00b", 422, "disease_code"),
    ] {
        let (status, body) = get(&format!("/api/v2/alerts?{query}"), admin.basic()).await;
        assert_eq!(
            (status, &body["details"][0]["field"]),
            (status_wanted, &Value::from(field)),
            "{query}: {body}"
        );
    }
    let (status, _) = get("/api/v2/alerts?week_from=2026W53", admin.basic()).await;
    assert_eq!(status, 200, "2026 has 53 ISO weeks");

    // The detail explains the alert.
    let id = items[0]["id"].as_i64().unwrap();
    let (status, alert) = get(&format!("/api/v2/alerts/{id}"), viewer.basic()).await;
    assert_eq!(status, 200, "{alert}");
    assert!(!alert["reason"].as_str().unwrap().is_empty());
    assert!(
        alert["series"].is_object() || alert["series"].is_array(),
        "{alert}"
    );
    assert_eq!(alert["dhis2_state"], "in_dhis2");
    assert!(alert["dhis2_request"].is_object(), "{alert}");
    // Its deliveries, counted per channel and status.
    assert_eq!(
        alert["deliveries"],
        serde_json::json!([
            {"channel": "email", "status": "sent", "count": 1},
            {"channel": "sms", "status": "queued", "count": 1},
        ]),
        "{alert}"
    );
    let other = items[1]["id"].as_i64().unwrap();
    let (_, older) = get(&format!("/api/v2/alerts/{other}"), viewer.basic()).await;
    assert_eq!(
        older["deliveries"],
        serde_json::json!([
            {"channel": "email", "status": "queued", "count": 1},
            {"channel": "sms", "status": "queued", "count": 1},
        ]),
        "{older}"
    );
    // The short link an SMS carries leads to the console's page of the alert, unauthenticated
    // (the console asks who is looking).
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let short = |path: String| no_redirects.get(format!("{}{path}", app.address)).send();
    let link = short(format!("/a/{id}")).await.unwrap();
    assert_eq!(link.status(), 303);
    assert_eq!(
        link.headers()["location"].to_str().unwrap(),
        format!("/admin/alerts/{id}")
    );
    let bad = short("/a/not-a-number".into()).await.unwrap();
    assert_eq!(bad.status(), 404);
    let (status, _) = get("/api/v2/alerts/999999999", admin.basic()).await;
    assert_eq!(status, 404);

    let ack = |who: String| {
        app.request(Method::POST, &format!("/api/v2/alerts/{id}/acknowledge"))
            .auth(who)
            .status_and_json()
    };
    let (status, _) = ack(viewer.basic()).await;
    assert_eq!(status, 403, "viewers do not act");
    let (status, acked) = ack(admin.basic()).await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["status"], "acknowledged");
    assert_eq!(acked["acknowledged_by"], admin.username.as_str());
    let (status, again) = ack(admin.basic()).await;
    assert_eq!(
        (status, &again["status"]),
        (200, &Value::from("acknowledged"))
    );
    let (_, open) = get("/api/v2/alerts?status=open&limit=500", admin.basic()).await;
    assert_eq!(open["items"].as_array().unwrap().len(), want.len() - 1);
}

#[tokio::test]
async fn without_a_generation_pattern_dhis2gw_numbers_the_alerts() {
    let w = world().await;
    let want = expected(&w.data);
    w.sim.set_generate_unsupported(true);
    let report = run(&w.pool, &w.settings, options()).await.unwrap();
    assert_eq!(
        n(&report.counts, "dhis2_confirmed") as usize,
        want.len(),
        "{:?}",
        report.counts
    );
    let db = w.pool.get().await.unwrap();
    let row = db
        .query_one(
            "SELECT count(alert_number), count(DISTINCT alert_number) FROM alerts",
            &[],
        )
        .await
        .unwrap();
    let (numbered, distinct): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(
        (numbered as usize, distinct as usize),
        (want.len(), want.len())
    );
}
