//! The submissions page in Chromium: filters in the URL, keyset pages, the detail, and a
//! requeue that the DHIS2 simulator then accepts, seen by the page's own refresh.

use dhis2_sim::Fault;
use reqwest::Method;
use serde_json::{Value, json};

use super::driver::Browser;
use super::{NOT_LOGGED_IN, log_in};
use crate::support::pipeline::{Env, aggregate_body};

async fn statuses(env: &Env) -> Vec<(i64, String)> {
    let (status, body) = env
        .app
        .request(Method::GET, "/api/v2/logs?page_size=500")
        .auth(&env.admin.authorization)
        .status_and_json()
        .await;
    assert_eq!(status, 200);
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_i64().unwrap(),
                i["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The ids of the rows the page shows, top to bottom.
async fn shown_ids(browser: &Browser) -> Vec<i64> {
    let ids = browser
        .eval("return [...document.querySelectorAll('tr[data-row]')].map(r => Number(r.dataset.row));")
        .await;
    serde_json::from_value(ids).unwrap()
}

#[tokio::test]
async fn console_submissions_filter_page_open_and_requeue() {
    let env = Env::start_with(|s| s.server.max_retries = 0).await;
    // Three submissions fail (DHIS2 answers 503), two are delivered.
    env.sim.set_fault_always(Some(Fault::Status(503)));
    for period in ["202401", "202402", "202403"] {
        env.submit(&aggregate_body(period, json!({"MAL_SUSP": 5})))
            .await;
    }
    env.run_pending_deliveries().await;
    env.sim.set_fault_always(None);
    for period in ["202404", "202405"] {
        env.submit(&aggregate_body(period, json!({"MAL_SUSP": 5})))
            .await;
    }
    env.run_pending_deliveries().await;
    let all = statuses(&env).await;
    let failed: Vec<i64> = all
        .iter()
        .filter(|(_, s)| s == "failed")
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(failed.len(), 3, "{all:?}");

    let browser = Browser::start("submissions", 1280).await;
    log_in(
        &browser,
        &env.app.address,
        "/admin/submissions?status=failed&page_size=2",
        &env.admin.user,
    )
    .await;
    browser
        .wait_text("[data-testid=summary]", "3 matching")
        .await;
    assert_eq!(shown_ids(&browser).await, failed[..2]);
    // Older page by cursor, then back.
    browser.click_css("[data-testid=older]").await;
    browser
        .wait_text("[data-testid=summary]", "showing 1")
        .await;
    assert_eq!(shown_ids(&browser).await, failed[2..]);
    let url = browser.eval("return location.search;").await;
    assert!(url.as_str().unwrap().contains("cursor="), "{url}");
    browser.click_css("[data-testid=newer]").await;
    browser
        .wait_text("[data-testid=summary]", "showing 2")
        .await;

    // The filter form writes the URL.
    browser
        .eval("document.querySelector('form[data-testid=filters] select[name=status]').value = 'completed';")
        .await;
    browser
        .click_css("form[data-testid=filters] button[type=submit]")
        .await;
    browser
        .wait_text("[data-testid=summary]", "2 matching")
        .await;
    let search = browser.eval("return location.search;").await;
    assert!(
        search.as_str().unwrap().contains("status=completed"),
        "{search}"
    );
    // Free text finds a period in the request.
    browser
        .goto(&format!(
            "{}/admin/submissions?text=202402",
            env.app.address
        ))
        .await;
    browser
        .wait_text("[data-testid=summary]", "1 matching")
        .await;

    // The detail of a failed one: its request, DHIS2's answer.
    browser
        .goto(&format!(
            "{}/admin/submissions?status=failed",
            env.app.address
        ))
        .await;
    browser
        .wait_text("[data-testid=summary]", "3 matching")
        .await;
    browser
        .click_css(&format!("a[data-open='{}']", failed[0]))
        .await;
    browser.wait_text("[data-testid=request]", "MAL_SUSP").await;
    browser.wait_text("dialog[data-testid=detail]", "503").await;
    browser.screenshot("detail").await;
    browser
        .click_css("dialog[data-testid=detail] .bar button")
        .await;

    // Requeue one from the unfiltered list: confirm, deliver, and the page's own refresh shows
    // it completed while another ticked row stays ticked.
    browser
        .goto(&format!("{}/admin/submissions", env.app.address))
        .await;
    browser
        .wait_text("[data-testid=summary]", "5 matching")
        .await;
    let target = failed[0];
    browser
        .click_css(&format!("input[data-select='{target}']"))
        .await;
    browser.click_css("[data-testid=requeue-selected]").await;
    browser
        .wait_text("dialog[data-testid=confirm]", "Requeue 1 submission")
        .await;
    browser.click_css("[data-testid=confirm-yes]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while statuses(&env)
        .await
        .iter()
        .any(|(id, s)| *id == target && s == "failed")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the requeue never reached the log"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    browser
        .wait_text(&format!("[data-status='{target}']"), "queued")
        .await;
    browser
        .click_css(&format!("input[data-select='{}']", failed[1]))
        .await;
    env.run_pending_deliveries().await;
    assert!(statuses(&env).await.contains(&(target, "completed".into())));
    let seen = browser
        .wait_text(&format!("[data-status='{target}']"), "completed")
        .await;
    assert_eq!(seen, "completed");
    let still_ticked = browser
        .eval(&format!(
            "return document.querySelector(\"input[data-select='{}']\").checked;",
            failed[1]
        ))
        .await;
    assert_eq!(
        still_ticked,
        json!(true),
        "the refresh kept the operator's selection"
    );
    browser.screenshot("requeued").await;
    let received: Value = json!(env.sim.received_data_value_sets().len());
    assert_eq!(
        received,
        json!(3),
        "two delivered first, one after the requeue"
    );
    browser.assert_clean(&[NOT_LOGGED_IN]).await;
    browser.close().await;
}
