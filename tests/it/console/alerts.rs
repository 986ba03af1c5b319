//! The alerts and deliveries pages in Chromium: an alert recorded by the alert run's own
//! database call, listed with its filters in the URL, its page at /admin/alerts/{id} (the
//! series chart with the method's bound, the evaluation, its deliveries), acknowledged by an
//! admin; the deliveries page filtered and a failed delivery retried; a viewer sees all of it
//! with no write control, at 360 px wide.

use chrono::NaiveDate;
use dhis2gw::auth::Role;
use dhis2gw::db::alerts::{NewAlert, claim, series_json};
use reqwest::Method;
use serde_json::json;

use super::driver::Browser;
use super::{NOT_LOGGED_IN, log_in, write_controls};
use crate::support::TestApp;
use crate::support::users::{TestUser, create_user, pool, sql};

/// Records one alert for a rule made through the API, with a notice and two deliveries (an SMS
/// that failed, an email sent). Returns (alert id, failed delivery id, sent delivery id).
async fn seeded_alert(app: &TestApp, admin: &TestUser) -> (i64, i64, i64) {
    let (status, rule) = app
        .request(Method::POST, "/api/v2/alert-rules")
        .auth(admin.basic())
        .json(&json!({"name": "Cholera threshold", "data_element": "rPRf4cXHEIx", "rule_type": "one_case"}))
        .status_and_json()
        .await;
    assert_eq!(status, 201, "{rule}");
    let pool = pool(app);
    let db = pool.get().await.unwrap();
    let alert = NewAlert {
        data_element: "rPRf4cXHEIx".into(),
        data_element_name: Some("Cholera".into()),
        org_unit: "DiszpKrYNg8".into(),
        org_unit_name: Some("Ngelehun CHC".into()),
        week: "2026W10".into(),
        week_start: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        rule_id: rule["id"].as_i64().unwrap(),
        rule_uid: rule["uid"].as_str().unwrap_or("rule").into(),
        rule_name: "Cholera threshold".into(),
        disease_code: Some("CHOL".into()),
        severity: "alert".into(),
        method: "threshold".into(),
        params: json!({"threshold": 4}),
        missing_policy: "skip".into(),
        series: series_json(
            "2026W05",
            &[Some(1.0), None, Some(2.0), Some(0.0), Some(3.0), Some(9.0)],
        ),
        count: Some(9.0),
        expected: Some(1.5),
        upper_bound: Some(4.0),
        score: Some(2.25),
        reason: "9 cases in 2026W10, above the threshold of 4".into(),
        tracked_entity: "teAlert0001".into(),
        enrollment: "enAlert0001".into(),
        event: "evAlert0001".into(),
        capture_url: "http://dhis2.invalid/dhis-web-capture/index.html".into(),
    };
    let id = claim(&db, &alert).await.unwrap().expect("a new alert");
    drop(db);
    pool.close();
    let db = sql(app).await;
    db.execute(
        "INSERT INTO notify_notices (alert_id, notice) VALUES ($1, '{}')",
        &[&id],
    )
    .await
    .unwrap();
    let failed: i64 = db
        .query_one(
            "INSERT INTO notify_deliveries (alert_id, recipient_name, channel, address, status, \
               attempts, last_error) \
             VALUES ($1, 'Aminata Kamara', 'sms', '+23276000001', 'failed', 5, 'provider answered 500') \
             RETURNING id",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    let sent: i64 = db
        .query_one(
            "INSERT INTO notify_deliveries (alert_id, recipient_name, channel, address, status, \
               attempts, sent_at) \
             VALUES ($1, 'Sorie Bangura', 'email', 'sorie@example.org', 'sent', 1, now()) \
             RETURNING id",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    (id, failed, sent)
}

#[tokio::test]
async fn console_alerts_detail_acknowledge_and_deliveries_retry() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let (alert, failed, sent) = seeded_alert(&app, &admin).await;

    let browser = Browser::start("alerts", 1280).await;
    log_in(&browser, &app.address, "/admin/alerts?status=open", &admin).await;
    browser
        .wait_text("[data-testid=alerts-shown]", "1 alert(s)")
        .await;
    browser
        .wait_text(&format!("[data-alert-status='{alert}']"), "open")
        .await;
    // A filter that matches nothing, written into the URL by the form.
    browser
        .eval("document.querySelector('form[data-testid=alert-filters] input[name=disease_code]').value = 'MEAS';")
        .await;
    browser
        .click_css("form[data-testid=alert-filters] button[type=submit]")
        .await;
    browser
        .wait_text("[data-testid=alerts-shown]", "0 alert(s)")
        .await;
    let search = browser.eval("return location.search;").await;
    assert!(
        search.as_str().unwrap().contains("disease_code=MEAS"),
        "{search}"
    );

    // The alert's own page, straight from its URL (the short link /a/{id} lands here).
    browser
        .goto(&format!("{}/admin/alerts/{alert}", app.address))
        .await;
    browser
        .wait_text("[data-testid=reason]", "above the threshold of 4")
        .await;
    browser
        .wait_text("[data-testid=evaluation]", "threshold")
        .await;
    let chart = browser
        .eval(
            "const svg = document.querySelector('main svg.chart'); \
             return { bars: svg.querySelectorAll('rect').length, hot: svg.querySelectorAll('rect.hot').length, \
                      bound: svg.querySelector('line.bound').dataset.bound, \
                      missing: svg.querySelectorAll('text.missing').length };",
        )
        .await;
    assert_eq!(
        chart,
        json!({"bars": 5, "hot": 1, "bound": "4", "missing": 1}),
        "five weeks with values, one missing, the alert's week marked, the bound drawn"
    );
    browser
        .wait_text("[data-testid=alert-deliveries]", "+23276000001")
        .await;
    browser
        .wait_text("[data-testid=alert-deliveries]", "sorie@example.org")
        .await;
    let counts = browser
        .wait_text("[data-testid=delivery-counts]", "sms failed: 1")
        .await;
    assert!(counts.contains("email sent: 1"), "{counts}");
    browser.screenshot("detail").await;
    browser.click_css("[data-testid=acknowledge]").await;
    browser
        .wait_text(&format!("[data-alert-status='{alert}']"), "acknowledged")
        .await;
    let (_, body) = app
        .request(Method::GET, &format!("/api/v2/alerts/{alert}"))
        .auth(admin.basic())
        .status_and_json()
        .await;
    assert_eq!(body["status"], "acknowledged");
    assert_eq!(body["acknowledged_by"], admin.username.as_str());

    // Deliveries, filtered by status in the URL; a failed one retried.
    browser
        .goto(&format!(
            "{}/admin/deliveries?status=failed&alert_id={alert}",
            app.address
        ))
        .await;
    browser
        .wait_text("[data-testid=deliveries-shown]", "1 deliveries")
        .await;
    assert!(
        browser
            .all(&format!("button[data-retry='{sent}']"))
            .await
            .is_empty()
    );
    let db = sql(&app).await;
    let before: chrono::DateTime<chrono::Utc> = db
        .query_one(
            "SELECT updated_at FROM notify_deliveries WHERE id = $1",
            &[&failed],
        )
        .await
        .unwrap()
        .get(0);
    browser
        .click_css(&format!("button[data-retry='{failed}']"))
        .await;
    browser
        .wait_text("#toasts", &format!("Delivery {failed} queued again"))
        .await;
    let after: chrono::DateTime<chrono::Utc> = db
        .query_one(
            "SELECT updated_at FROM notify_deliveries WHERE id = $1",
            &[&failed],
        )
        .await
        .unwrap()
        .get(0);
    assert!(after > before, "the retry reached the database");
    browser
        .goto(&format!("{}/admin/deliveries?recipient=sorie", app.address))
        .await;
    browser
        .wait_text("[data-testid=deliveries-shown]", "1 deliveries")
        .await;
    browser.wait_text("main table", "sorie@example.org").await;
    browser.screenshot("deliveries").await;
    browser.assert_clean(&[NOT_LOGGED_IN]).await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn console_alerts_and_deliveries_for_a_viewer_at_360_px() {
    let app = TestApp::spawn().await;
    let admin = create_user(&app, Role::Admin).await;
    let viewer = create_user(&app, Role::Viewer).await;
    let (alert, _, _) = seeded_alert(&app, &admin).await;

    let browser = Browser::start("alerts_viewer", 360).await;
    log_in(
        &browser,
        &app.address,
        &format!("/admin/alerts/{alert}"),
        &viewer,
    )
    .await;
    browser
        .wait_text("[data-testid=alert-deliveries]", "+23276000001")
        .await;
    assert_eq!(
        write_controls(&browser).await,
        0,
        "a viewer sees no acknowledge"
    );
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page fits 360 px: {overflow}"
    );
    browser.screenshot("detail_360").await;
    browser
        .goto(&format!("{}/admin/deliveries", app.address))
        .await;
    browser
        .wait_text("[data-testid=deliveries-shown]", "2 deliveries")
        .await;
    assert_eq!(write_controls(&browser).await, 0, "a viewer sees no retry");
    browser.screenshot("deliveries_360").await;
    // The server refuses the viewer's session anyway (CSRF token included, role not).
    let refused = browser
        .eval_async(&format!(
            "const done = arguments[arguments.length - 1]; \
             fetch('/admin/auth/session').then(r => r.json()).then(s => \
               fetch('/api/v2/alerts/{alert}/acknowledge', {{method: 'POST', headers: {{'X-CSRF-Token': s.csrf_token}}}})) \
             .then(r => done(r.status));"
        ))
        .await;
    assert_eq!(refused, json!(403));
    browser.assert_clean(&[NOT_LOGGED_IN, "acknowledge"]).await;
    browser.close().await;
    app.stop().await;
}
