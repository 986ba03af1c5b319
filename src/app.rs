//! Builds the daemon (config → pools → migrations → listener) and runs it until shutdown.
//! `main` and the integration tests both go through [`Application::build`].

use std::sync::Arc;

use anyhow::Context;
use poem::Server;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use tokio::sync::watch;

use crate::config::Settings;
use crate::state::AppState;
use crate::{db, http, queue};

pub struct Application {
    acceptor: TcpAcceptor,
    port: u16,
    state: AppState,
    settings_tx: watch::Sender<Arc<Settings>>,
}

impl Application {
    /// Connects, applies pending migrations and binds the listener (port 0 picks a free one).
    /// Fails when the database cannot be migrated: serving an old schema would corrupt data.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let pool = db::connect(&settings.database).context("database.uri")?;
        let applied = db::migrate::run(&pool)
            .await
            .context("applying database migrations")?;
        for name in &applied {
            tracing::info!(migration = %name, "applied migration");
        }
        crate::auth::bootstrap::ensure_admin(&pool, &settings.auth)
            .await
            .context("creating the first admin user")?;
        let redis = queue::connect(&settings.server, 4)
            .await
            .context("server.redis_address")?;
        let addr = settings.listen_addr();
        let acceptor = TcpListener::bind(addr.clone())
            .into_acceptor()
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().map(|s| s.port()))
            .context("listener has no TCP address")?;
        let (settings_tx, settings_rx) = watch::channel(Arc::new(settings));
        let state = AppState::new(settings_rx, pool, redis);
        Ok(Application {
            acceptor,
            port,
            state,
            settings_tx,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Where SIGHUP sends reloaded settings.
    pub fn settings_sender(&self) -> watch::Sender<Arc<Settings>> {
        self.settings_tx.clone()
    }

    /// Serves (and runs the delivery workers) until `shutdown` resolves, then stops accepting
    /// and gives in-flight requests and deliveries `server.shutdown_grace_secs` to finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            acceptor,
            port,
            state,
            ..
        } = self;
        let settings = state.settings();
        let routes = http::routes(&state);
        tracing::info!(
            port,
            host = %settings.server.host,
            "dhis2gw listening"
        );
        // Delivery workers and the reconciler run beside the HTTP server and drain with it.
        let (stop_workers, workers_stop) = watch::channel(false);
        // One LISTEN connection keeps the in-memory caches honest and wakes the reconciler.
        let listener = db::notify::Listener::new(settings.database.uri.clone())
            .subscribe(state.submissions().events())
            .subscribe(state.auth_cache().clone());
        let listener = tokio::spawn(listener.run(workers_stop.clone()));
        let workers = {
            let submissions = state.submissions().clone();
            tokio::spawn(async move { submissions.run_background(workers_stop).await })
        };
        let shutdown = async move {
            shutdown.await;
            let _ = stop_workers.send(true);
        };
        let result = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(routes, shutdown, Some(settings.shutdown_grace()))
            .await;
        let _ = workers.await;
        let _ = listener.await;
        state.redis().quit().await;
        state.db().close();
        result.context("HTTP server failed")
    }
}
