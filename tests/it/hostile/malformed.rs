//! MALFORMED INPUT against the real binary: broken `Authorization` headers, oversize headers,
//! deeply nested JSON and bodies that are not UTF-8 are all answered with a 4xx, and the log
//! shows no panic.

use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};

use crate::support::process::{Daemon, config_file};
use crate::support::services::{migrated_database, services};

const ADMIN_PASSWORD: &str = "Malformed-Admin-Pw-8";

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn daemon() -> Daemon {
    let yaml = format!(
        "database:\n  uri: {}\nserver:\n  http_port: 0\n  redis_address: {}\n  queue_prefix: t{}\n  \
         shutdown_grace_secs: 5\nauth:\n  initial_admin_password: {ADMIN_PASSWORD}\nlog:\n  level: debug\n",
        migrated_database().await,
        services().redis,
        uuid::Uuid::new_v4().simple()
    );
    let config = config_file(&yaml);
    let daemon = Daemon::start(config.path(), &[]);
    // The daemon read its config at start; the file may go.
    drop(config);
    daemon
}

/// A raw request (headers that `ApiRequest` would refuse to build), its status.
async fn raw(
    daemon: &Daemon,
    method: Method,
    path: &str,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
) -> u16 {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method, daemon.url(path))
        .headers(headers)
        .timeout(Duration::from_secs(30));
    if let Some(body) = body {
        request = request.body(body);
    }
    match request.send().await {
        Ok(response) => response.status().as_u16(),
        Err(e) => panic!("{path}: no answer: {e}"),
    }
}

fn auth(value: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_bytes(value).unwrap());
    headers
}

#[tokio::test]
async fn malformed_requests_are_4xx_and_never_panic() {
    let daemon = daemon().await;
    let admin = format!("Basic {}", b64(format!("admin:{ADMIN_PASSWORD}")));
    let mut wrong = Vec::new();
    let mut check = |what: &str, status: u16| {
        if !(400..500).contains(&status) {
            wrong.push(format!("{what}: {status}"));
        }
    };

    // Authorization headers that cannot be parsed, or name what cannot exist.
    let headers: Vec<Vec<u8>> = vec![
        b"\xff\xfe\xfd".to_vec(),
        b"Basic \xc3\x28".to_vec(),
        format!("Basic {}", b64(b"\xff\xfe:\xfd")).into_bytes(),
        format!("Basic {}", b64("nul\0user:pw")).into_bytes(),
        format!("Basic {}", b64("user:pass\0word")).into_bytes(),
        format!("Basic {}", b64(format!("{}:pw", "u".repeat(5000)))).into_bytes(),
        format!("Basic {}", "A".repeat(3)).into_bytes(),
        b"Basic ====".to_vec(),
        b"Bearer a.b.c.d.e".to_vec(),
        format!("Bearer {}", "x".repeat(6000)).into_bytes(),
        b"Bearer ...".to_vec(),
        format!("Token {}", "\u{e9}".repeat(20)).into_bytes(),
        b"Token \t\t".to_vec(),
        b"Basic\tYWRtaW46eA==".to_vec(),
        b"   ".to_vec(),
        b"Negotiate YIIC".to_vec(),
    ];
    for value in &headers {
        let status = raw(&daemon, Method::GET, "/api/v2/me", auth(value), None).await;
        check(
            &format!("Authorization {:?}", String::from_utf8_lossy(value)),
            status,
        );
    }

    // Oversize headers: one huge header, and very many.
    let mut huge = HeaderMap::new();
    huge.insert(
        "x-filler",
        HeaderValue::from_str(&"a".repeat(200_000)).unwrap(),
    );
    huge.insert("authorization", HeaderValue::from_str(&admin).unwrap());
    match reqwest::Client::new()
        .get(daemon.url("/api/v2/me"))
        .headers(huge)
        .timeout(Duration::from_secs(30))
        .send()
        .await
    {
        Ok(response) => check("a 200 kB header", response.status().as_u16()),
        // hyper may answer 431 and close, or close at once: either way nothing was served.
        Err(e) => assert!(!e.is_timeout(), "a 200 kB header: {e}"),
    }
    let mut many = HeaderMap::new();
    for i in 0..500 {
        many.insert(
            reqwest::header::HeaderName::from_bytes(format!("x-h{i}").as_bytes()).unwrap(),
            HeaderValue::from_static("v"),
        );
    }
    many.insert("authorization", HeaderValue::from_str(&admin).unwrap());
    match reqwest::Client::new()
        .get(daemon.url("/api/v2/me"))
        .headers(many)
        .timeout(Duration::from_secs(30))
        .send()
        .await
    {
        Ok(response) => {
            let status = response.status().as_u16();
            // 500 small headers may be within limits: then the request is served as usual.
            if status != 200 {
                check("500 headers", status);
            }
        }
        Err(e) => assert!(!e.is_timeout(), "500 headers: {e}"),
    }

    // Bodies: deeply nested JSON, bodies that are not UTF-8, JSON of the wrong shape.
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("deep array", deep_array.into_bytes()),
        ("deep object", deep_object.into_bytes()),
        (
            "invalid UTF-8",
            b"{\"username\": \"\xff\xfe\", \"password\": \"x\"}".to_vec(),
        ),
        (
            "lone surrogate",
            br#"{"username": "\ud800", "password": "x"}"#.to_vec(),
        ),
        (
            "NUL in a string",
            br#"{"username": "a\u0000b", "password": "x"}"#.to_vec(),
        ),
        ("truncated", b"{\"dataSet\": [".to_vec()),
        ("not JSON", b"\x00\x01\x02\x03".to_vec()),
    ];
    let json = {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h
    };
    for path in [
        "/api/v2/auth/login",
        "/api/v2/aggregate",
        "/api/v2/tracker",
        "/api/v2/users",
    ] {
        for (what, body) in &bodies {
            let mut headers = json.clone();
            headers.insert("authorization", HeaderValue::from_str(&admin).unwrap());
            let status = raw(&daemon, Method::POST, path, headers, Some(body.clone())).await;
            check(&format!("POST {path} with {what}"), status);
        }
    }

    // The daemon is still serving, and never panicked.
    let status = raw(
        &daemon,
        Method::GET,
        "/api/v2/me",
        auth(admin.as_bytes()),
        None,
    )
    .await;
    assert_eq!(status, 200, "the daemon stopped serving");
    let log = daemon.log_text();
    assert!(!log.contains("panicked"), "a panic in the log:\n{log}");
    assert!(wrong.is_empty(), "not a 4xx:\n{}", wrong.join("\n"));
}
