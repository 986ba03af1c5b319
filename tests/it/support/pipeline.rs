//! The submission pipeline under test: the app on port 0 delivering to an in-process DHIS2
//! simulator, users with API tokens, the standard mappings, and
//! [`Env::run_pending_deliveries`], which delivers what was accepted so that end-to-end tests
//! read as plain async tests. The few tests that watch the background workers' real timing
//! start with [`Env::start_with_workers`] and wait with [`Env::wait_until_delivered`].

use std::time::{Duration, Instant};

use dhis2_sim::{self as sim, SimConfig, SimHandle};
use dhis2gw::auth::Role;
use dhis2gw::config::Settings;
use dhis2gw::db::mappings::{self, MappingFields};
use reqwest::Method;
use serde_json::{Value, json};

use super::users::{self, TestUser};
use super::{Deliveries, TestApp, test_settings};

/// Kalanda (the simulator's seed): the monthly malaria data set and a facility in it.
pub const DATA_SET: &str = "S6zKJrYKAzR";
pub const ORG_UNIT: &str = "KFZHpp8BEUA";
pub const MAL_CONF: &str = "rPRf4cXHEIx";
pub const MAL_SUSP: &str = "gLEO1XbX0ii";
pub const MAL_TESTED: &str = "mxMvRmuC81k";
pub const ACT_STOCK: &str = "Yr3WEPlBeFP";
pub const COC_F_LT5: &str = "uEnSlE7fIwv";
pub const COC_M_LT5: &str = "vvpHelatF3K";
/// A source org-unit code mapped to [`ORG_UNIT`].
pub const FACILITY_CODE: &str = "FAC-MOY-CHC";

/// A caller with its `Authorization: Token …` header.
#[derive(Clone)]
pub struct Caller {
    pub user: TestUser,
    pub authorization: String,
}

pub struct Env {
    pub app: TestApp,
    pub sim: SimHandle,
    pub admin: Caller,
    pub submitter: Caller,
}

/// Settings that deliver to `sim` with fast retries.
pub fn deliver_to(settings: &mut Settings, sim: &SimHandle) {
    settings.api.dhis2_base_url = sim.base_url();
    settings.api.dhis2_user = "admin".into();
    settings.api.dhis2_password = "district".into();
    settings.server.retry_backoff_base_ms = 20;
    settings.server.retry_backoff_cap_ms = 100;
    settings.server.max_retries = 3;
}

impl Env {
    pub async fn start() -> Env {
        Env::start_with(|_| {}).await
    }

    /// Starts the simulator and the app (`tweak` sees the settings last) with the standard
    /// mappings and an admin and a submitter. Nothing is delivered until the test calls
    /// [`Env::run_pending_deliveries`].
    pub async fn start_with(tweak: impl FnOnce(&mut Settings)) -> Env {
        Env::start_delivering(tweak, Deliveries::OnRequest).await
    }

    /// As [`Env::start_with`], with the app's background workers delivering as in production.
    pub async fn start_with_workers(tweak: impl FnOnce(&mut Settings)) -> Env {
        Env::start_delivering(tweak, Deliveries::Workers).await
    }

    async fn start_delivering(tweak: impl FnOnce(&mut Settings), deliveries: Deliveries) -> Env {
        let sim = sim::start(SimConfig::default(), "127.0.0.1:0".parse().unwrap())
            .await
            .expect("simulator starts");
        let mut settings = test_settings().await;
        deliver_to(&mut settings, &sim);
        tweak(&mut settings);
        let app = TestApp::spawn_delivering(settings, deliveries).await;
        let admin = caller(&app, Role::Admin).await;
        let submitter = caller(&app, Role::Submitter).await;
        seed_mappings(&app).await;
        Env {
            app,
            sim,
            admin,
            submitter,
        }
    }

    pub async fn post(
        &self,
        caller: &Caller,
        path: &str,
        body: &Value,
        key: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .app
            .request(Method::POST, path)
            .auth(&caller.authorization)
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await
    }

    /// Submits as the submitter; asserts 200 and returns the answer.
    pub async fn submit(&self, body: &Value) -> Value {
        let response = self
            .post(&self.submitter, "/api/v2/aggregate", body, None)
            .await;
        let status = response.status();
        let answer: Value = response.json().await.expect("JSON answer");
        assert_eq!(status, 200, "submission refused: {answer}");
        answer
    }

    pub async fn get(&self, caller: &Caller, path: &str) -> reqwest::Response {
        self.app
            .request(Method::GET, path)
            .auth(&caller.authorization)
            .send()
            .await
    }

    /// The log item of a submission, as the admin sees it.
    pub async fn log(&self, id: i64) -> Value {
        let response = self.get(&self.admin, &format!("/api/v2/logs/{id}")).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Delivers every accepted submission that is due, retries included
    /// ([`TestApp::run_pending_deliveries`]).
    pub async fn run_pending_deliveries(&self) {
        self.app.run_pending_deliveries().await;
    }

    /// Waits until the background workers have settled every submission (apps started with
    /// [`Env::start_with_workers`]).
    pub async fn wait_until_delivered(&self) {
        wait_until_delivered(&self.app.db_url, Duration::from_secs(60)).await;
    }
}

/// Waits until no submission in the database at `db_url` is still owed a delivery: for the
/// tests whose deliveries run in background workers (or another process), polled because
/// nothing else says when they are done.
pub async fn wait_until_delivered(db_url: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let mut last = -1;
    loop {
        let open = open_count(db_url).await;
        if open == Some(0) {
            return;
        }
        if let Some(n) = open {
            last = n;
        }
        assert!(
            Instant::now() < deadline,
            "queue not drained: {last} submissions still open"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Open submissions, or None when the database cannot be reached.
pub async fn open_count(db_url: &str) -> Option<i64> {
    let (client, conn) = tokio_postgres::connect(db_url, tokio_postgres::NoTls)
        .await
        .ok()?;
    let conn = tokio::spawn(conn);
    let row = client
        .query_one(
            "SELECT count(*) FROM submission_log WHERE status IN ('queued', 'processing', 'retrying')",
            &[],
        )
        .await
        .ok();
    drop(client);
    let _ = conn.await;
    row.map(|r| r.get(0))
}

pub async fn caller(app: &TestApp, role: Role) -> Caller {
    let user = users::create_user(app, role).await;
    let token = users::api_token(app, &user).await;
    Caller {
        user,
        authorization: format!("Token {token}"),
    }
}

/// The standard mappings of the `default` namespace.
pub async fn seed_mappings(app: &TestApp) {
    let pool = users::pool(app);
    seed_mappings_in(&pool).await;
    pool.close();
}

/// The standard mappings, written through `pool`.
pub async fn seed_mappings_in(pool: &dhis2gw::db::Pool) {
    let client = pool.get().await.unwrap();
    let rows = [
        MappingFields::data_element("MAL_SUSP", MAL_SUSP, None),
        MappingFields::data_element("MAL_TESTED", MAL_TESTED, None),
        MappingFields::data_element("ACT_STOCK", ACT_STOCK, None),
        MappingFields::data_element("MAL_CONF_F_LT5", MAL_CONF, Some(COC_F_LT5)),
        MappingFields::data_element("MAL_CONF_M_LT5", MAL_CONF, Some(COC_M_LT5)),
        MappingFields::data_element("UNKNOWN_DE", "deUnknown01", None),
        MappingFields::org_unit(FACILITY_CODE, ORG_UNIT),
    ];
    for fields in &rows {
        mappings::insert(&client, None, fields)
            .await
            .expect("insert mapping");
    }
}

/// The original's body for the malaria data set.
pub fn aggregate_body(period: &str, values: Value) -> Value {
    json!({
        "orgUnit": ORG_UNIT,
        "orgUnitName": "Moyamba Central CHC",
        "period": period,
        "dataSet": DATA_SET,
        "dataValues": values,
    })
}
