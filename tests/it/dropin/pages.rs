//! `/`, `/docs/{page}`, `/logs-viewer` and `/mappings/export/excel-template`.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{TestApp, test_settings};

/// A GET with the path sent byte for byte (reqwest would resolve `..` and `%2e%2e` first);
/// the status and the body.
async fn raw_get(app: &TestApp, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn the_landing_page_links_the_console_swagger_and_docs_and_loads_nothing_from_outside() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = response.text().await.unwrap();
    for link in ["href=\"/admin/\"", "href=\"/swagger/\"", "href=\"/docs/\""] {
        assert!(html.contains(link), "no {link} in {html}");
    }
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    // The links lead somewhere.
    assert_eq!(app.get("/swagger/").await.status(), 200);
    assert_eq!(app.get("/admin/").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn operator_docs_are_rendered_escaped_and_confined_to_their_directory() {
    let root = tempfile::tempdir().unwrap();
    let docs = root.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(
        docs.join("install.md"),
        "# Installing\n\nSee [the keys](configuration.md#keys).\n\n<script>alert('x')</script>\n\n\
         [bad](javascript:alert(1))\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    )
    .unwrap();
    std::fs::write(docs.join("configuration.md"), "# Configuration\n\ntext\n").unwrap();
    std::fs::write(root.path().join("secret.md"), "# SECRET-OUTSIDE\n").unwrap();
    let mut settings = test_settings().await;
    settings.server.docs_dir = docs.to_str().unwrap().to_owned();
    let app = TestApp::spawn_with(settings).await;

    let response = app.get("/docs/install").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("<h1>Installing</h1>"), "{html}");
    assert!(
        html.contains("<title>Installing · dhis2gw</title>"),
        "{html}"
    );
    assert!(html.contains("href=\"/docs/configuration#keys\""), "{html}");
    assert!(html.contains("<table>"), "{html}");
    assert!(
        !html.contains("<script>") && html.contains("&lt;script&gt;"),
        "{html}"
    );
    assert!(!html.contains("javascript:"), "{html}");
    assert_eq!(app.get("/docs/install.md").await.status(), 200);

    let index = app.get("/docs/").await.text().await.unwrap();
    assert!(
        index.contains("href=\"/docs/install\"") && index.contains("href=\"/docs/configuration\""),
        "{index}"
    );
    assert!(!index.contains("SECRET"), "{index}");

    let missing = app.get("/docs/nothing-here").await;
    assert_eq!(missing.status(), 404);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("Documentation not found")
    );

    for path in [
        "/docs/../secret",
        "/docs/..%2Fsecret",
        "/docs/..%2fsecret",
        "/docs/%2e%2e%2fsecret",
        "/docs/%2E%2E%2Fsecret",
        "/docs/..%5Csecret",
        "/docs/%252e%252e%252fsecret",
        "/docs/.%2e/secret",
        "/docs/..",
        "/docs/.secret",
        "/docs/%00secret",
    ] {
        let (status, body) = raw_get(&app, path).await;
        assert!(
            !body.contains("SECRET-OUTSIDE"),
            "{path} read outside the docs: {body}"
        );
        assert!(
            status == 404 || status == 400,
            "{path} answered {status}: {body}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn without_the_docs_directory_docs_answer_a_404_page_that_says_why() {
    let mut settings = test_settings().await;
    settings.server.docs_dir = "/nonexistent/dhis2gw-docs".into();
    let app = TestApp::spawn_with(settings).await;
    for path in ["/docs/install", "/docs/"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("not installed") && html.contains("server.docs_dir"),
            "{html}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_logs_viewer_url_leads_to_the_console() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!("{}/logs-viewer", app.address))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/admin/submissions");
    // Followed, it loads the console.
    let followed = app.get("/logs-viewer").await;
    assert_eq!(followed.status(), 200);
    assert!(followed.text().await.unwrap().contains("<html"));
    app.stop().await;
}

#[tokio::test]
async fn the_mappings_template_is_served_without_credentials_as_the_original_served_it() {
    let app = TestApp::spawn().await;
    let response = app.get("/mappings/export/excel-template").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename=\"dhis2_mappings_template.xlsx\"")
    );
    let bytes = response.bytes().await.unwrap();
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let first = workbook.sheet_names()[0].clone();
    let sheet = workbook.worksheet_range(&first).unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| match c {
            Data::String(s) => s.to_lowercase(),
            other => other.to_string(),
        })
        .collect();
    for column in ["code", "what", "dataelement", "category_option_combo"] {
        assert!(
            header.iter().any(|h| h == column),
            "{column} missing: {header:?}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn queue_answers_at_the_original_issue_path_with_minute_and_hour_counts() {
    let env = crate::support::pipeline::Env::start().await;
    let stats = env.get(&env.admin, "/api/v2/queue").await;
    assert_eq!(stats.status(), 200);
    let body: serde_json::Value = stats.json().await.unwrap();
    for key in [
        "waiting",
        "in_flight",
        "retrying",
        "failed_last_24h",
        "delivered_last_minute",
        "delivered_last_hour",
    ] {
        assert!(body.get(key).is_some(), "{key} missing: {body}");
    }
    // A submitter is not an operator, as for /queue/stats.
    assert_eq!(env.get(&env.submitter, "/api/v2/queue").await.status(), 403);
    // One delivery shows in the hour.
    env.submit(&crate::support::pipeline::aggregate_body(
        "202401",
        serde_json::json!({"MAL_SUSP": 3}),
    ))
    .await;
    env.run_pending_deliveries().await;
    let body: serde_json::Value = env
        .get(&env.admin, "/api/v2/queue")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["delivered_last_hour"], 1, "{body}");
    env.app.stop().await;
}
