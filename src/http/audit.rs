//! The request audit log at the HTTP edge: [`record`] around every `/api/v2` request (method,
//! route template, user, status, duration, the submission it logged), handed to the writer task
//! without waiting (`db/audit.rs`); [`note_caller`] inside the guard notes who called; and
//! `GET /api/v2/audit` (admin) lists the log, newest first, in keyset pages.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::auth::Principal;
use crate::db::audit::{AuditFilter, AuditRecord, NOTES, RequestNotes};
use crate::http::auth::ApiAuth;
use crate::http::policy;
use crate::http::{ApiError, FieldError, Tag};
use crate::state::AppState;

/// The method as a static string (the record keeps no copy of it).
fn method_name(method: &poem::http::Method) -> &'static str {
    use poem::http::Method as M;
    match *method {
        M::GET => "GET",
        M::POST => "POST",
        M::PUT => "PUT",
        M::DELETE => "DELETE",
        M::PATCH => "PATCH",
        M::HEAD => "HEAD",
        M::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Around every request: an `/api/v2` one is timed and recorded once answered.
pub async fn record<E: Endpoint>(
    state: AppState,
    ep: Arc<E>,
    req: Request,
) -> poem::Result<Response> {
    let path = req.uri().path();
    if !policy::is_guarded(path) || state.settings().http.audit_keep_days == 0 {
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    let started = Instant::now();
    let at = Utc::now();
    let method = method_name(req.method());
    let route = policy::decide(method, path).map_or("(no route)", |r| r.path);
    let (result, notes) = NOTES
        .scope(RequestNotes::default(), async move {
            let result = ep.call(req).await.map(IntoResponse::into_response);
            let notes = NOTES.with(|n| (n.user.take(), n.submission_id.get()));
            (result, notes)
        })
        .await;
    let status = match &result {
        Ok(resp) => resp.status().as_u16(),
        Err(e) => e.status().as_u16(),
    };
    let (user, submission_id) = notes;
    let (user_id, username) = match user {
        Some((id, name)) => (Some(id), Some(name)),
        None => (None, None),
    };
    state.audit().record(AuditRecord {
        at,
        method,
        route,
        user_id,
        username,
        status: status as i16,
        duration_us: i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX),
        submission_id,
    });
    result
}

/// Inside the guard: notes the authenticated caller for the record.
pub async fn note_caller<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    if let Some(principal) = req.extensions().get::<Principal>() {
        let user = (principal.user_id, principal.username.clone());
        let _ = NOTES.try_with(|n| n.user.set(Some(user)));
    }
    ep.call(req).await.map(IntoResponse::into_response)
}

pub struct AuditApi {
    pub state: AppState,
}

/// One API request.
#[derive(Debug, Object)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub method: String,
    /// The route template, e.g. `/api/v2/logs/{id}` (`(no route)` for a path no route has).
    pub route: String,
    #[oai(nullable)]
    pub user_id: Option<i64>,
    /// Absent when the request was not authenticated (refused, or a public route).
    #[oai(nullable)]
    pub username: Option<String>,
    pub status: i16,
    pub duration_ms: f64,
    /// The submission the request logged, if it logged one.
    #[oai(nullable)]
    pub submission_id: Option<i64>,
}

#[derive(Debug, Object)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[oai(nullable)]
    pub next_before: Option<i64>,
    /// Records this instance dropped since it started because its writer fell behind.
    pub dropped_since_start: u64,
}

const MAX_PAGE: i64 = 500;

#[OpenApi(tag = "Tag::Users")]
impl AuditApi {
    /// The request audit log (admin), newest first, in pages of `limit` (default 100, at most
    /// 500). Kept `http.audit_keep_days` days; written a moment after each request.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/api/v2/audit", method = "get")]
    async fn list_audit(
        &self,
        _auth: ApiAuth,
        /// Exact username.
        username: Query<Option<String>>,
        /// `GET`, `POST`, `PUT`, `DELETE`.
        method: Query<Option<String>>,
        /// Exact route template, e.g. `/api/v2/aggregate`.
        route: Query<Option<String>>,
        /// HTTP status, e.g. 401.
        #[oai(validator(minimum(value = "-32768"), maximum(value = "32767")))]
        status: Query<Option<i16>>,
        submission_id: Query<Option<i64>>,
        /// From this instant (RFC 3339), included.
        from: Query<Option<DateTime<Utc>>>,
        /// Until this instant (RFC 3339), excluded.
        to: Query<Option<DateTime<Utc>>>,
        /// `next_before` of the previous page.
        before: Query<Option<i64>>,
        /// 1 to 500; default 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<i64>>,
    ) -> Result<Json<AuditPage>, ApiError> {
        let limit = limit.0.unwrap_or(100);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::bad_request(
                "invalid limit",
                vec![FieldError {
                    field: "limit".into(),
                    message: format!("must be between 1 and {MAX_PAGE}"),
                }],
            ));
        }
        let filter = AuditFilter {
            username: username.0,
            method: method.0.map(|m| m.to_ascii_uppercase()),
            route: route.0,
            status: status.0,
            submission_id: submission_id.0,
            from: from.0,
            to: to.0,
            before: before.0,
            limit: limit + 1,
        };
        let db = self
            .state
            .db()
            .get()
            .await
            .map_err(|e| ApiError::unavailable("PostgreSQL", &e))?;
        let mut rows = crate::db::audit::list(&**db, &filter)
            .await
            .map_err(|e| ApiError::unavailable("PostgreSQL", &e))?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_before = if more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        Ok(Json(AuditPage {
            items: rows
                .into_iter()
                .map(|r| AuditEntry {
                    id: r.id,
                    at: r.record.at,
                    method: r.method,
                    route: r.route,
                    user_id: r.record.user_id,
                    username: r.record.username,
                    status: r.record.status,
                    duration_ms: r.record.duration_us as f64 / 1000.0,
                    submission_id: r.record.submission_id,
                })
                .collect(),
            next_before,
            dropped_since_start: self.state.audit().dropped(),
        }))
    }
}
