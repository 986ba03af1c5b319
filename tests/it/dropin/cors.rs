//! CORS with `http.cors_origins`: a browser's preflight and simple requests from allowed and
//! refused origins, the wildcard without credentials, the console's own origin, and the config
//! check that refuses `*` with credentials.

use dhis2gw::auth::Role;
use reqwest::Method;

use crate::support::users::{api_token, create_user};
use crate::support::{TestApp, test_settings};

const ALLOWED: &str = "https://portal.example.org";
const REFUSED: &str = "https://evil.example.net";

async fn app_with(origins: &[&str], credentials: bool) -> TestApp {
    let mut settings = test_settings().await;
    settings.http.cors_origins = origins.iter().map(|s| s.to_string()).collect();
    settings.http.cors_allow_credentials = credentials;
    TestApp::spawn_with(settings).await
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.request(Method::OPTIONS, "/api/v2/aggregate")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_listed_origin_passes_the_preflight_and_reads_the_answer() {
    let app = app_with(&[ALLOWED, "http://localhost:3000"], true).await;
    let response = preflight(&app, ALLOWED).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(ALLOWED)
    );
    assert_eq!(
        header(&response, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let methods = header(&response, "access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = header(&response, "access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert_eq!(
        header(&response, "access-control-max-age").as_deref(),
        Some("43200")
    );

    // The request itself, with a token, from that origin.
    let user = create_user(&app, Role::Viewer).await;
    let token = api_token(&app, &user).await;
    let response = app
        .request(Method::GET, "/api/v2/me")
        .auth(format!("Token {token}"))
        .header("Origin", ALLOWED)
        .send()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(ALLOWED)
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unlisted_origin_is_refused_before_any_handler() {
    let app = app_with(&[ALLOWED], false).await;
    let response = preflight(&app, REFUSED).await;
    assert_eq!(response.status(), 403);
    assert!(header(&response, "access-control-allow-origin").is_none());
    let response = app
        .request(Method::GET, "/health")
        .header("Origin", REFUSED)
        .send()
        .await;
    assert_eq!(response.status(), 403);
    assert!(header(&response, "access-control-allow-origin").is_none());
    // A method outside the list is refused in the preflight.
    let response = app
        .request(Method::OPTIONS, "/api/v2/aggregate")
        .header("Origin", ALLOWED)
        .header("Access-Control-Request-Method", "PATCH")
        .send()
        .await;
    assert_eq!(response.status(), 403);
    // Without credentials configured, none are offered.
    let response = preflight(&app, ALLOWED).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "access-control-allow-credentials").is_none());
    app.stop().await;
}

#[tokio::test]
async fn the_servers_own_origin_and_requests_without_one_are_not_subject_to_the_list() {
    let app = app_with(&[ALLOWED], false).await;
    let own = format!("http://127.0.0.1:{}", app.port);
    let response = app
        .request(Method::GET, "/health")
        .header("Origin", &own)
        .send()
        .await;
    assert_eq!(response.status(), 200);
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "access-control-allow-origin").is_none());
    app.stop().await;
}

#[tokio::test]
async fn the_wildcard_allows_any_origin_without_credentials() {
    let app = app_with(&["*"], false).await;
    let response = preflight(&app, REFUSED).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(REFUSED)
    );
    assert!(header(&response, "access-control-allow-credentials").is_none());
    let response = app
        .request(Method::GET, "/health")
        .header("Origin", REFUSED)
        .send()
        .await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "access-control-allow-credentials").is_none());
    app.stop().await;
}

#[tokio::test]
async fn without_origins_no_cors_header_is_sent() {
    let app = app_with(&[], false).await;
    let response = app
        .request(Method::GET, "/health")
        .header("Origin", ALLOWED)
        .send()
        .await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "access-control-allow-origin").is_none());
    app.stop().await;
}

#[test]
fn the_wildcard_with_credentials_is_a_configuration_error() {
    let env = |_: &str| None;
    let error = dhis2gw::config::load_from_str(
        "http:\n  cors_origins: ['*']\n  cors_allow_credentials: true\n",
        &env,
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("http.cors_origins"), "{error}");
    let error =
        dhis2gw::config::load_from_str("http:\n  cors_origins: ['portal.example.org/']\n", &env)
            .unwrap_err()
            .to_string();
    assert!(error.contains("not an origin"), "{error}");
    assert!(
        dhis2gw::config::load_from_str(
            "http:\n  cors_origins: ['https://portal.example.org']\n  cors_allow_credentials: true\n",
            &env
        )
        .is_ok()
    );
}
