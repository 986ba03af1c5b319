//! The DHIS2 metadata sync against the simulator (library and `dhis2gw run-job sync`), then
//! imports checked against what it stored: warnings, or with `strict=true` refusals.

use dhis2_sim::{self as sim, SimConfig, SimHandle};
use dhis2gw::config::Settings;
use dhis2gw::db::Pool;
use dhis2gw::dhis2::Dhis2Client;
use dhis2gw::mappings::sync::{self, CollectionSync, SyncOptions};
use serde_json::Value;

use super::common::{
    Admin, COC_F_LT5, FACILITY, MAL_CONF, MAL_DATA_SET, MAL_SUSP, counts, spawn_with,
};
use crate::support::pipeline::deliver_to;
use crate::support::process::{config_file, run};
use crate::support::users;

async fn simulator(config: SimConfig) -> SimHandle {
    sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

async fn run_sync(pool: &Pool, sim: &SimHandle, full: bool) -> Vec<CollectionSync> {
    let mut settings = Settings::defaults();
    deliver_to(&mut settings, sim);
    let client = Dhis2Client::new(&settings.api).unwrap();
    sync::sync(pool, &client, SyncOptions { full })
        .await
        .expect("sync")
}

fn fetched(report: &[CollectionSync]) -> Vec<(&str, usize, bool)> {
    report
        .iter()
        .map(|c| (c.collection, c.fetched, c.full))
        .collect()
}

async fn setup() -> (Admin, SimHandle, Pool) {
    let sim = simulator(SimConfig::default()).await;
    let admin = spawn_with(|s| deliver_to(s, &sim)).await;
    let pool = users::pool(&admin.app);
    (admin, sim, pool)
}

/// One good row, then one row per reference problem.
fn checked_csv() -> String {
    format!(
        "code,what,dataset,dataelement,category_option_combo,source_orgunit,destination_orgunit\n\
         GOOD,de,{MAL_DATA_SET},{MAL_CONF},{COC_F_LT5},,\n\
         NO_DE,de,,Xyzabcdefgh,,,\n\
         WRONG_COMBO,de,,{MAL_SUSP},{COC_F_LT5},,\n\
         NOT_IN_SET,de,{MAL_DATA_SET},aT56MgCUvJ8,,,\n\
         ,ou,,,,FAC-9,Nosuchunit1\n\
         NO_COC,de,,{MAL_CONF},Nosuchcoc01,,\n\
         ,ou,,,,FAC-1,{FACILITY}\n"
    )
}

fn problems(list: &Value) -> Vec<(u64, String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["row"].as_u64().unwrap(),
                p["column"].as_str().unwrap().to_owned(),
                p["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn sync_stores_the_metadata_and_strict_imports_refuse_what_dhis2_lacks() {
    let (admin, sim, pool) = setup().await;
    let (status, body) = admin.csv("?strict=true", &checked_csv()).await;
    assert_eq!(status, 409, "strict needs a sync first: {body}");
    assert!(
        body["error"].as_str().unwrap().contains("run-job sync"),
        "{body}"
    );

    let report = run_sync(&pool, &sim, false).await;
    assert_eq!(
        fetched(&report),
        [
            ("organisationUnits", 15, true),
            ("categoryCombos", 2, true),
            ("categoryOptionCombos", 5, true),
            ("dataElements", 6, true),
            ("dataSets", 2, true),
            ("userGroups", 2, true),
        ]
    );
    let client = pool.get().await.unwrap();
    let unit = client
        .query_one(
            "SELECT level, path, parent_uid, code FROM dhis2_org_units WHERE uid = $1",
            &[&FACILITY],
        )
        .await
        .unwrap();
    assert_eq!(unit.get::<_, Option<i32>>(0), Some(4));
    assert_eq!(
        unit.get::<_, Option<String>>(1).as_deref(),
        Some("/sEl465gkHn9/Nrz5TicGNqE/gf5JL2LyrVy/KFZHpp8BEUA")
    );
    assert_eq!(
        unit.get::<_, Option<String>>(2).as_deref(),
        Some("gf5JL2LyrVy")
    );
    let elements: i64 = client
        .query_one(
            "SELECT count(*) FROM dhis2_data_set_elements WHERE data_set_uid = $1",
            &[&MAL_DATA_SET],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(elements, 4);
    let combo: Option<String> = client
        .query_one(
            "SELECT category_combo_uid FROM dhis2_category_option_combos WHERE uid = $1",
            &[&COC_F_LT5],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(combo.as_deref(), Some("Jk2ZVW2xzaI"));

    let expect = [
        (3, "dataelement", "DHIS2 has no data element Xyzabcdefgh"),
        (
            4,
            "category_option_combo",
            "is not in the category combo of data element",
        ),
        (5, "dataelement", "is not in data set"),
        (
            6,
            "destination_orgunit",
            "DHIS2 has no org unit Nosuchunit1",
        ),
        (
            7,
            "category_option_combo",
            "DHIS2 has no category option combo Nosuchcoc01",
        ),
    ];
    let check = |list: &Value| {
        let got = problems(list);
        assert_eq!(got.len(), expect.len(), "{got:?}");
        for ((row, column, reason), (want_row, want_column, want)) in got.iter().zip(expect) {
            assert_eq!((*row, column.as_str()), (want_row, want_column), "{got:?}");
            assert!(reason.contains(want), "row {row}: {reason}");
        }
    };
    let (status, body) = admin.csv("?strict=true", &checked_csv()).await;
    assert_eq!(status, 422, "{body}");
    check(&body["report"]["errors"]);
    assert!(admin.all().await.is_empty());

    let (status, report) = admin.csv("", &checked_csv()).await;
    assert_eq!(
        (status, counts(&report)),
        (200, [7, 0, 0, 0, 0, 0]),
        "{report}"
    );
    assert_eq!(report["references_checked"], true);
    check(&report["warnings"]);
}

#[tokio::test]
async fn later_syncs_are_incremental_and_a_full_one_removes_what_dhis2_dropped() {
    let (_admin, sim, pool) = setup().await;
    run_sync(&pool, &sim, false).await;
    sim.clear_received();
    let again = run_sync(&pool, &sim, false).await;
    assert!(again.iter().all(|c| !c.full), "{again:?}");
    let asked: Vec<String> = sim
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/organisationUnits"))
        .map(|r| r.query.unwrap_or_default())
        .collect();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].contains("filter=lastUpdated%3Age%3A2024-01-01T00%3A00%3A00.000"),
        "{asked:?}"
    );
    assert!(
        asked[0].contains("paging=true") && asked[0].contains("pageSize=500"),
        "{asked:?}"
    );

    // DHIS2 deletes a facility and a data element: only a full sync can tell.
    let mut smaller = SimConfig::default();
    smaller
        .seed
        .organisation_units
        .retain(|o| o.id != "zYNKa5EPTlf");
    for set in &mut smaller.seed.data_sets {
        set.organisation_units.retain(|o| o != "zYNKa5EPTlf");
        set.data_elements.retain(|d| d != "aT56MgCUvJ8");
    }
    smaller.seed.data_elements.retain(|d| d.id != "aT56MgCUvJ8");
    let sim2 = simulator(smaller).await;
    let incremental = run_sync(&pool, &sim2, false).await;
    assert!(incremental.iter().all(|c| c.removed == 0));
    let full = run_sync(&pool, &sim2, true).await;
    let removed: Vec<(&str, u64)> = full
        .iter()
        .filter(|c| c.removed > 0)
        .map(|c| (c.collection, c.removed))
        .collect();
    assert_eq!(removed, [("organisationUnits", 1), ("dataElements", 1)]);
    let client = pool.get().await.unwrap();
    let left: i64 = client
        .query_one("SELECT count(*) FROM dhis2_org_units", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 14);
}

#[tokio::test]
async fn a_failing_dhis2_keeps_the_previous_state() {
    let (_admin, sim, pool) = setup().await;
    run_sync(&pool, &sim, false).await;
    let mut settings = Settings::defaults();
    deliver_to(&mut settings, &sim);
    sim.shutdown().await;
    let client = Dhis2Client::new(&settings.api).unwrap();
    let err = sync::sync(&pool, &client, SyncOptions { full: true })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("organisationUnits"), "{err}");
    let conn = pool.get().await.unwrap();
    let units: i64 = conn
        .query_one("SELECT count(*) FROM dhis2_org_units", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(units, 15, "a failed full sync removes nothing");
}

#[tokio::test]
async fn run_job_sync_works_from_the_command_line() {
    let (admin, sim, pool) = setup().await;
    let config = config_file(&format!(
        "database:\n  uri: {}\napi:\n  dhis2_base_url: {}\n  dhis2_user: admin\n  dhis2_password: district\n",
        admin.app.db_url,
        sim.base_url()
    ));
    let path = config.path().to_str().unwrap().to_owned();
    let args = |extra: &'static [&'static str]| {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            let mut all = vec!["--config-file", path.as_str()];
            all.extend_from_slice(extra);
            run(&all, &[])
        })
    };
    let out = args(&["run-job", "sync"]).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("organisationUnits: 15 fetched (full), 0 removed"),
        "{stdout}"
    );
    let out = args(&["run-job", "sync", "--full"]).await.unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("dataSets: 2 fetched (full)"));
    let out = args(&["run-job", "sync"]).await.unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("(incremental)"));
    let synced: i64 = pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM dhis2_metadata_sync WHERE last_full_at IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(synced, 6);
}
