//! A faithful fake DHIS2 server (see `docs/simulator.md`).
//!
//! It reproduces the wire format of DHIS2 2.37–2.41 for what the gateway uses: authentication
//! (Basic and personal access tokens), `system/info`, `me`, aggregate imports
//! (`POST /api/dataValueSets`, sync and async), tracker imports (`POST /api/tracker` and its
//! jobs) and metadata reads. Tests start it in-process on port 0; `dhis2-sim` runs it
//! standalone. Faults (error statuses, proxy pages, delays, hangs, dropped connections) can be
//! injected on the two data endpoints.

mod analytics;
mod app;
mod auth;
mod catalog;
mod catalog_json;
mod data_value_read;
mod data_values;
mod faults;
mod fields;
mod filters;
mod ids;
mod import;
mod import_options;
mod import_summary;
mod jobs;
mod lock;
mod metadata;
mod net;
mod not_found;
mod period;
mod request;
mod routes;
pub mod seed;
mod sms;
mod state;
mod store;
pub mod surveillance;
mod system;
mod tracker;
mod tracker_import;
mod tracker_report;
mod tracker_store;
mod value_type;
mod version;
mod webmessage;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use poem::Server;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::Fault;
pub use seed::Seed;
pub use version::Dhis2Version;

use app::SimApp;
use net::{ConnectionRegistry, KillableAcceptor};
use state::{SimState, lock};

/// How long in-flight requests may take once shutdown starts (a hung request never ends).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// What to emulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The DHIS2 version, e.g. `"2.40.3"` (2.37 to 2.41 are modelled).
    pub version: String,
    pub seed: Seed,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            version: "2.40.3".to_owned(),
            seed: Seed::builtin(),
        }
    }
}

/// One request as the simulator received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub method: String,
    /// The path as sent, e.g. `/api/40/dataValueSets`.
    pub path: String,
    pub query: Option<String>,
    /// Header names are lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The HTTP status answered; 0 when no response was sent (`Fault::Drop`, `Fault::Hang`).
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running simulator; clones share it.
#[derive(Clone)]
pub struct SimHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    state: Arc<SimState>,
    shutdown: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// Binds `addr` (port 0 picks a free port) and serves the simulator in a tokio task.
pub async fn start(cfg: SimConfig, addr: SocketAddr) -> anyhow::Result<SimHandle> {
    let version = Dhis2Version::parse(&cfg.version)?;
    let seed = match cfg.seed.surveillance.clone() {
        Some(s) => s.extend(cfg.seed),
        None => cfg.seed,
    };
    let catalog = catalog_json::build(seed).context("invalid simulator seed")?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot bind the DHIS2 simulator to {addr}"))?;
    let local = listener.local_addr()?;
    let base_url = format!("http://{}", reachable(local));
    let registry = ConnectionRegistry::default();
    let acceptor = KillableAcceptor::new(listener, registry.clone())?;
    let (shutdown, stopping) = watch::channel(false);
    let state = Arc::new(SimState::new(
        base_url,
        catalog,
        version,
        registry,
        stopping.clone(),
    ));
    let app = SimApp {
        state: state.clone(),
    };
    let task = tokio::spawn(async move {
        let mut stopping = stopping;
        let signal = async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        };
        let served = Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(app, signal, Some(SHUTDOWN_GRACE))
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "DHIS2 simulator stopped");
        }
    });
    Ok(SimHandle {
        inner: Arc::new(HandleInner {
            state,
            shutdown,
            task: Mutex::new(Some(task)),
        }),
    })
}

/// A wildcard bind address is not something a client can call: advertise loopback instead.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

impl SimHandle {
    fn state(&self) -> &SimState {
        &self.inner.state
    }

    /// `http://127.0.0.1:PORT` (no `/api`), also DHIS2's `contextPath`.
    pub fn base_url(&self) -> String {
        self.state().base_url.clone()
    }

    /// Every request that reached the simulator, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state().recorder).received.clone()
    }

    /// Bodies of `POST /api/dataValueSets` accepted for processing (authenticated, authorised,
    /// valid JSON), whatever the import outcome.
    pub fn received_data_value_sets(&self) -> Vec<Value> {
        lock(&self.state().recorder).data_value_sets.clone()
    }

    /// Bodies of `POST /api/tracker` accepted for processing.
    pub fn received_tracker(&self) -> Vec<Value> {
        lock(&self.state().recorder).tracker.clone()
    }

    /// Forgets every recorded request and body (stored data is kept).
    pub fn clear_received(&self) {
        let mut recorder = lock(&self.state().recorder);
        recorder.received.clear();
        recorder.data_value_sets.clear();
        recorder.tracker.clear();
    }

    /// The emulated version, e.g. `"2.40.3"`.
    pub fn version(&self) -> String {
        self.state().version().to_string()
    }

    /// Switches the emulated version for the following requests.
    ///
    /// # Panics
    /// When `version` is not a DHIS2 version number: this is a test helper.
    pub fn set_version(&self, version: &str) {
        let parsed = Dhis2Version::parse(version).unwrap_or_else(|e| panic!("set_version: {e}"));
        self.state().set_version(parsed);
    }

    /// Queues a fault for the next data request (faults are consumed in order).
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.state().faults).push(fault);
    }

    /// A fault applied to every data request (after queued ones) until set to `None`.
    pub fn set_fault_always(&self, fault: Option<Fault>) {
        lock(&self.state().faults).set_always(fault);
    }

    /// Extra delay before every request is handled.
    pub fn set_latency(&self, latency: Duration) {
        self.state().set_latency(latency);
    }

    /// Stops accepting, lets in-flight requests finish (hung ones are cut after a second) and
    /// waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.inner.shutdown.send(true);
        let task = lock(&self.inner.task).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
