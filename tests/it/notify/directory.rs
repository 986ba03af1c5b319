//! The directory against the DHIS2 simulator (`GET /api/users` filtered by user group), the
//! `directory` job's record, and SMS through DHIS2's own `POST /api/sms/outbound`.

use std::time::Duration;

use dhis2_sim::{SimConfig, start};
use dhis2gw::config::SmsProvider;
use dhis2gw::notify::directory::{run_job, sync_dhis2};
use notify_fakes::smtp::SmtpMode;
use notify_fakes::telegram::FakeTelegram;

use super::env::{NotifyEnv, notice};
use crate::support::pipeline::deliver_to;

#[tokio::test]
async fn the_directory_syncs_group_members_with_validated_addresses_and_sms_goes_through_dhis2() {
    let sim = start(SimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut env = NotifyEnv::start(SmtpMode::Plain, FakeTelegram::start().await).await;
    deliver_to(&mut env.settings, &sim);

    // No groups: the job says it is not configured.
    let (skipped, _) = run_job(&env.pool, &env.settings, false).await.unwrap();
    assert!(skipped.unwrap().contains("not configured"));

    env.settings.notifications.user_groups = vec!["p9ZB8AHWvLu".into()];
    let (skipped, counts) = run_job(&env.pool, &env.settings, false).await.unwrap();
    assert_eq!(skipped, None);
    assert_eq!(counts["users"], 2);
    assert_eq!(counts["added"], 2);
    assert_eq!(counts["invalid_addresses"], 1);
    let client = env.pool.get().await.unwrap();
    let moyamba = client
        .query_one(
            "SELECT name, email, phone, org_unit_paths FROM notify_recipients WHERE source_key = 'zks65UZTnvg'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(moyamba.get::<_, String>(0), "Amina Kamara");
    assert_eq!(
        moyamba.get::<_, Option<String>>(1).as_deref(),
        Some("amina.kamara@example.org")
    );
    assert_eq!(
        moyamba.get::<_, Option<String>>(2).as_deref(),
        Some("+23276123456")
    );
    let paths: Vec<String> = moyamba.get(3);
    assert_eq!(paths.len(), 1);
    assert!(
        paths[0].ends_with("/gf5JL2LyrVy") && paths[0].starts_with('/'),
        "{paths:?}"
    );
    let kenema = client
        .query_one(
            "SELECT telegram, telegram_skip FROM notify_recipients WHERE source_key = 'djRvcmPMOai'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(kenema.get::<_, Option<String>>(0), None);
    assert!(
        kenema
            .get::<_, String>(1)
            .contains("not a numeric Telegram chat id")
    );

    // A user who leaves every configured group is removed.
    env.settings.notifications.user_groups = vec!["FsIaHbgujVA".into()];
    let dhis2 = dhis2gw::dhis2::Dhis2Client::new(&env.settings.api).unwrap();
    let report = sync_dhis2(&env.pool, &dhis2, &env.settings.notifications)
        .await
        .unwrap();
    assert_eq!((report.added, report.removed), (2, 2));
    env.settings.notifications.user_groups = vec!["p9ZB8AHWvLu".into()];
    sync_dhis2(&env.pool, &dhis2, &env.settings.notifications)
        .await
        .unwrap();

    // SMS through DHIS2 to the district user only.
    env.settings.notifications.sms_provider = SmsProvider::Dhis2;
    env.settings.notifications.smtp_host = String::new();
    let mut alert = notice(5);
    alert.org_unit_path = paths[0].clone();
    let planned = env.plan(&alert).await;
    assert_eq!(planned, 2, "email and SMS for the district user");
    // Email is off: deliver the SMS and look at it.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(env.deliverer().run(stop_rx));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while env
        .count("SELECT count(*) FROM notify_deliveries WHERE channel = 'sms' AND status = 'sent'")
        .await
        == 0
    {
        assert!(std::time::Instant::now() < deadline, "no SMS sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_tx.send(true).unwrap();
    task.await.unwrap();
    let sent: Vec<_> = sim
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/sms/outbound"))
        .collect();
    assert_eq!(sent.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["recipients"], serde_json::json!(["+23276123456"]));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("eIDSR Alert | 5:")
    );
    sim.shutdown().await;
}
