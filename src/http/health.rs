//! `GET /health` (the process answers) and `GET /ready` (dependencies answer, schema current,
//! background tasks alive).

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::health::readiness;
use crate::http::Tag;
use crate::state::AppState;

pub struct HealthApi {
    pub state: AppState,
}

#[derive(Debug, Object)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    pub version: String,
    pub uptime_secs: u64,
}

/// `ok`, or what is wrong with that dependency.
#[derive(Debug, Object)]
pub struct Checks {
    pub postgres: String,
    pub redis: String,
    pub migrations: String,
    /// `ok`, or the background task that died (delivery workers, notification listener, ...):
    /// dhis2gw then drains and exits with status 70 so that systemd restarts it.
    pub tasks: String,
}

#[derive(Debug, Object)]
pub struct ReadyBody {
    /// `ready` or `unavailable`.
    pub status: String,
    pub checks: Checks,
}

#[derive(Debug, ApiResponse)]
pub enum ReadyResponse {
    /// PostgreSQL and Redis answer, the schema is current, the background tasks run.
    #[oai(status = 200)]
    Ready(Json<ReadyBody>),
    /// Something is down, or a background task died; `checks` names it.
    #[oai(status = 503)]
    Unavailable(Json<ReadyBody>, #[oai(header = "Retry-After")] u64),
}

#[OpenApi(tag = "Tag::Health")]
impl HealthApi {
    /// Liveness: answers while the process runs, whatever its dependencies do.
    #[oai(path = "/health", method = "get")]
    async fn health(&self) -> Json<Health> {
        Json(Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_secs: self.state.uptime_secs(),
        })
    }

    /// Readiness: 200 only when PostgreSQL and Redis answer, migrations are current and every
    /// background task runs.
    #[oai(path = "/ready", method = "get")]
    async fn ready(&self) -> ReadyResponse {
        let r = readiness(&self.state).await;
        let show = |c: &Option<String>| c.clone().unwrap_or_else(|| "ok".into());
        let checks = Checks {
            postgres: show(&r.postgres),
            redis: show(&r.redis),
            migrations: show(&r.migrations),
            tasks: show(&r.tasks),
        };
        if r.is_ready() {
            ReadyResponse::Ready(Json(ReadyBody {
                status: "ready".into(),
                checks,
            }))
        } else {
            ReadyResponse::Unavailable(
                Json(ReadyBody {
                    status: "unavailable".into(),
                    checks,
                }),
                2,
            )
        }
    }
}
