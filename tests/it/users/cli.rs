//! `dhis2gw user …` and `dhis2gw token …` as a sysadmin runs them over ssh: straight on the
//! database, the password on stdin, checked against the running API.

use std::io::Write;
use std::process::{Output, Stdio};

use dhis2gw::auth::Role;
use reqwest::Method;

use crate::support::process::{command, config_file, run};
use crate::support::users::TestUser;
use crate::support::{TestApp, test_settings};

fn cli(config: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut full = vec!["--config-file", config.to_str().unwrap()];
    full.extend_from_slice(args);
    let Some(input) = stdin else {
        return run(&full, &[]);
    };
    let mut child = command(&full, &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dhis2gw");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn me(app: &TestApp, authorization: &str) -> u16 {
    app.request(Method::GET, "/api/v2/me")
        .auth(authorization)
        .send()
        .await
        .status()
        .as_u16()
}

/// `GET /api/v2/me` until it answers `expected` (up to 5 s); the last status. Polled because a
/// change made by the CLI reaches the app's user cache by NOTIFY, moments after its commit.
async fn me_eventually(app: &TestApp, authorization: &str, expected: u16) -> u16 {
    let mut status = 0;
    for _ in 0..100 {
        status = me(app, authorization).await;
        if status == expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    status
}

fn user(name: &str, password: &str) -> TestUser {
    TestUser {
        user_id: 0,
        uid: String::new(),
        username: name.into(),
        password: password.into(),
        role: Role::Admin,
    }
}

#[tokio::test]
async fn user_and_token_commands_work_straight_on_the_database() {
    let settings = test_settings().await;
    let yaml = format!("database:\n  uri: {}\n", settings.database.uri);
    let config = config_file(&yaml);
    let path = config.path();

    // On a fresh database: the command migrates first.
    let out = ok(&cli(
        path,
        &[
            "user",
            "add",
            "--role",
            "admin",
            "--email",
            "root@example.org",
            "rescue",
        ],
        Some("Rescue-Pass-1\n"),
    ));
    assert!(out.contains("created rescue (admin"), "{out}");
    let bad = cli(
        path,
        &["user", "add", "--role", "viewer", "shorty"],
        Some("short\n"),
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("password"),
        "{bad:?}"
    );
    let dup = cli(path, &["user", "add", "rescue"], Some("Rescue-Pass-1\n"));
    assert!(!dup.status.success());
    let bad_role = cli(
        path,
        &["user", "add", "--role", "root", "x"],
        Some("Rescue-Pass-1\n"),
    );
    assert!(!bad_role.status.success());

    let app = TestApp::spawn_with(settings).await;
    let rescue = user("rescue", "Rescue-Pass-1");
    assert_eq!(me(&app, &rescue.basic()).await, 200);

    let list = ok(&cli(path, &["user", "list"], None));
    assert!(list.contains("rescue") && list.contains("admin"), "{list}");
    assert!(!list.contains("argon2"), "{list}");

    ok(&cli(
        path,
        &["user", "passwd", "rescue"],
        Some("Changed-Pass-2\n"),
    ));
    assert_eq!(me(&app, &rescue.basic()).await, 401);
    let rescue = user("rescue", "Changed-Pass-2");
    assert_eq!(me(&app, &rescue.basic()).await, 200);

    let out = cli(
        path,
        &["token", "create", "--user", "rescue", "--days", "7"],
        None,
    );
    let token = ok(&out).trim().to_owned();
    assert_eq!(token.len(), 40, "{token}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("shown only now"));
    assert_eq!(me(&app, &format!("Token {token}")).await, 200);
    let tokens = ok(&cli(path, &["token", "list", "--user", "rescue"], None));
    assert!(
        tokens.contains("rescue") && !tokens.contains(&token),
        "{tokens}"
    );
    let id = tokens
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    ok(&cli(path, &["token", "revoke", &id], None));
    // The daemon cached this token on its first use; the revocation reaches it by NOTIFY,
    // moments after the CLI's commit.
    assert_eq!(
        me_eventually(&app, &format!("Token {token}"), 401).await,
        401
    );
    assert!(!cli(path, &["token", "revoke", &id], None).status.success());
    let second = ok(&cli(path, &["token", "create", "--user", "rescue"], None))
        .trim()
        .to_owned();
    let out = ok(&cli(path, &["token", "revoke", "--user", "rescue"], None));
    assert!(out.contains("revoked 1"), "{out}");
    assert_eq!(me(&app, &format!("Token {second}")).await, 401);

    ok(&cli(path, &["user", "disable", "rescue"], None));
    assert_eq!(me(&app, &rescue.basic()).await, 401);
    ok(&cli(path, &["user", "enable", "rescue"], None));
    assert_eq!(me(&app, &rescue.basic()).await, 200);

    // A lock-out after failed logins is lifted over ssh.
    let db = crate::support::users::sql(&app).await;
    db.execute(
        "INSERT INTO login_throttle (username, ip, failures, last_failed_at, locked_until) \
         VALUES ('rescue', '127.0.0.1', 5, now(), now() + interval '1 hour')",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(me(&app, &rescue.basic()).await, 401); // login_locked
    ok(&cli(path, &["user", "unlock", "rescue"], None));
    assert_eq!(me(&app, &rescue.basic()).await, 200);

    let missing = cli(path, &["user", "passwd", "nobody"], Some("Whatever-123\n"));
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user named nobody"));
    app.stop().await;
}
