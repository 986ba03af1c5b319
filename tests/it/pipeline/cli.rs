//! `dhis2gw logs list|show|requeue|purge` and `dhis2gw run-job retry`, run as the binary against
//! the database and queue of a running app.

use dhis2_sim::Fault;
use serde_json::{Value, json};

use crate::support::pipeline::{Env, aggregate_body};
use crate::support::process::{config_file, run};
use crate::support::users;

fn cli(env: &Env, args: &[&str]) -> (bool, String, String) {
    let s = &env.app.settings.server;
    let config = config_file(&format!(
        "database:\n  uri: {}\nserver:\n  redis_address: {}\n  redis_cluster_nodes: {}\n  queue_prefix: {}\n",
        env.app.db_url,
        s.redis_address,
        serde_json::to_string(&s.redis_cluster_nodes).unwrap(),
        s.queue_prefix
    ));
    let mut full = vec!["--config-file", config.path().to_str().unwrap()];
    full.extend_from_slice(args);
    let out = run(&full, &[]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn sysadmins_list_show_requeue_and_purge_from_the_shell() {
    let env = Env::start_with(|s| s.server.max_retries = 0).await;
    env.sim.set_fault_always(Some(Fault::Status(503)));
    let failed = env
        .submit(&aggregate_body("202401", json!({"MAL_SUSP": 1})))
        .await;
    let id = failed["submission_id"].as_i64().unwrap();
    env.run_pending_deliveries().await;

    let (ok, out, err) = cli(&env, &["logs", "list", "--status", "failed"]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("{id:>8}")) && out.contains("failed") && out.contains("202401"),
        "{out}"
    );
    let (ok, out, _) = cli(&env, &["logs", "list", "--status", "completed", "--json"]);
    assert!(ok && out.trim().is_empty(), "{out}");
    let (ok, _, err) = cli(&env, &["logs", "list", "--status", "done"]);
    assert!(!ok && err.contains("--status"), "{err}");

    let task = failed["task_id"].as_str().unwrap();
    let (ok, out, err) = cli(&env, &["logs", "show", task]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            shown["id"].as_i64(),
            shown["status"].as_str(),
            shown["response_status"].as_i64()
        ),
        (Some(id), Some("failed"), Some(503))
    );

    // The retry job: this failure ran out of retries on a 503, so it is eligible.
    let (ok, out, _) = cli(&env, &["run-job", "retry", "--dry-run"]);
    assert!(
        ok && out.contains("1 failed submission(s) would be requeued"),
        "{out}"
    );
    env.sim.set_fault_always(None);
    let (ok, out, err) = cli(&env, &["logs", "requeue", &id.to_string()]);
    assert!(ok && out.contains("requeued 1"), "{out}{err}");
    env.run_pending_deliveries().await;
    assert_eq!(env.log(id).await["status"], "completed");
    let (ok, out, _) = cli(&env, &["run-job", "retry"]);
    assert!(ok && out.contains("requeued 0"), "{out}");

    let sql = users::sql(&env.app).await;
    sql.execute(
        "UPDATE submission_log SET submitted_at = '2020-06-01Z'",
        &[],
    )
    .await
    .unwrap();
    let (ok, out, _) = cli(&env, &["logs", "purge", "--before", "2021-01-01"]);
    assert!(ok && out.contains("Add --yes"), "{out}");
    let (ok, out, _) = cli(&env, &["logs", "purge", "--before", "2021-01-01", "--yes"]);
    assert!(ok && out.contains("deleted 1"), "{out}");
    let (ok, _, err) = cli(&env, &["logs", "show", &id.to_string()]);
    assert!(!ok && err.contains("no submission"), "{err}");
}
