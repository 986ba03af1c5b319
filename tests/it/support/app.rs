//! Starts the real application in-process on port 0 against a fresh database, as `main` does.

use std::sync::Arc;

use dhis2gw::app::Application;
use dhis2gw::config::Settings;
use tokio::sync::oneshot;

use super::services::{fresh_database, services};

#[allow(dead_code)] // fields used by some test modules only
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub db_url: String,
    pub settings: Arc<Settings>,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Settings for a test: a fresh database, the shared Redis under a prefix of its own, port 0.
pub async fn test_settings() -> Settings {
    let mut settings = Settings::defaults();
    settings.database.uri = fresh_database().await;
    settings.server.redis_address = services().redis.clone();
    settings.server.queue_prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    settings.server.http_port = 0;
    settings.server.shutdown_grace_secs = 5;
    settings
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(test_settings().await).await
    }

    pub async fn spawn_with(settings: Settings) -> TestApp {
        let db_url = settings.database.uri.clone();
        let app = Application::build(settings)
            .await
            .expect("application builds");
        let port = app.port();
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
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
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
