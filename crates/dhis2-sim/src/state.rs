//! The simulator's shared state: immutable catalog plus the mutable parts tests poke at
//! (version, latency, faults) and the things the server accumulates (requests, data, jobs).

use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::Received;
use super::catalog::Catalog;
use super::faults::FaultPlan;
use super::jobs::JobBoard;
pub use super::lock::lock;
use super::net::ConnectionRegistry;
use super::store::DataStore;
use super::tracker_store::TrackerStore;
use super::version::Dhis2Version;

pub struct SimState {
    /// `http://host:port`, DHIS2's `contextPath`.
    pub base_url: String,
    pub catalog: Catalog,
    version: RwLock<Dhis2Version>,
    latency: Mutex<Duration>,
    pub faults: Mutex<FaultPlan>,
    pub recorder: Mutex<Recorder>,
    pub data: Mutex<DataStore>,
    pub tracker: Mutex<TrackerStore>,
    pub jobs: Mutex<JobBoard>,
    pub analytics: super::analytics::AnalyticsSwitches,
    pub connections: ConnectionRegistry,
    /// Flips to true on shutdown; hung requests wait on it.
    pub shutdown: watch::Receiver<bool>,
}

/// What the server saw, for tests to assert on.
#[derive(Default)]
pub struct Recorder {
    pub received: Vec<Received>,
    pub data_value_sets: Vec<Value>,
    pub tracker: Vec<Value>,
}

impl SimState {
    pub fn new(
        base_url: String,
        catalog: Catalog,
        version: Dhis2Version,
        connections: ConnectionRegistry,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            base_url,
            catalog,
            version: RwLock::new(version),
            latency: Mutex::new(Duration::ZERO),
            faults: Mutex::default(),
            recorder: Mutex::default(),
            data: Mutex::default(),
            tracker: Mutex::default(),
            jobs: Mutex::default(),
            analytics: Default::default(),
            connections,
            shutdown,
        }
    }

    pub fn version(&self) -> Dhis2Version {
        self.version
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set_version(&self, version: Dhis2Version) {
        *self.version.write().unwrap_or_else(PoisonError::into_inner) = version;
    }

    pub fn latency(&self) -> Duration {
        *lock(&self.latency)
    }

    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.latency) = latency;
    }

    /// Resolves once the simulator is shutting down.
    pub async fn wait_for_shutdown(&self) {
        let mut shutdown = self.shutdown.clone();
        // An error means the sender is gone, which also means shutdown.
        let _ = shutdown.wait_for(|stopping| *stopping).await;
    }
}
