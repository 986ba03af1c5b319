//! The SMS link: with `server.public_url` set, an SMS carries the short link to the alert's page
//! on dhis2gw (`/a/{id}`) and stays within 2 segments where the long Capture link would not fit.

use std::time::Duration;

use dhis2gw::notify::directory::sync_configured;
use dhis2gw::notify::sms::segments;
use notify_fakes::smtp::SmtpMode;
use notify_fakes::telegram::FakeTelegram;

use super::delivery::form_value;
use super::env::{NotifyEnv, notice};

const CAPTURE: &str =
    "https://dhis2.example.org/dhis-web-capture/index.html#/enrollment?enrollmentId=Abcdefghijk";

/// A one-case alert with names long enough that the message and the Capture link together take
/// more than 2 segments.
fn long_notice(alert_id: i64) -> dhis2gw::notify::AlertNotice {
    let mut n = notice(alert_id);
    n.disease_name =
        "VHF (Ebola, Marburg, Lassa Fever, RVF, Crimean-Congo Haemorrhagic Fever, Yellow Fever)"
            .into();
    n.org_unit_name =
        "Kapiri Mposhi Central District Health Office Catchment Area and its Rural Health Posts"
            .into();
    n.capture_url = Some(CAPTURE.into());
    n
}

#[tokio::test]
async fn an_sms_carries_the_short_link_to_the_alert_within_two_segments() {
    let mut env = NotifyEnv::start(SmtpMode::Plain, FakeTelegram::start().await).await;
    env.settings.notifications.static_recipients = vec!["sms:+260971000001".into()];
    sync_configured(&env.pool, &env.settings.notifications)
        .await
        .unwrap();

    // Without server.public_url the Capture link does not fit in 2 segments and is left out.
    assert_eq!(env.plan(&long_notice(1)).await, 1);
    env.run_until_settled(env.deliverer(), Duration::from_secs(30))
        .await;
    let first = form_value(&env.sms.accepted()[0].body, "message");
    assert!(
        first.starts_with("eIDSR Alert | 1: Unusual cluster in suspected cases of VHF"),
        "{first}"
    );
    assert!(!first.contains("http"), "{first}");
    assert!(segments(&first) <= 2);

    // With it, the short link fits and is sent.
    env.settings.server.public_url = "https://gw.example.org/".into();
    assert_eq!(env.plan(&long_notice(2)).await, 1);
    env.run_until_settled(env.deliverer(), Duration::from_secs(30))
        .await;
    let sent = env.sms.accepted();
    assert_eq!(sent.len(), 2);
    let second = form_value(&sent[1].body, "message");
    assert!(
        second.starts_with("eIDSR Alert | 2: Unusual cluster in suspected cases of VHF"),
        "{second}"
    );
    assert!(
        second.ends_with(" https://gw.example.org/a/2"),
        "the short link, not the Capture link: {second}"
    );
    assert!(!second.contains("dhis-web-capture"), "{second}");
    assert_eq!(segments(&second), 2, "{second}");
    assert!(
        segments(&format!("{second} {CAPTURE}")) > 2,
        "the Capture link would not have fitted"
    );
}
