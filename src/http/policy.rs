//! WHO MAY CALL WHAT: the one table of role decisions for every route under `/api/v2`.
//!
//! Deny by default. [`guard`](crate::http::auth::guard) looks up every `/api/v2` request here
//! before any handler runs: no line → 403 for everyone; `PUBLIC` → no credentials needed;
//! otherwise the caller must authenticate (401) and have one of the listed roles (403).
//!
//! ## Adding a route
//! Add ONE line to [`RULES`], with the method and the path exactly as in the handler's
//! `#[oai(path = …)]` (with `{param}` placeholders):
//! ```text
//!     rule("GET", "/api/v2/things/{uid}", READERS),
//! ```
//! The access levels are the constants below (`PUBLIC`, `ANY_ROLE`, `READERS`, `SUBMITTERS`,
//! `ADMIN`, `OPERATORS`). The test `users::route_role_matrix` walks the OpenAPI document and fails for a
//! route without a line, and checks each role against it. Finer rules that depend on the object
//! (a submitter requeues only its own submissions, a user changes only its own password) stay
//! in the handler, which gets the caller as `auth: ApiAuth`.

use crate::auth::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials (login, refresh, logout).
    Public,
    /// Authenticated callers with one of these roles.
    Roles(&'static [Role]),
}

pub const PUBLIC: Access = Access::Public;
/// Every authenticated user, whatever the role.
pub const ANY_ROLE: Access = Access::Roles(&[Role::Admin, Role::Submitter, Role::Viewer]);
/// Read-only routes: logs, mappings, alerts (the handler narrows a submitter to its own data
/// where the issue says so).
pub const READERS: Access = ANY_ROLE;
/// Submitting data and requeueing submissions.
pub const SUBMITTERS: Access = Access::Roles(&[Role::Admin, Role::Submitter]);
pub const ADMIN: Access = Access::Roles(&[Role::Admin]);
/// Operations pages (scheduled jobs): admins and viewers, not submitters.
pub const OPERATORS: Access = Access::Roles(&[Role::Admin, Role::Viewer]);

/// One role decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub method: &'static str,
    /// Path template as in the OpenAPI document, e.g. `/api/v2/users/{uid}`.
    pub path: &'static str,
    pub access: Access,
}

const fn rule(method: &'static str, path: &'static str, access: Access) -> Rule {
    Rule {
        method,
        path,
        access,
    }
}

/// Every route under /api/v2 and who may call it.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    // sessions (JWT)
    rule("POST",   "/api/v2/auth/login",                  PUBLIC),
    rule("POST",   "/api/v2/auth/refresh",                PUBLIC),
    rule("POST",   "/api/v2/auth/logout",                 PUBLIC),
    // users and API tokens
    rule("GET",    "/api/v2/me",                          ANY_ROLE),
    rule("POST",   "/api/v2/user",                        ADMIN),
    rule("POST",   "/api/v2/users",                       ADMIN),
    rule("GET",    "/api/v2/users",                       ADMIN),
    rule("GET",    "/api/v2/users/{uid}",                 ADMIN),
    rule("PUT",    "/api/v2/users/{uid}",                 ADMIN),
    rule("DELETE", "/api/v2/users/{uid}",                 ADMIN),
    rule("POST",   "/api/v2/users/{uid}/password",        ANY_ROLE), // own, or any as admin
    rule("POST",   "/api/v2/users/getToken",              ANY_ROLE),
    rule("POST",   "/api/v2/users/refreshToken",          ANY_ROLE),
    rule("GET",    "/api/v2/users/{uid}/tokens",          ADMIN),
    rule("DELETE", "/api/v2/users/{uid}/tokens/{token_id}", ADMIN),
    // submissions (pre-filled from the original's routes; owners adjust)
    rule("POST",   "/api/v2/aggregate",                   SUBMITTERS),
    rule("POST",   "/api/v2/tracker",                     SUBMITTERS),
    rule("POST",   "/api/v2/dataValueSets",               SUBMITTERS),
    rule("GET",    "/api/v2/aggregate/reenqueue/{task_id}", SUBMITTERS), // own, or any as admin
    rule("POST",   "/api/v2/aggregate/reenqueue/{task_id}", SUBMITTERS), // own, or any as admin
    rule("POST",   "/api/v2/aggregate/reenqueue/batch",   SUBMITTERS), // own, or any as admin
    // submission logs
    rule("GET",    "/api/v2/logs",                        READERS),
    rule("GET",    "/api/v2/logs/{id}",                   READERS),
    rule("DELETE", "/api/v2/logs/{id}",                   ADMIN),
    rule("DELETE", "/api/v2/logs/purge",                  ADMIN),
    rule("POST",   "/api/v2/logs/{id}/restart",           SUBMITTERS), // own, or any as admin
    rule("POST",   "/api/v2/logs/requeue",                ADMIN),
    // mappings
    rule("GET",    "/api/v2/mappings",                    READERS),
    rule("POST",   "/api/v2/mappings",                    ADMIN),
    rule("DELETE", "/api/v2/mappings",                    ADMIN),
    rule("GET",    "/api/v2/mappings/{uid}",              READERS),
    rule("PUT",    "/api/v2/mappings/{uid}",              ADMIN),
    rule("DELETE", "/api/v2/mappings/{uid}",              ADMIN),
    rule("GET",    "/api/v2/mappings/export/excel",       READERS),
    rule("GET",    "/api/v2/mappings/export/csv",         READERS),
    rule("GET",    "/api/v2/mappings/export/excel-template", READERS),
    rule("POST",   "/api/v2/mappings/import/csv",         ADMIN),
    rule("POST",   "/api/v2/mappings/import/excel",       ADMIN),
    // scheduled jobs
    rule("GET",    "/api/v2/jobs",                        OPERATORS),
    rule("GET",    "/api/v2/jobs/{name}/runs",            OPERATORS),
    rule("POST",   "/api/v2/jobs/{name}/run",             ADMIN),
    // recorded alerts
    rule("GET",    "/api/v2/alerts",                      OPERATORS),
    rule("GET",    "/api/v2/alerts/{id}",                 OPERATORS),
    rule("POST",   "/api/v2/alerts/{id}/acknowledge",     ADMIN),
    // alert notifications
    rule("GET",    "/api/v2/deliveries",                  OPERATORS),
    rule("POST",   "/api/v2/deliveries/{id}/retry",       ADMIN),
    rule("GET",    "/api/v2/recipients",                  OPERATORS),
    // alert rules: admins write, viewers read, submitters nothing
    rule("GET",    "/api/v2/alert-rules",                 OPERATORS),
    rule("POST",   "/api/v2/alert-rules",                 ADMIN),
    rule("GET",    "/api/v2/alert-rules/{id}",            OPERATORS),
    rule("PUT",    "/api/v2/alert-rules/{id}",            ADMIN),
    rule("DELETE", "/api/v2/alert-rules/{id}",            ADMIN),
    rule("POST",   "/api/v2/alert-rules/import/csv",      ADMIN),
    rule("GET",    "/api/v2/alert-rules/export/csv",      OPERATORS),
    // the delivery queue at a glance (console)
    rule("GET",    "/api/v2/queue/stats",                 OPERATORS),
    rule("GET",    "/api/v2/queue",                       OPERATORS), // same answer as /queue/stats
    // the request audit log
    rule("GET",    "/api/v2/audit",                       ADMIN),
];

/// The prefix every rule lives under; other paths (health, OpenAPI, swagger) are not guarded.
pub const GUARDED_PREFIX: &str = "/api/v2";

pub fn is_guarded(path: &str) -> bool {
    path == GUARDED_PREFIX || path.starts_with("/api/v2/")
}

/// Whether a request path fits a template; returns a score with one bit per segment, the first
/// segment highest, set where a literal matched (so `/logs/purge` beats `/logs/{id}`). Runs
/// twice per API request (the guard, the audit log), so it allocates nothing.
fn fit(template: &str, path: &str) -> Option<u64> {
    let mut t = template.split('/');
    let mut p = path.split('/');
    let mut score = 0u64;
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(score),
            (Some(t), Some(p)) => {
                let literal = if t.starts_with('{') && t.ends_with('}') {
                    if p.is_empty() {
                        return None;
                    }
                    false
                } else if t == p {
                    true
                } else {
                    return None;
                };
                score = (score << 1) | u64::from(literal);
            }
            _ => return None,
        }
    }
}

/// The rule for a request (method, concrete path); the most literal template wins.
pub fn decide(method: &str, path: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case(method))
        .filter_map(|r| fit(r.path, path).map(|score| (score, r)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, r)| r)
}

/// Whether some rule, of any method, fits this path: a request with another method is then a
/// 405 (with `Allow`, see `http::allow`), not a 403.
pub fn path_known(path: &str) -> bool {
    RULES.iter().any(|r| fit(r.path, path).is_some())
}

/// The rule written for exactly this template (the route × role test uses it).
pub fn rule_for_template(method: &str, template: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == template)
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public => true,
            Access::Roles(roles) => roles.contains(&role),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win_and_unknown_is_denied() {
        assert_eq!(
            decide("DELETE", "/api/v2/logs/purge").unwrap().path,
            "/api/v2/logs/purge"
        );
        assert_eq!(
            decide("DELETE", "/api/v2/logs/17").unwrap().path,
            "/api/v2/logs/{id}"
        );
        assert_eq!(
            decide("post", "/api/v2/users/getToken").unwrap().access,
            ANY_ROLE
        );
        assert_eq!(
            decide("POST", "/api/v2/users/abc/password").unwrap().access,
            ANY_ROLE
        );
        assert!(decide("GET", "/api/v2/nothing").is_none());
        assert!(decide("PATCH", "/api/v2/users/abc").is_none());
        assert!(decide("GET", "/api/v2/users//").is_none());
    }

    #[test]
    fn no_duplicate_rules() {
        for (i, a) in RULES.iter().enumerate() {
            for b in &RULES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "duplicate rule {a:?}"
                );
            }
        }
    }
}
