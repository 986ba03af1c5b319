//! Builds the daemon (config → pools → migrations → listener) and runs it until shutdown.
//! `main` and the integration tests both go through [`Application::build`]. Its long-running
//! tasks are registered with [`Application::supervise`] and run under [`supervise`]: one that
//! dies stops the daemon with [`TaskDied`](crate::supervise::TaskDied).

use std::sync::Arc;

use anyhow::Context;
use poem::Server;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use tokio::sync::watch;

use crate::config::Settings;
use crate::scheduler::Scheduler;
use crate::state::AppState;
use crate::supervise::{self, DEAD_TASK_LINGER, Stop, TaskOutput, Tasks};
use crate::{db, http, queue};

pub struct Application {
    acceptor: TcpAcceptor,
    port: u16,
    state: AppState,
    settings_tx: watch::Sender<Arc<Settings>>,
    /// Started by [`Application::run_until`] beside the HTTP server.
    tasks: Tasks,
}

impl Application {
    /// Connects, applies pending migrations and binds the listener (port 0 picks a free one).
    /// Fails when the database cannot be migrated: serving an old schema would corrupt data.
    pub async fn build(mut settings: Settings) -> anyhow::Result<Application> {
        let pool = db::connect(&settings.database).context("database.uri")?;
        let applied = db::migrate::run(&pool)
            .await
            .context("applying database migrations")?;
        for name in &applied {
            tracing::info!(migration = %name, "applied migration");
        }
        // With auth.jwt_secret empty, the secret every instance shares (auth/jwt.rs).
        crate::auth::jwt::use_stored_secret(&pool, &mut settings.auth)
            .await
            .context("reading the shared JWT secret")?;
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
        let mut app = Application {
            acceptor,
            port,
            state,
            settings_tx,
            tasks: Tasks::default(),
        };
        app.supervise_background_tasks();
        Ok(app)
    }

    /// The tasks every instance runs beside the HTTP server, each draining on the stop signal.
    fn supervise_background_tasks(&mut self) {
        // One LISTEN connection keeps the in-memory caches honest and wakes the reconciler.
        let listener = db::notify::Listener::new(self.state.settings().database.uri.clone())
            .subscribe(self.state.submissions().events())
            .subscribe(self.state.auth_cache().clone());
        self.supervise("notification listener", move |stop| listener.run(stop));
        // The delivery workers and the reconciler.
        let submissions = self.state.submissions().clone();
        self.supervise("delivery workers", move |stop| async move {
            submissions.run_background(stop).await
        });
        // Alert notifications: the queued deliveries and their reconciler.
        let deliverer = crate::notify::deliver::Deliverer::new(
            self.state.db().clone(),
            self.state.redis(),
            self.state.settings_receiver(),
        );
        self.supervise("notification deliveries", move |stop| deliverer.run(stop));
        // The request audit log's writer: batches what the HTTP edge records (db/audit.rs).
        if let Some(records) = self.state.audit().take_receiver() {
            let pool = self.state.db().clone();
            let settings = self.state.settings_receiver();
            self.supervise("request audit writer", move |stop| {
                db::audit::run_writer(pool, records, settings, stop)
            });
        }
        // The cron jobs; each firing is claimed in PostgreSQL, so every instance runs this.
        let scheduler = Scheduler::new(
            self.state.scheduler().clone(),
            self.state.settings_receiver(),
        );
        let grace = self.state.settings().shutdown_grace();
        self.supervise("scheduler", move |mut stop| async move {
            let stopped = async move {
                let _ = stop.wait_for(|stopping| *stopping).await;
            };
            scheduler.run(stopped, grace).await;
        });
    }

    /// Registers a long-running task, started by [`Application::run_until`]: `start` gets the
    /// stop signal and returns the task's future, which must end soon after the signal turns
    /// true. A task that ends before (panic, error or return) stops the daemon with a failure.
    /// `serve` adds the configuration reloader and the watchdog this way; the integration
    /// tests inject a panicking task through it to exercise the supervision.
    pub fn supervise<F, Fut>(&mut self, name: &'static str, start: F) -> &mut Self
    where
        F: FnOnce(Stop) -> Fut + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TaskOutput,
    {
        self.tasks.add(name, start);
        self
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

    /// Serves and runs the registered tasks until `shutdown` resolves, then stops accepting and
    /// gives in-flight requests and deliveries `server.shutdown_grace_secs` to finish. Should a
    /// task die first, `/ready` names it for [`DEAD_TASK_LINGER`], the same drain follows and
    /// the answer is the [`TaskDied`](crate::supervise::TaskDied) error.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            acceptor,
            port,
            state,
            mut tasks,
            ..
        } = self;
        let settings = state.settings();
        let routes = http::routes(&state);
        tracing::info!(
            port,
            host = %settings.server.host,
            tasks = ?tasks.names(),
            "dhis2gw listening"
        );
        let grace = settings.shutdown_grace();
        tasks.add("HTTP server", move |mut stop: Stop| async move {
            let stopped = async move {
                let _ = stop.wait_for(|stopping| *stopping).await;
            };
            Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(routes, stopped, Some(grace))
                .await
        });
        let result = supervise::run(tasks, shutdown, state.tasks(), DEAD_TASK_LINGER).await;
        state.redis().quit().await;
        state.db().close();
        Ok(result?)
    }
}
