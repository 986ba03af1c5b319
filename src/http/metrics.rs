//! `GET /metrics`: the Prometheus exposition ([`crate::metrics`]), for an admin or for the bearer
//! token of `http.metrics_token`; and the middleware that counts every HTTP request.

use std::sync::Arc;
use std::time::Instant;

use fred::interfaces::ClientLike;
use poem::http::header;
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, OpenApi};
use sha2::{Digest, Sha256};

use crate::auth::Role;
use crate::db::queue_stats;
use crate::http::{ApiError, Tag};
use crate::metrics::{self, Sample};
use crate::state::AppState;

pub struct MetricsApi {
    pub state: AppState,
}

#[derive(Debug, ApiResponse)]
pub enum MetricsResponse {
    /// Prometheus text exposition format 0.0.4.
    #[oai(status = 200)]
    Exposition(PlainText<String>),
}

#[OpenApi(tag = "Tag::Health")]
impl MetricsApi {
    /// Prometheus metrics (`docs/operations.md` lists the series). For an admin (any of the
    /// API's credentials) or `Authorization: Bearer <http.metrics_token>`. Queue depth, open
    /// submissions and pool use are read when scraped.
    #[oai(path = "/metrics", method = "get")]
    async fn metrics(&self, request: &Request) -> Result<MetricsResponse, ApiError> {
        self.authorize(request).await?;
        metrics::record_sample(&sample(&self.state).await);
        Ok(MetricsResponse::Exposition(PlainText(metrics::render())))
    }
}

impl MetricsApi {
    async fn authorize(&self, request: &Request) -> Result<(), ApiError> {
        let token = self.state.settings().http.metrics_token.clone();
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(given) = given
            && !token.is_empty()
            && same_secret(given.trim(), &token)
        {
            return Ok(());
        }
        let principal = crate::http::auth::authenticate(&self.state, request).await?;
        if principal.role != Role::Admin {
            return Err(ApiError::forbidden(format!(
                "the {} role may not read /metrics",
                principal.role.as_str()
            )));
        }
        Ok(())
    }
}

/// Compares the digests, so the time taken does not depend on where the strings differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Reads what the gauges show; a source that does not answer is left out (and flagged).
async fn sample(state: &AppState) -> Sample {
    let queue = state.submissions().queue().stats().await.ok();
    let log = match state.db().get().await {
        Ok(db) => match (
            queue_stats::open_counts(&db).await,
            queue_stats::failed_last_day(&db).await,
        ) {
            (Ok(open), Ok(failed)) => Some((open.queued, open.processing, open.retrying, failed)),
            _ => None,
        },
        Err(_) => None,
    };
    let last_ok = match state.db().get().await {
        Ok(db) => db
            .query(
                "SELECT job, extract(epoch FROM max(finished_at))::float8 FROM job_runs \
                 WHERE outcome = 'ok' GROUP BY job",
                &[],
            )
            .await
            .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let redis = state.redis();
    let clients = redis.pool.clients();
    let connected = clients.iter().filter(|c| c.is_connected()).count()
        + usize::from(redis.blocking.is_connected());
    Sample {
        queue,
        log,
        pg_pool: Some(state.db().status()),
        redis_clients: (connected, clients.len() + 1),
        last_ok,
    }
}

/// Counts and times every request, by route template and status (the outermost layer, so
/// refusals by the guard, timeouts and panics are counted with the status the client got).
pub async fn observe<E: Endpoint<Output = Response>>(
    ep: Arc<E>,
    req: Request,
) -> poem::Result<Response> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = ep.call(req).await.map(IntoResponse::into_response);
    let status = match &response {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.status().as_u16(),
    };
    metrics::http_request(method.as_str(), &path, status, started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "x"));
    }
}
