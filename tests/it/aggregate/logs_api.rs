//! The log routes: filters (dates as days or RFC 3339, `to_date` inclusive), pagination bounds,
//! one item shape, submitters limited to their own rows, delete, purge, restart and the
//! original's requeue routes.

use dhis2gw::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::pipeline::{Caller, Env, aggregate_body, caller};
use crate::support::users;

async fn page(env: &Env, who: &Caller, query: &str) -> Value {
    let response = env.get(who, &format!("/api/v2/logs{query}")).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

async fn submit_as(env: &Env, who: &Caller, period: &str, value: i64) -> i64 {
    let response = env
        .post(
            who,
            "/api/v2/aggregate",
            &aggregate_body(period, json!({"MAL_SUSP": value})),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["submission_id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn filters_pages_and_one_item_shape() {
    let env = Env::start().await;
    env.sim
        .set_fault_always(Some(dhis2_sim::Fault::Status(400)));
    let a = submit_as(&env, &env.submitter, "202401", 11).await;
    let b = submit_as(&env, &env.submitter, "202402", 22).await;
    let c = submit_as(&env, &env.admin, "202403", 33).await;
    env.run_pending_deliveries().await;
    let sql = users::sql(&env.app).await;
    sql.execute(
        "UPDATE submission_log SET submitted_at = '2024-03-10T23:30:00Z' WHERE id = $1",
        &[&a],
    )
    .await
    .unwrap();
    sql.execute(
        "UPDATE submission_log SET submitted_at = '2024-03-11T08:00:00Z' WHERE id = $1",
        &[&b],
    )
    .await
    .unwrap();
    sql.execute("UPDATE submission_log SET submitted_at = '2024-03-12T08:00:00Z', status = 'completed' WHERE id = $1", &[&c]).await.unwrap();

    let all = page(&env, &env.admin, "").await;
    assert_eq!(ids(&all), [c, b, a], "newest first");
    assert_eq!(
        (
            all["total"].as_i64(),
            all["page"].as_i64(),
            all["page_size"].as_i64(),
            all["total_pages"].as_i64()
        ),
        (Some(3), Some(1), Some(10), Some(1))
    );
    let item = &all["items"][0];
    for key in [
        "task_id",
        "status",
        "submitted_at",
        "last_attempt_at",
        "retry_count",
        "attempts",
        "payload",
        "dhis2_payload",
        "response",
        "response_status",
        "conflicts",
        "errors",
        "imported",
    ] {
        assert!(item.get(key).is_some(), "{key} missing: {item}");
    }
    assert!(
        item["dhis2_payload"].is_object() && item["task_id"].is_string(),
        "plain values: {item}"
    );
    let single = env.log(c).await;
    assert_eq!(
        single, all["items"][0],
        "the same shape alone and in the list"
    );

    assert_eq!(ids(&page(&env, &env.admin, "?status=failed").await), [b, a]);
    assert_eq!(
        ids(&page(&env, &env.admin, &format!("?job_id={b}")).await),
        [b]
    );
    let task = all["items"][1]["task_id"].as_str().unwrap();
    assert_eq!(
        ids(&page(&env, &env.admin, &format!("?task_id={task}")).await),
        [b]
    );
    assert_eq!(
        ids(&page(&env, &env.admin, "?submitted_at=2024-03-11").await),
        [b]
    );
    assert_eq!(
        ids(&page(&env, &env.admin, "?from_date=2024-03-11&to_date=2024-03-11").await),
        [b],
        "to_date includes its day"
    );
    assert_eq!(
        ids(&page(&env, &env.admin, "?to_date=2024-03-11T08:00:00Z").await),
        [b, a]
    );
    assert_eq!(
        ids(&page(&env, &env.admin, "?from_date=2024-03-10T23:45:00%2B00:00").await),
        [c, b]
    );
    let user = &env.admin.user.username;
    assert_eq!(
        ids(&page(&env, &env.admin, &format!("?user={user}")).await),
        [c]
    );
    assert_eq!(ids(&page(&env, &env.admin, "?text=202402").await), [b]);
    assert_eq!(
        ids(&page(&env, &env.admin, "?text=simulated%20FAULT&status=failed").await),
        [b, a],
        "text searches the response too"
    );
    let second = page(&env, &env.admin, "?page=2&page_size=2").await;
    assert_eq!(
        (ids(&second), second["total_pages"].as_i64()),
        (vec![a], Some(2))
    );

    for bad in [
        "?page=0",
        "?page_size=0",
        "?page_size=501",
        "?status=done",
        "?from_date=yesterday",
        "?task_id=17",
        "?kind=sms",
    ] {
        let response = env.get(&env.admin, &format!("/api/v2/logs{bad}")).await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["details"].as_array().unwrap().len(),
            1,
            "{bad}: {body}"
        );
    }
}

#[tokio::test]
async fn submitters_see_and_requeue_only_their_own() {
    let env = Env::start().await;
    let mine = submit_as(&env, &env.submitter, "202401", 1).await;
    let theirs = submit_as(&env, &env.admin, "202401", 2).await;
    env.run_pending_deliveries().await;
    assert_eq!(ids(&page(&env, &env.submitter, "").await), [mine]);
    assert_eq!(ids(&page(&env, &env.admin, "").await), [theirs, mine]);
    let viewer = caller(&env.app, Role::Viewer).await;
    assert_eq!(
        ids(&page(&env, &viewer, "").await).len(),
        2,
        "a viewer reads everything"
    );
    assert_eq!(
        env.get(&env.submitter, &format!("/api/v2/logs/{theirs}"))
            .await
            .status(),
        403
    );
    async fn restart(env: &Env, who: &Caller, id: i64) -> reqwest::Response {
        env.post(who, &format!("/api/v2/logs/{id}/restart"), &json!({}), None)
            .await
    }
    assert_eq!(restart(&env, &env.submitter, theirs).await.status(), 403);
    assert_eq!(restart(&env, &viewer, mine).await.status(), 403);
    assert_eq!(restart(&env, &env.submitter, 999_999).await.status(), 404);
    let response = restart(&env, &env.submitter, mine).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "queued");
    env.run_pending_deliveries().await;
    let log = env.log(mine).await;
    assert_eq!(
        (
            log["status"].as_str(),
            log["requeue_count"].as_i64(),
            log["attempts"].as_i64()
        ),
        (Some("completed"), Some(1), Some(2))
    );
    assert_eq!(
        env.get(&env.submitter, "/api/v2/logs/not-a-number")
            .await
            .status(),
        400
    );
    assert_eq!(
        env.get(&env.admin, "/api/v2/logs/424242").await.status(),
        404
    );
}

#[tokio::test]
async fn the_original_requeue_routes_work_from_the_log() {
    let env = Env::start().await;
    let id = submit_as(&env, &env.submitter, "202401", 5).await;
    let other = submit_as(&env, &env.admin, "202401", 6).await;
    env.run_pending_deliveries().await;
    let task = env.log(id).await["task_id"].as_str().unwrap().to_owned();
    let other_task = env.log(other).await["task_id"].as_str().unwrap().to_owned();
    // Redis no longer holds finished jobs; requeue works anyway, from the log row.
    let response = env
        .get(
            &env.submitter,
            &format!("/api/v2/aggregate/reenqueue/{task}"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], format!("Re-enqueued task {task}"));
    assert_eq!(body["submission_id"], id);
    env.run_pending_deliveries().await;
    assert_eq!(env.log(id).await["attempts"], 2);
    assert_eq!(
        env.get(
            &env.submitter,
            &format!("/api/v2/aggregate/reenqueue/{other_task}")
        )
        .await
        .status(),
        403
    );
    let unknown = env
        .get(
            &env.admin,
            "/api/v2/aggregate/reenqueue/6f1c0b5e-1111-4a5b-9c3d-2e7f00000000",
        )
        .await;
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .starts_with("Job log not found for task ID")
    );
    assert_eq!(
        env.get(&env.admin, "/api/v2/aggregate/reenqueue/nope")
            .await
            .status(),
        400
    );

    let batch = json!({"queue": "dead", "task_ids": [task, other_task, "nope", "6f1c0b5e-1111-4a5b-9c3d-2e7f00000000"]});
    let response = env
        .post(
            &env.submitter,
            "/api/v2/aggregate/reenqueue/batch",
            &batch,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (
            body["queue"].as_str(),
            body["reEnqueued"].as_i64(),
            body["failed"].as_i64()
        ),
        (Some("dead"), Some(1), Some(3)),
        "{body}"
    );
    let response = env
        .post(
            &env.admin,
            "/api/v2/aggregate/reenqueue/batch",
            &json!({"task_ids": []}),
            None,
        )
        .await;
    assert_eq!(response.status(), 400);
    env.run_pending_deliveries().await;
    assert_eq!(env.log(id).await["requeue_count"], 2);
}

#[tokio::test]
async fn delete_and_purge_are_for_admins_and_keep_open_rows() {
    let env = Env::start().await;
    env.sim.set_latency(std::time::Duration::from_secs(30));
    let done = submit_as(&env, &env.admin, "202401", 1).await;
    let open = submit_as(&env, &env.admin, "202402", 2).await;
    let gone = submit_as(&env, &env.admin, "202403", 3).await;
    let sql = users::sql(&env.app).await;
    sql.execute("UPDATE submission_log SET status = 'completed', submitted_at = '2020-01-01Z' WHERE id = ANY($1)", &[&vec![done, gone]]).await.unwrap();
    sql.execute(
        "UPDATE submission_log SET status = 'queued', submitted_at = '2020-01-01Z' WHERE id = $1",
        &[&open],
    )
    .await
    .unwrap();
    let delete = |who: &Caller, path: String| {
        env.app
            .request(Method::DELETE, &path)
            .auth(&who.authorization)
            .send()
    };
    assert_eq!(
        delete(&env.submitter, format!("/api/v2/logs/{gone}"))
            .await
            .status(),
        403
    );
    let response = delete(&env.admin, format!("/api/v2/logs/{gone}")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["message"],
        "Deleted 1 log(s)"
    );
    assert_eq!(
        delete(&env.admin, format!("/api/v2/logs/{gone}"))
            .await
            .status(),
        404
    );

    assert_eq!(
        delete(&env.admin, "/api/v2/logs/purge".into())
            .await
            .status(),
        400
    );
    assert_eq!(
        delete(&env.admin, "/api/v2/logs/purge?date=last-week".into())
            .await
            .status(),
        400
    );
    assert_eq!(
        delete(&env.submitter, "/api/v2/logs/purge?date=2021-01-01".into())
            .await
            .status(),
        403
    );
    let response = delete(
        &env.admin,
        "/api/v2/logs/purge?date=2021-01-01T00:00:00Z".into(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["deleted"].as_u64(), body["kept_open"].as_u64()),
        (Some(1), Some(1)),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Deleted 1 logs older than 2021-01-01")
    );
    let left: Vec<i64> = sql
        .query("SELECT id FROM submission_log ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        left,
        [open],
        "a submission still owed a delivery is never purged"
    );
}
