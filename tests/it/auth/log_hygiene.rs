//! No log line and no response carries a password, a password hash or a token, whatever the
//! scheme and whether the attempt succeeds or fails.

use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::process::{Daemon, config_file};
use crate::support::services::{migrated_database, services};

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn no_log_line_or_response_contains_a_password_hash_or_token() {
    let db = migrated_database().await;
    let admin_password = "Adm1n-bootstrap-Secret";
    let yaml = format!(
        "database:\n  uri: {db}\nserver:\n  http_port: 0\n  redis_address: {}\n  queue_prefix: t{}\n  shutdown_grace_secs: 5\nauth:\n  initial_admin_password: {admin_password}\n  jwt_secret: Jwt-Secret-Value-123\nlog:\n  level: debug\n",
        services().redis,
        uuid::Uuid::new_v4().simple()
    );
    let config = config_file(&yaml);
    let mut daemon = Daemon::start(config.path(), &[]);
    let admin = basic("admin", admin_password);
    let mut secrets: Vec<String> = vec![admin_password.into(), "Jwt-Secret-Value-123".into()];
    let mut bodies = Vec::new();

    let user_password = "Us3r-Password-Xyz";
    secrets.push(user_password.into());
    let created = daemon
        .request(Method::POST, "/api/v2/users")
        .auth(&admin)
        .json(&json!({"username": "carol", "password": user_password, "role": "submitter"}))
        .send()
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let uid = created["uid"].as_str().unwrap().to_owned();
    bodies.push(created.to_string());

    // Failed attempts of every kind.
    for header in [
        basic("carol", "Wr0ng-Guess-Pw"),
        basic("nobody", "An0ther-Guess"),
        "Token deadbeefdeadbeefdeadbeefdeadbeefdeadbeef".into(),
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.Zm9yZ2Vk".into(),
    ] {
        let r = daemon
            .request(Method::GET, "/api/v2/me")
            .auth(&header)
            .send()
            .await;
        assert_eq!(r.status(), 401);
        bodies.push(r.text().await.unwrap());
    }
    secrets.extend([
        "Wr0ng-Guess-Pw".into(),
        "An0ther-Guess".into(),
        "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef".into(),
        "Zm9yZ2Vk".into(),
    ]);

    // Successful use of every scheme.
    let carol = basic("carol", user_password);
    let token: Value = daemon
        .request(Method::POST, "/api/v2/users/getToken")
        .auth(&carol)
        .send()
        .await
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    secrets.push(token.clone());
    let session: Value = daemon
        .request(Method::POST, "/api/v2/auth/login")
        .json(&json!({"username": "carol", "password": user_password}))
        .send()
        .await
        .json()
        .await
        .unwrap();
    let access = session["access_token"].as_str().unwrap().to_owned();
    let refresh = session["refresh_token"].as_str().unwrap().to_owned();
    secrets.extend([access.clone(), refresh.clone()]);
    for header in [format!("Token {token}"), format!("Bearer {access}")] {
        let r = daemon
            .request(Method::GET, "/api/v2/me")
            .auth(&header)
            .send()
            .await;
        assert_eq!(r.status(), 200);
        bodies.push(r.text().await.unwrap());
    }
    let refreshed = daemon
        .request(Method::POST, "/api/v2/auth/refresh")
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await;
    assert_eq!(refreshed.status(), 200);
    let replay = daemon
        .request(Method::POST, "/api/v2/auth/refresh")
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await;
    assert_eq!(replay.status(), 401);
    let new_password = "N3w-Password-Abc";
    secrets.push(new_password.into());
    let changed = daemon
        .request(Method::POST, &format!("/api/v2/users/{uid}/password"))
        .auth(&carol)
        .json(&json!({"old_password": user_password, "new_password": new_password}))
        .send()
        .await;
    assert_eq!(changed.status(), 200);
    let list = daemon
        .request(Method::GET, "/api/v2/users")
        .auth(&admin)
        .send()
        .await;
    bodies.push(list.text().await.unwrap());

    // The stored hashes and digests are secrets too.
    let (pg, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    for row in pg.query("SELECT password FROM users", &[]).await.unwrap() {
        let hash: String = row.get(0);
        // The salt and digest parts, which no log has a reason to show.
        secrets.extend(hash.rsplit('$').take(2).map(str::to_owned));
    }
    for row in pg
        .query(
            "SELECT token_sha256 FROM user_apitoken UNION ALL SELECT token_sha256 FROM refresh_tokens",
            &[],
        )
        .await
        .unwrap()
    {
        secrets.push(row.get(0));
    }

    daemon.wait_for_log("session", Duration::from_millis(200));
    let log = daemon.log_text();
    assert!(log.lines().count() > 5, "the daemon logged: {log}");
    for secret in &secrets {
        for (n, line) in log.lines().enumerate() {
            assert!(
                !line.contains(secret.as_str()),
                "log line {n} carries a secret: {line}"
            );
        }
        for body in &bodies {
            assert!(
                !body.contains(secret.as_str()),
                "a response carries a secret: {body}"
            );
        }
    }
    for body in &bodies {
        assert!(
            !body.contains("$argon2") && !body.contains("$2b$"),
            "{body}"
        );
    }
}
