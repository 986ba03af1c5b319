//! fred clients built from `server.redis_address`, `server.redis_db` and `server.redis_password`.
//! Producers and consumers are built by this one function, so they always agree on the database
//! and the key prefix.

use std::time::Duration;

use fred::prelude::*;
use fred::types::config::{ConnectionConfig, ReconnectPolicy, TlsConnector};

use crate::config::ServerSettings;

/// A pool for ordinary commands, and a dedicated client for blocking pops (a blocking command
/// holds its connection, so it must not share one with anything else).
#[derive(Clone)]
pub struct RedisClients {
    pub pool: Pool,
    pub blocking: Client,
    /// Every key dhis2gw writes starts with this (`<queue_prefix>:`).
    pub prefix: String,
}

impl RedisClients {
    /// A key under the configured prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// PING with a short deadline; used by `/ready`.
    pub async fn ping(&self, deadline: Duration) -> Result<(), Error> {
        let options = Options {
            timeout: Some(deadline),
            max_attempts: Some(1),
            ..Default::default()
        };
        let _: String = self.pool.next().with_options(&options).ping(None).await?;
        Ok(())
    }

    /// Waits (at most `deadline`) for the pool's first connection. Short-lived users (the CLI)
    /// call it so that their first command does not fail fast on a connection still opening.
    pub async fn wait_connected(&self, deadline: Duration) -> bool {
        matches!(
            tokio::time::timeout(deadline, self.pool.wait_for_connect()).await,
            Ok(Ok(()))
        )
    }

    pub async fn quit(&self) {
        let _ = self.pool.quit().await;
        let _ = self.blocking.quit().await;
    }
}

pub fn config(settings: &ServerSettings) -> Result<Config, Error> {
    let mut config = Config::from_url(&settings.redis_address)?;
    config.database = Some(settings.redis_db);
    if !settings.redis_password.is_empty() {
        config.password = Some(settings.redis_password.clone());
    }
    if settings.redis_address.starts_with("rediss://") {
        config.tls = Some(TlsConnector::default_rustls()?.into());
    }
    Ok(config)
}

/// Builds and starts the clients. They reconnect forever in the background, so Redis being
/// down at start (or later) shows in `/ready` and in queue errors, never as a crash.
pub async fn connect(settings: &ServerSettings, pool_size: usize) -> Result<RedisClients, Error> {
    let config = config(settings)?;
    let connection = ConnectionConfig {
        connection_timeout: Duration::from_secs(2),
        internal_command_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let policy = ReconnectPolicy::new_exponential(0, 100, 2_000, 2);
    let pool = Builder::from_config(config.clone())
        .with_connection_config(|c| *c = connection.clone())
        .set_policy(policy.clone())
        .build_pool(pool_size.max(1))?;
    let blocking = Builder::from_config(config)
        .with_connection_config(|c| *c = connection.clone())
        .set_policy(policy)
        .build()?;
    // init() waits for the first connection; spawn instead so a down Redis does not block start.
    // Dropping the join handles leaves the connection tasks running.
    drop(pool.connect_pool());
    drop(blocking.connect());
    let prefix = if settings.queue_prefix.is_empty() {
        String::new()
    } else {
        format!("{}:", settings.queue_prefix)
    };
    Ok(RedisClients {
        pool,
        blocking,
        prefix,
    })
}
