//! `POST /api/v2/logs/requeue`, the route behind the console's "Requeue selected" and "Requeue
//! all matching…": by ids or by the log's filters, a dry run that only counts, admin only; and
//! the one requeue guard: a row with no DHIS2 payload to send (as adopted from the original
//! database) is never requeued, by any path, and is reported with its reason.

use dhis2_sim::Fault;
use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::pipeline::{Env, aggregate_body, caller};
use crate::support::users::sql;

async fn requeue(env: &Env, auth: &str, body: Value) -> (u16, Value) {
    env.app
        .request(Method::POST, "/api/v2/logs/requeue")
        .auth(auth)
        .json(&body)
        .status_and_json()
        .await
}

async fn status_of(env: &Env, id: i64) -> String {
    env.log(id).await["status"].as_str().unwrap().to_owned()
}

/// Four failed submissions (DHIS2 answered 503), one delivered; the newest failed one is made
/// to look adopted: its stored DHIS2 payload emptied, as `migrate --adopt` leaves a row the
/// original never built one for. Returns (failed ids oldest first, the adopted one).
async fn failed_and_adopted(env: &Env) -> (Vec<i64>, i64) {
    env.sim.set_fault_always(Some(Fault::Status(503)));
    for period in ["202401", "202402", "202403", "202404"] {
        env.submit(&aggregate_body(period, json!({"MAL_SUSP": 5})))
            .await;
    }
    env.run_pending_deliveries().await;
    env.sim.set_fault_always(None);
    env.submit(&aggregate_body("202405", json!({"MAL_SUSP": 5})))
        .await;
    env.run_pending_deliveries().await;
    let (_, page) = env
        .app
        .request(Method::GET, "/api/v2/logs?status=failed&page_size=50")
        .auth(&env.admin.authorization)
        .status_and_json()
        .await;
    let mut failed: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    failed.sort_unstable();
    assert_eq!(failed.len(), 4, "{page}");
    let adopted = failed[3];
    let db = sql(&env.app).await;
    db.execute(
        "UPDATE submission_log SET dhis2_payload = '' WHERE id = $1",
        &[&adopted],
    )
    .await
    .unwrap();
    (failed, adopted)
}

#[tokio::test]
async fn requeue_by_filter_counts_first_then_requeues_and_skips_rows_without_a_payload() {
    let env = Env::start_with(|s| s.server.max_retries = 0).await;
    let (failed, adopted) = failed_and_adopted(&env).await;
    let admin = env.admin.authorization.clone();

    // The dry run counts and changes nothing.
    let (status, dry) = requeue(&env, &admin, json!({"status": "failed", "dry_run": true})).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["matched"], 4, "{dry}");
    assert_eq!(dry["requeued"], 3, "{dry}");
    assert_eq!(dry["no_payload"], 1, "{dry}");
    assert!(
        dry["no_payload_reason"]
            .as_str()
            .unwrap()
            .contains("no DHIS2 payload"),
        "{dry}"
    );
    for id in &failed {
        assert_eq!(
            status_of(&env, *id).await,
            "failed",
            "a dry run changed {id}"
        );
    }

    // A filter that also matches the delivered row: it is settled, so it is requeued too; the
    // text filter narrows to one period.
    let (_, narrow) = requeue(&env, &admin, json!({"text": "202402", "dry_run": true})).await;
    assert_eq!(
        (narrow["matched"].as_i64(), narrow["requeued"].as_i64()),
        (Some(1), Some(1)),
        "{narrow}"
    );

    // For real: three requeued, the adopted one named and left failed.
    let (status, done) = requeue(&env, &admin, json!({"status": "failed"})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["requeued"], 3, "{done}");
    assert_eq!(done["no_payload_ids"], json!([adopted]), "{done}");
    assert_eq!(done["remaining"], 0);
    for id in &failed[..3] {
        assert_eq!(status_of(&env, *id).await, "queued");
    }
    assert_eq!(status_of(&env, adopted).await, "failed");
    // They reach DHIS2 now; the adopted row never does.
    env.run_pending_deliveries().await;
    for id in &failed[..3] {
        assert_eq!(status_of(&env, *id).await, "completed");
    }
    assert_eq!(
        env.sim.received_data_value_sets().len(),
        4,
        "1 + the 3 requeued"
    );

    // Rows still owed a delivery are left alone by a filter requeue.
    env.submit(&aggregate_body("202406", json!({"MAL_SUSP": 5})))
        .await;
    let (_, open) = requeue(&env, &admin, json!({"status": "queued", "dry_run": true})).await;
    assert_eq!(
        (
            open["matched"].as_i64(),
            open["still_open"].as_i64(),
            open["requeued"].as_i64()
        ),
        (Some(1), Some(1), Some(0)),
        "{open}"
    );

    // Bad input: no ids and no filter, ids and filters together, a bad filter value.
    for body in [
        json!({}),
        json!({"dry_run": true}),
        json!({"ids": [failed[0]], "status": "failed"}),
        json!({"ids": []}),
        json!({"status": "lost"}),
        json!({"from_date": "yesterday"}),
        json!({"text": "a\u{0}b"}),
    ] {
        let (status, answer) = requeue(&env, &admin, body.clone()).await;
        assert_eq!(status, 422, "{body} -> {answer}");
    }
    // The list shares the filters, and refuses the same NUL.
    let (status, answer) = env
        .app
        .request(Method::GET, "/api/v2/logs?text=a%00b")
        .auth(&admin)
        .status_and_json()
        .await;
    assert_eq!(status, 422, "{answer}");
}

#[tokio::test]
async fn every_requeue_path_skips_a_row_without_a_payload_and_says_why() {
    let env = Env::start_with(|s| s.server.max_retries = 0).await;
    let (failed, adopted) = failed_and_adopted(&env).await;
    let admin = env.admin.authorization.clone();

    // The selection (ids): the others requeued, the adopted one reported; an unknown id too.
    let (status, dry) = requeue(
        &env,
        &admin,
        json!({"ids": [failed[0], adopted, 999_999], "dry_run": true}),
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        (dry["requeued"].as_i64(), dry["no_payload"].as_i64()),
        (Some(1), Some(1)),
        "{dry}"
    );
    assert_eq!(dry["not_found"], json!([999_999]));
    assert_eq!(status_of(&env, failed[0]).await, "failed");
    let (status, done) = requeue(&env, &admin, json!({"ids": [failed[0], adopted, 999_999]})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["requeued"], 1, "{done}");
    assert_eq!(done["no_payload_ids"], json!([adopted]), "{done}");
    assert_eq!(done["not_found"], json!([999_999]));
    assert_eq!(status_of(&env, failed[0]).await, "queued");

    // One, from its log row or by task id: refused with the reason (its state, not the request,
    // is what refuses it: a 409).
    let (status, body) = env
        .app
        .request(Method::POST, &format!("/api/v2/logs/{adopted}/restart"))
        .auth(&admin)
        .status_and_json()
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "conflict", "{body}");
    assert!(body.to_string().contains("no DHIS2 payload"), "{body}");
    let task = env.log(adopted).await["task_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = env
        .app
        .request(Method::POST, &format!("/api/v2/aggregate/reenqueue/{task}"))
        .auth(&admin)
        .status_and_json()
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("no DHIS2 payload"), "{body}");

    // The system's own requeue (the `retry` job's path): skipped and reported, not an error.
    let report = env
        .app
        .state
        .submissions()
        .requeue_many(None, &[adopted, failed[1]])
        .await
        .unwrap();
    assert_eq!(report.no_payload, vec![adopted]);
    assert_eq!(report.requeued, vec![failed[1]]);
    assert_eq!(status_of(&env, adopted).await, "failed");
    let db = sql(&env.app).await;
    let row = db
        .query_one(
            "SELECT requeue_count, (SELECT count(*) FROM submission_open WHERE id = $1) \
             FROM submission_log WHERE id = $1",
            &[&adopted],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i32>(0), row.get::<_, i64>(1)),
        (0, 0),
        "never touched"
    );
}

#[tokio::test]
async fn requeue_many_is_for_admins_only() {
    let env = Env::start().await;
    let viewer = caller(&env.app, Role::Viewer).await;
    let body = json!({"status": "failed", "dry_run": true});
    for (auth, expected) in [
        (None, 401),
        (Some(viewer.authorization.as_str()), 403),
        (Some(env.submitter.authorization.as_str()), 403),
        (Some(env.admin.authorization.as_str()), 200),
    ] {
        let status = env
            .app
            .request(Method::POST, "/api/v2/logs/requeue")
            .auth_if(auth)
            .json(&body)
            .send()
            .await
            .status();
        assert_eq!(status, expected, "{auth:?}");
    }
}

#[tokio::test]
async fn console_requeues_everything_matching_a_filter_after_a_counted_confirmation() {
    use super::driver::Browser;
    use super::{NOT_LOGGED_IN, log_in};

    let env = Env::start_with(|s| s.server.max_retries = 0).await;
    let (failed, adopted) = failed_and_adopted(&env).await;
    let browser = Browser::start("requeue_matching", 1280).await;
    log_in(
        &browser,
        &env.app.address,
        "/admin/submissions?status=failed",
        &env.admin.user,
    )
    .await;
    browser
        .wait_text("[data-testid=summary]", "4 matching")
        .await;
    browser.click_css("[data-testid=requeue-matching]").await;
    let question = browser
        .wait_text("dialog[data-testid=confirm]", "Requeue 3 of the 4")
        .await;
    assert!(
        question.contains("1 without a payload to send are skipped"),
        "{question}"
    );
    browser.screenshot("confirm").await;
    // Nothing happened before the confirmation.
    assert_eq!(status_of(&env, failed[0]).await, "failed");
    browser.click_css("[data-testid=confirm-yes]").await;
    let told = browser.wait_text("#toasts", "Requeued 3 of 4").await;
    assert!(told.contains("no DHIS2 payload"), "{told}");
    for id in &failed[..3] {
        assert_eq!(status_of(&env, *id).await, "queued");
    }
    assert_eq!(status_of(&env, adopted).await, "failed");
    browser
        .wait_text("[data-testid=summary]", "1 matching")
        .await;
    browser.assert_clean(&[NOT_LOGGED_IN]).await;
    browser.close().await;
}
