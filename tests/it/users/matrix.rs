//! THE ROUTE × ROLE MATRIX, generated from the OpenAPI document: every operation under /api/v2
//! must have a decision in `http::policy` and document the security schemes; it is called
//! without credentials, as each role, as a deactivated user, with an expired JWT, a tampered JWT
//! and a revoked API token. Denied callers get 401 (no valid credentials) or 403 (role); allowed
//! ones neither; and every answer's status is one the operation documents. The expected matrix
//! is printed in docs/authentication.md between the `matrix:` markers; run with
//! `DHIS2GW_BLESS=1` to rewrite it after adding a route.

use std::time::Duration;

use dhis2gw::auth::Role;
use dhis2gw::http::policy::{self, Access};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::users::{TestUser, api_token, create_user, login, sql};
use crate::support::{TestApp, test_settings};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const SECRET: &str = "matrix-secret-long-enough-for-hs256";

/// `(method, template, operation)` of every /api/v2 operation.
fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        if !policy::is_guarded(path) {
            continue;
        }
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    ops.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    ops
}

/// The template with `{uid}` as the caller's own uid (so "own account" routes are exercised)
/// and any other parameter as `0`.
fn concrete(template: &str, caller: Option<&TestUser>) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{uid}" => caller
                .map(|c| c.uid.clone())
                .unwrap_or_else(|| "Aaaaaaaaaaa".into()),
            s if s.starts_with('{') => "0".into(),
            s => s.into(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A column of the matrix: who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Role(Role),
    /// A deactivated admin, with its right password.
    Disabled,
    /// An admin's JWT, correctly signed, past its `exp`.
    ExpiredJwt,
    /// An admin's JWT whose payload was changed after signing.
    TamperedJwt,
    /// An admin's API token, revoked.
    RevokedToken,
}

const CALLERS: [Caller; 8] = [
    Caller::Anonymous,
    Caller::Role(Role::Viewer),
    Caller::Role(Role::Submitter),
    Caller::Role(Role::Admin),
    Caller::Disabled,
    Caller::ExpiredJwt,
    Caller::TamperedJwt,
    Caller::RevokedToken,
];

impl Caller {
    fn title(self) -> &'static str {
        match self {
            Caller::Anonymous => "no credentials",
            Caller::Role(role) => role.as_str(),
            Caller::Disabled => "deactivated user",
            Caller::ExpiredJwt => "expired JWT",
            Caller::TamperedJwt => "tampered JWT",
            Caller::RevokedToken => "revoked token",
        }
    }
}

/// What the policy promises a caller: let through, 401 or 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    Status(u16),
}

fn expect(access: Access, caller: Caller) -> Expect {
    match (access, caller) {
        (Access::Public, _) => Expect::Allowed,
        (Access::Roles(_), Caller::Role(role)) if access.allows(role) => Expect::Allowed,
        (Access::Roles(_), Caller::Role(_)) => Expect::Status(403),
        (Access::Roles(_), _) => Expect::Status(401),
    }
}

/// The matrix as a Markdown table, from the spec's operations and the policy.
fn matrix_table(ops: &[(String, String, Value)]) -> String {
    let mut table = String::from("| operation |");
    for caller in CALLERS {
        table.push_str(&format!(" {} |", caller.title()));
    }
    table.push_str("\n|---|");
    table.push_str(&"---|".repeat(CALLERS.len()));
    table.push('\n');
    for (method, template, _) in ops {
        let Some(rule) = policy::rule_for_template(method, template) else {
            continue;
        };
        table.push_str(&format!("| `{method} {template}` |"));
        for caller in CALLERS {
            match expect(rule.access, caller) {
                Expect::Allowed => table.push_str(" ✓ |"),
                Expect::Status(s) => table.push_str(&format!(" {s} |")),
            }
        }
        table.push('\n');
    }
    table
}

/// The statuses an operation documents (`default` stands for any).
fn documented(op: &Value, status: u16) -> bool {
    let responses = &op["responses"];
    responses.get(status.to_string()).is_some() || responses.get("default").is_some()
}

async fn send(app: &TestApp, method: &str, path: &str, auth: Option<&str>) -> u16 {
    let mut req = app
        .request(Method::from_bytes(method.as_bytes()).unwrap(), path)
        .auth_if(auth)
        .timeout(Duration::from_secs(30));
    if method == "POST" || method == "PUT" || method == "PATCH" {
        req = req.json(&json!({}));
    }
    req.send().await.status().as_u16()
}

fn sign(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// The `Authorization` values of the failing columns, all of one admin.
struct BadCredentials {
    owner: TestUser,
    disabled: TestUser,
    expired_jwt: String,
    tampered_jwt: String,
    revoked_token: String,
}

async fn bad_credentials(app: &TestApp) -> BadCredentials {
    let owner = create_user(app, Role::Admin).await;
    let db = sql(app).await;
    let now = chrono::Utc::now().timestamp();
    let expired = sign(
        &json!({"sub": owner.uid, "username": owner.username, "role": "admin",
        "iss": "dhis2gw", "iat": now - 1000, "exp": now - 100, "jti": "m"}),
    );
    // A real session's token with its payload swapped for a longer-lived one, signature kept.
    let session = login(app, &owner).await;
    let token = session["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    payload["exp"] = json!(now + 86_400);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(payload.to_string()),
        parts[2]
    );
    let revoked = api_token(app, &owner).await;
    db.execute(
        "UPDATE user_apitoken SET is_active = false WHERE user_id = $1",
        &[&owner.user_id],
    )
    .await
    .unwrap();
    let disabled = create_user(app, Role::Admin).await;
    db.execute(
        "UPDATE users SET is_active = false WHERE id = $1",
        &[&disabled.user_id],
    )
    .await
    .unwrap();
    BadCredentials {
        owner,
        disabled,
        expired_jwt: format!("Bearer {expired}"),
        tampered_jwt: format!("Bearer {tampered}"),
        revoked_token: format!("Token {revoked}"),
    }
}

#[tokio::test]
async fn route_role_matrix() {
    let mut settings = test_settings().await;
    settings.auth.jwt_secret = SECRET.into();
    let app = TestApp::spawn_with(settings).await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    let ops = operations(&spec);
    assert!(
        ops.len() >= 13,
        "only {} operations under /api/v2",
        ops.len()
    );

    let undecided: Vec<String> = ops
        .iter()
        .filter(|(m, p, _)| policy::rule_for_template(m, p).is_none())
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert!(
        undecided.is_empty(),
        "routes without a role decision; add a line to RULES in src/http/policy.rs:\n{}",
        undecided.join("\n")
    );

    let schemes = &spec["components"]["securitySchemes"];
    for name in ["BasicAuth", "BearerAuth", "TokenAuth"] {
        assert!(schemes.get(name).is_some(), "{name} missing: {schemes}");
    }
    assert_eq!(schemes["TokenAuth"]["in"], "header");
    assert_eq!(schemes["TokenAuth"]["name"], "Authorization");
    assert_eq!(schemes["BearerAuth"]["bearerFormat"], "JWT");

    // Least privilege first, so an admin's call cannot change what the others see.
    let mut users = Vec::new();
    for role in [Role::Viewer, Role::Submitter, Role::Admin] {
        users.push(create_user(&app, role).await);
    }
    let bad = bad_credentials(&app).await;
    let mut wrong = Vec::new();
    for (method, template, op) in &ops {
        let rule = policy::rule_for_template(method, template).unwrap();
        if let Access::Roles(_) = rule.access {
            let security = op["security"].to_string();
            if !security.contains("BasicAuth") || !security.contains("TokenAuth") {
                wrong.push(format!(
                    "{method} {template}: no security schemes in the spec (take `auth: ApiAuth`)"
                ));
            }
        }
        for caller in CALLERS {
            let (path, header) = match caller {
                Caller::Anonymous => (concrete(template, None), None),
                Caller::Role(role) => {
                    let user = users.iter().find(|u| u.role == role).unwrap();
                    (concrete(template, Some(user)), Some(user.basic()))
                }
                Caller::Disabled => (
                    concrete(template, Some(&bad.disabled)),
                    Some(bad.disabled.basic()),
                ),
                Caller::ExpiredJwt => (
                    concrete(template, Some(&bad.owner)),
                    Some(bad.expired_jwt.clone()),
                ),
                Caller::TamperedJwt => (
                    concrete(template, Some(&bad.owner)),
                    Some(bad.tampered_jwt.clone()),
                ),
                Caller::RevokedToken => (
                    concrete(template, Some(&bad.owner)),
                    Some(bad.revoked_token.clone()),
                ),
            };
            let status = send(&app, method, &path, header.as_deref()).await;
            let who = caller.title();
            match expect(rule.access, caller) {
                Expect::Allowed if status == 401 || status == 403 => wrong.push(format!(
                    "{method} {template}: {who} is allowed but got {status}"
                )),
                Expect::Status(want) if status != want => wrong.push(format!(
                    "{method} {template}: {who} got {status}, want {want}"
                )),
                _ => {}
            }
            if !documented(op, status) {
                wrong.push(format!(
                    "{method} {template}: {who} got {status}, which the spec does not document"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "route × role matrix:\n{}",
        wrong.join("\n")
    );
    app.stop().await;
}

/// docs/authentication.md prints the matrix the test above enforces.
#[tokio::test]
async fn the_documented_matrix_is_current() {
    let app = TestApp::spawn().await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    let table = matrix_table(&operations(&spec));
    app.stop().await;
    let path = crate::support::services::repo_root().join("docs/authentication.md");
    let begin = "<!-- matrix:begin -->\n";
    let end = "<!-- matrix:end -->";
    let doc = std::fs::read_to_string(&path).unwrap();
    if std::env::var_os("DHIS2GW_BLESS").is_some() {
        let (head, rest) = doc.split_once(begin).expect("matrix:begin marker");
        let (_, tail) = rest.split_once(end).expect("matrix:end marker");
        std::fs::write(&path, format!("{head}{begin}{table}{end}{tail}")).unwrap();
        return;
    }
    assert!(
        doc.contains(&format!("{begin}{table}{end}")),
        "the route × role matrix in docs/authentication.md is stale: run \
         DHIS2GW_BLESS=1 cargo nextest run -p dhis2gw -E 'test(the_documented_matrix_is_current)'"
    );
}
