//! Starts the real application in-process on port 0 against a fresh database, as `main` does,
//! delivering accepted submissions either with its background workers or only when the test
//! asks ([`TestApp::run_pending_deliveries`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use dhis2gw::app::Application;
use dhis2gw::config::{CronExpr, Settings};
use dhis2gw::state::AppState;
use reqwest::Method;
use tokio::sync::oneshot;

use super::http::ApiRequest;
use super::services::{migrated_database, services};

#[allow(dead_code)] // fields used by some test modules only
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub db_url: String,
    pub settings: Arc<Settings>,
    /// Requests go through [`TestApp::request`].
    client: reqwest::Client,
    pub state: AppState,
    /// Who delivers accepted submissions.
    pub deliveries: Deliveries,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Who delivers the submissions a test app accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deliveries {
    /// The background workers, as in production: for the tests that watch real timing.
    Workers,
    /// Nobody until the test calls [`TestApp::run_pending_deliveries`].
    OnRequest,
}

/// Settings for a test: a fresh database, the shared Redis under a prefix of its own, port 0.
pub async fn test_settings() -> Settings {
    let mut settings = Settings::defaults();
    settings.database.uri = migrated_database().await;
    settings.server.redis_address = services().redis.clone();
    // `host:port,host:port,…` of a Redis Cluster (packaging/cluster-redis.sh) instead.
    if let Ok(nodes) = std::env::var("DHIS2GW_TEST_REDIS_CLUSTER") {
        settings.server.redis_cluster_nodes = nodes.split(',').map(str::to_owned).collect();
    }
    settings.server.queue_prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    settings.server.http_port = 0;
    settings.server.shutdown_grace_secs = 5;
    // No cron job fires in a test unless the test asks for one (the scheduler tests do).
    settings.api.sync_cron_expression = CronExpr::disabled();
    settings.api.retry_cron_expression = CronExpr::disabled();
    settings
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(test_settings().await).await
    }

    pub async fn spawn_with(settings: Settings) -> TestApp {
        TestApp::spawn_delivering(settings, Deliveries::Workers).await
    }

    pub async fn spawn_delivering(settings: Settings, deliveries: Deliveries) -> TestApp {
        let db_url = settings.database.uri.clone();
        let app = Application::build(settings)
            .await
            .expect("application builds");
        if deliveries == Deliveries::OnRequest {
            // Before the app runs: its workers are never started.
            app.state().submissions().deliver_only_on_request();
        }
        let port = app.port();
        let state = app.state().clone();
        let settings = app.state().settings();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            db_url,
            settings,
            client: reqwest::Client::new(),
            state,
            deliveries,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// A request to the app (see [`ApiRequest`]).
    pub fn request(&self, method: Method, path: &str) -> ApiRequest {
        ApiRequest::new(&self.client, &self.address, method, path)
    }

    /// An anonymous GET.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path).send().await
    }

    /// Delivers every submission that is due, through the app's own delivery code, and waits
    /// out retry back-offs (milliseconds in the tests' settings) until the queue holds nothing
    /// more: the counterpart of crates.io's `run_pending_background_jobs`. A submission the
    /// queue never got stays undelivered, for the test to see.
    pub async fn run_pending_deliveries(&self) {
        assert_eq!(
            self.deliveries,
            Deliveries::OnRequest,
            "the app's workers deliver; a run beside them could miss their running jobs"
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let run = self
                .state
                .submissions()
                .run_pending()
                .await
                .expect("run pending deliveries");
            let Some(due) = run.next_retry_at else {
                return;
            };
            assert!(
                Instant::now() < deadline,
                "retries still scheduled after a minute (next at {due})"
            );
            let wait = (due - chrono::Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server ran");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
