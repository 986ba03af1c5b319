//! fred clients built from `server.redis_address`, `server.redis_db` and `server.redis_password`.
//! Producers and consumers are built by this one function, so they always agree on the database
//! and the key prefix.

use std::time::Duration;

use fred::prelude::*;
use fred::types::config::Server;
use fred::types::config::{ConnectionConfig, ReconnectPolicy, ServerConfig, TlsConnector};

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

    /// Sends QUIT on every connection, waiting at most [`QUIT_WAIT`]: a client reconnecting to
    /// a Redis that is gone holds the QUIT until it is back, which would keep a stopping daemon
    /// alive for ever.
    pub async fn quit(&self) {
        let both = async {
            let _ = self.pool.quit().await;
            let _ = self.blocking.quit().await;
        };
        if tokio::time::timeout(QUIT_WAIT, both).await.is_err() {
            tracing::warn!(
                wait_ms = QUIT_WAIT.as_millis() as u64,
                "Redis did not answer QUIT (unreachable?): its connections are dropped unanswered"
            );
        }
    }
}

/// How long stopping waits for Redis to acknowledge QUIT.
const QUIT_WAIT: Duration = Duration::from_secs(1);

pub fn config(settings: &ServerSettings) -> Result<Config, Error> {
    let mut config = Config::from_url(&settings.redis_address)?;
    config.database = Some(settings.redis_db);
    if !settings.redis_password.is_empty() {
        config.password = Some(settings.redis_password.clone());
    }
    if settings.redis_address.starts_with("rediss://") {
        config.tls = Some(TlsConnector::default_rustls()?.into());
    }
    match (
        settings.redis_sentinels.is_empty(),
        settings.redis_cluster_nodes.is_empty(),
    ) {
        (true, true) => {}
        (false, false) => {
            return Err(Error::new(
                ErrorKind::Config,
                "set server.redis_sentinels or server.redis_cluster_nodes, not both",
            ));
        }
        (false, true) => {
            config.server = ServerConfig::Sentinel {
                hosts: servers("server.redis_sentinels", &settings.redis_sentinels)?,
                service_name: settings.redis_sentinel_master.clone(),
                username: None,
                password: Some(settings.redis_sentinel_password.clone()).filter(|p| !p.is_empty()),
            };
        }
        (true, false) => {
            if settings.redis_db != 0 {
                return Err(Error::new(
                    ErrorKind::Config,
                    "Redis Cluster has only database 0: set server.redis_db to 0",
                ));
            }
            // Cluster nodes refuse SELECT, even of database 0.
            config.database = None;
            config.server = ServerConfig::Clustered {
                hosts: servers("server.redis_cluster_nodes", &settings.redis_cluster_nodes)?,
                policy: Default::default(),
            };
        }
    }
    Ok(config)
}

/// `host:port` entries of a list key.
fn servers(key: &str, entries: &[String]) -> Result<Vec<Server>, Error> {
    entries
        .iter()
        .map(|entry| {
            entry
                .trim()
                .rsplit_once(':')
                .and_then(|(host, port)| Some(Server::new(host, port.parse::<u16>().ok()?)))
                .filter(|s| !s.host.is_empty())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Config,
                        format!("{key}: {entry:?} is not host:port"),
                    )
                })
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ServerSettings {
        crate::config::Settings::defaults().server
    }

    #[test]
    fn sentinel_and_cluster_replace_the_single_server() {
        let mut s = settings();
        s.redis_address = "redis://:secret@ignored:6379".into();
        s.redis_db = 3;
        s.redis_sentinels = vec!["127.0.0.1:26850".into(), "sentinel-b:26379".into()];
        s.redis_sentinel_master = "gw".into();
        s.redis_sentinel_password = "sentinel-secret".into();
        let c = config(&s).unwrap();
        match &c.server {
            ServerConfig::Sentinel {
                hosts,
                service_name,
                password,
                ..
            } => {
                assert_eq!(hosts.len(), 2);
                assert_eq!((&*hosts[1].host, hosts[1].port), ("sentinel-b", 26379));
                assert_eq!(service_name, "gw");
                assert_eq!(password.as_deref(), Some("sentinel-secret"));
            }
            other => panic!("not Sentinel: {other:?}"),
        }
        // The data nodes' password and database still come from redis_address and redis_db.
        assert_eq!(c.password.as_deref(), Some("secret"));
        assert_eq!(c.database, Some(3));

        let mut s = settings();
        s.redis_cluster_nodes = vec!["127.0.0.1:56860".into()];
        assert!(config(&s).unwrap().server.is_clustered());
        assert_eq!(config(&s).unwrap().database, None);
        s.redis_db = 1;
        assert!(config(&s).is_err(), "Cluster has only database 0");

        let mut s = settings();
        s.redis_sentinels = vec!["a:1".into()];
        s.redis_cluster_nodes = vec!["b:2".into()];
        assert!(config(&s).is_err(), "not both");
        s.redis_cluster_nodes.clear();
        s.redis_sentinels = vec!["no-port".into()];
        assert!(config(&s).is_err());
    }
}
