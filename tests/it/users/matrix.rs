//! THE ROUTE × ROLE MATRIX: every operation under /api/v2 in the OpenAPI document must have a
//! decision in `http::policy`, document the security schemes, answer 401 without credentials,
//! and answer each role as the policy says (allowed: not 401/403; denied: 403).

use std::time::Duration;

use dhis2gw::auth::Role;
use dhis2gw::http::policy::{self, Access};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::users::{TestUser, create_user};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

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

#[tokio::test]
async fn route_role_matrix() {
    let app = TestApp::spawn().await;
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
    let mut wrong = Vec::new();
    for (method, template, op) in &ops {
        let rule = policy::rule_for_template(method, template).unwrap();
        let documented = op["security"].to_string();
        match rule.access {
            Access::Public => {
                let status = send(&app, method, &concrete(template, None), None).await;
                if status == 401 || status == 403 {
                    wrong.push(format!(
                        "{method} {template}: public but {status} without credentials"
                    ));
                }
            }
            Access::Roles(_) => {
                if !documented.contains("BasicAuth") || !documented.contains("TokenAuth") {
                    wrong.push(format!("{method} {template}: no security schemes in the spec (take `auth: ApiAuth`)"));
                }
                let status = send(&app, method, &concrete(template, None), None).await;
                if status != 401 {
                    wrong.push(format!(
                        "{method} {template}: {status} without credentials, want 401"
                    ));
                }
            }
        }
        for user in &users {
            let status = send(
                &app,
                method,
                &concrete(template, Some(user)),
                Some(&user.basic()),
            )
            .await;
            let role = user.role.as_str();
            if rule.access.allows(user.role) {
                if status == 401 || status == 403 {
                    wrong.push(format!(
                        "{method} {template}: {role} is allowed but got {status}"
                    ));
                }
            } else if status != 403 {
                wrong.push(format!(
                    "{method} {template}: {role} is denied but got {status}"
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
