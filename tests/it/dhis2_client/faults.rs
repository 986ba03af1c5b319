//! Failures of DHIS2 and of what stands in front of it, classified for the retry policy:
//! simulator faults, an unreachable host, and a raw HTTP responder for what the simulator does
//! not send (redirects, HTML login pages, empty bodies, dated Retry-After).

use std::time::{Duration, Instant};

use dhis2_sim::Fault;
use dhis2gw::dhis2::{Dhis2Client, Dhis2Error, ImportOutcome, ImportStatus};

use super::*;

#[tokio::test]
async fn faults_are_classified_for_the_retry_policy() {
    let sim = start_sim("2.40.3").await;
    let client = client_for(&sim);
    type Expected = fn(&Dhis2Error) -> bool;
    let cases: [(Fault, Expected); 5] = [
        (Fault::Status(500), |e| {
            matches!(e, Dhis2Error::Server { status: 500, .. })
        }),
        (Fault::Status(503), |e| {
            matches!(e, Dhis2Error::Server { status: 503, .. })
        }),
        (Fault::HtmlError(502), |e| {
            matches!(e, Dhis2Error::Server { status: 502, body } if body.contains("<title>502 Bad Gateway</title>"))
                && e.to_string() == "DHIS2 answered HTTP 502: 502 Bad Gateway"
        }),
        (
            Fault::Status(429),
            |e| matches!(e, Dhis2Error::TooManyRequests { retry_after: Some(d), .. } if *d == Duration::from_secs(1)),
        ),
        (Fault::Drop, |e| matches!(e, Dhis2Error::Transport(_))),
    ];
    for (fault, expected) in cases {
        sim.push_fault(fault.clone());
        let error = client
            .post_data_value_set(&good_payload())
            .await
            .unwrap_err();
        assert!(expected(&error), "{fault:?} gave {error:?}");
        assert!(error.is_retryable(), "{fault:?}");
    }
    // The fault queue is drained: the next call imports.
    let outcome = client.post_data_value_set(&good_payload()).await.unwrap();
    assert_eq!(outcome.status, ImportStatus::Success);
}

#[tokio::test]
async fn a_hanging_dhis2_is_a_timeout() {
    let sim = start_sim("2.40.3").await;
    let mut api = api_settings(&sim.base_url());
    api.dhis2_timeout_secs = 1;
    let client = Dhis2Client::new(&api).unwrap();
    sim.push_fault(Fault::Hang);
    let started = Instant::now();
    let error = client
        .post_data_value_set(&good_payload())
        .await
        .unwrap_err();
    assert_eq!(error, Dhis2Error::Timeout);
    assert!(error.is_retryable());
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn unreachable_dhis2_is_a_transport_error() {
    // Bind then release a port: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Dhis2Client::new(&api_settings(&format!("http://127.0.0.1:{port}"))).unwrap();
    let error = client.system_info().await.unwrap_err();
    assert!(matches!(error, Dhis2Error::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
}

/// Serves one canned HTTP response per connection, after reading the whole request: what a
/// reverse proxy, an SSO gateway or a misconfigured DHIS2 answers.
async fn canned_server(response: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    if request_complete(&request) {
                        break;
                    }
                }
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    base
}

fn request_complete(request: &[u8]) -> bool {
    let text = String::from_utf8_lossy(request);
    let Some(end) = text.find("\r\n\r\n") else {
        return false;
    };
    let length = text[..end]
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    request.len() >= end + 4 + length
}

async fn post_to_canned(response: &'static str) -> Result<ImportOutcome, Dhis2Error> {
    let base = canned_server(response).await;
    Dhis2Client::new(&api_settings(&base))
        .unwrap()
        .post_data_value_set(&good_payload())
        .await
}

#[tokio::test]
async fn a_redirect_to_the_login_page_is_unauthorized_and_never_followed() {
    let error = post_to_canned(
        "HTTP/1.1 302 Found\r\nLocation: http://dhis.example.org/dhis-web-login/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, Dhis2Error::Unauthorized { status: 302, message, .. } if message.contains("/dhis-web-login/")),
        "{error:?}"
    );
    // http → https: not followed (the POST would become a GET), not retried.
    let error = post_to_canned(
        "HTTP/1.1 301 Moved Permanently\r\nLocation: https://dhis.example.org/api/dataValueSets\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, Dhis2Error::Client { status: 301, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn html_or_empty_success_is_unparsable_and_kept_verbatim() {
    let page = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 43\r\nConnection: close\r\n\r\n<html><title>Sign in</title><form/></html>\n";
    match post_to_canned(page).await {
        Err(Dhis2Error::Unparsable {
            status: 200,
            body,
            reason,
        }) => {
            assert_eq!(body, "<html><title>Sign in</title><form/></html>\n");
            assert!(reason.contains("HTML"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let empty = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    assert!(matches!(
        post_to_canned(empty).await,
        Err(Dhis2Error::Unparsable { status: 200, .. })
    ));
}

#[tokio::test]
async fn retry_after_as_a_date_and_a_proxy_gateway_timeout() {
    let later = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
    let response: &'static str = Box::leak(
        format!("HTTP/1.1 429 Too Many Requests\r\nRetry-After: {later}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .into_boxed_str(),
    );
    match post_to_canned(response).await {
        Err(Dhis2Error::TooManyRequests {
            retry_after: Some(wait),
            ..
        }) => {
            assert!(
                wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
                "{wait:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let gateway = "HTTP/1.1 504 Gateway Time-out\r\nContent-Type: text/html\r\nContent-Length: 61\r\nConnection: close\r\n\r\n<html><head><title>504 Gateway Time-out</title></head></html>";
    let error = post_to_canned(gateway).await.unwrap_err();
    assert!(
        matches!(error, Dhis2Error::Server { status: 504, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
}
