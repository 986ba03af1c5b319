//! Who gets what: matching by org unit path, static and broadcast recipients, one message per
//! address, the original's wording, and escaping.

use std::collections::BTreeSet;
use std::time::Duration;

use dhis2gw::notify::directory::sync_configured;
use notify_fakes::smtp::SmtpMode;
use notify_fakes::telegram::FakeTelegram;

use super::env::{DISTRICT, NotifyEnv, SMS_SECRET, notice};
use super::mime::parts;

#[tokio::test]
async fn the_right_people_get_the_right_message_and_nobody_else() {
    let mut env = NotifyEnv::start(SmtpMode::StartTls, FakeTelegram::start().await).await;
    env.settings.notifications.static_recipients = vec![
        "email:epi@moh.test MEASLES".into(),
        "email:cholera-desk@moh.test CHOLERA".into(),
    ];
    env.settings.notifications.telegram_broadcast_chat_ids = vec!["-100500".into()];
    sync_configured(&env.pool, &env.settings.notifications)
        .await
        .unwrap();
    // max_level_above 1 (the default): the district and its province.
    env.add_user(
        "uDistrict",
        "Alice",
        &[DISTRICT],
        Some("alice@moh.test"),
        Some("+260971000001"),
        Some("1001"),
    )
    .await;
    env.add_user(
        "uProvince",
        "Bob",
        &["/ZM/LusakaP"],
        Some("bob@moh.test"),
        None,
        None,
    )
    .await;
    env.add_user(
        "uSecondOu",
        "Carol",
        &["/ZM/Copperbelt", DISTRICT],
        None,
        Some("+260971000003"),
        None,
    )
    .await;
    env.add_user(
        "uNational",
        "Dan",
        &["/ZM"],
        Some("dan@moh.test"),
        None,
        Some("1004"),
    )
    .await;
    env.add_user(
        "uFacility",
        "Eve",
        &["/ZM/LusakaP/LusakaD/Chelstone"],
        Some("eve@moh.test"),
        None,
        None,
    )
    .await;
    env.add_user(
        "uOtherDistrict",
        "Fay",
        &["/ZM/LusakaP/Chongwe"],
        Some("fay@moh.test"),
        None,
        None,
    )
    .await;
    env.add_user(
        "uPrefix",
        "Gus",
        &["/ZM/LusakaP/Lusaka"],
        Some("gus@moh.test"),
        None,
        None,
    )
    .await;

    // alice x3, bob, carol sms, epi static, the broadcast.
    assert_eq!(env.plan(&notice(1)).await, 7);
    assert_eq!(
        env.plan(&notice(1)).await,
        0,
        "planning the same alert again adds nothing"
    );
    env.run_until_settled(env.deliverer(), Duration::from_secs(30))
        .await;
    assert_eq!(env.statuses().await, vec![("sent".to_string(), 7)]);

    let mails = env.smtp.mails();
    let to: BTreeSet<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    let expected: BTreeSet<String> = ["alice@moh.test", "bob@moh.test", "epi@moh.test"]
        .map(String::from)
        .into();
    assert_eq!(to, expected);
    assert_eq!(mails.len(), 3);
    assert!(
        mails
            .iter()
            .all(|m| m.tls && m.from == "alerts@dhis2gw.test")
    );
    assert_eq!(
        env.smtp.connections(),
        1,
        "one pooled SMTP connection for every message"
    );
    let alice = mails.iter().find(|m| m.to == ["alice@moh.test"]).unwrap();
    let (headers, plain, html) = parts(&alice.data);
    assert!(
        headers.contains("Subject: eIDSR 1: Lusaka - Measles"),
        "{headers}"
    );
    assert!(
        headers.contains("From: \"MoH Surveillance\" <alerts@dhis2gw.test>")
            || headers.contains("From: MoH Surveillance <alerts@dhis2gw.test>"),
        "{headers}"
    );
    assert!(html.contains("<h4>Dear Alice,</h4>"), "{html}");
    assert!(
        html.contains("unusual cluster of suspected cases of <b>Measles</b>"),
        "{html}"
    );
    assert!(html.contains("<td>Kanyama Clinic (4)</td>"), "{html}");
    assert!(
        plain.contains("Dear Alice,") && plain.contains("Facilities affected:"),
        "{plain}"
    );

    let sms = env.sms.accepted();
    let numbers: BTreeSet<String> = sms
        .iter()
        .map(|r| form_value(&r.body, "phone_number"))
        .collect();
    assert_eq!(
        numbers,
        ["+260971000001", "+260971000003"].map(String::from).into()
    );
    let text = form_value(&sms[0].body, "message");
    assert!(
        text.starts_with(
            "eIDSR Alert | 1: Unusual cluster in suspected cases of Measles from Lusaka"
        ),
        "{text}"
    );
    assert!(dhis2gw::notify::sms::segments(&text) <= 2);
    assert_eq!(form_value(&sms[0].body, "certificate"), SMS_SECRET);

    let sent = env.telegram.sent();
    let chats: BTreeSet<i64> = sent.iter().map(|m| m.chat_id).collect();
    assert_eq!(chats, [-100500, 1001].into());
    let personal = sent.iter().find(|m| m.chat_id == 1001).unwrap();
    assert!(personal.text.contains("Dear Alice,"), "{}", personal.text);
    let group = sent.iter().find(|m| m.chat_id == -100500).unwrap();
    assert!(
        group
            .text
            .starts_with("eIDSR Alert | 1:\nWe have detected an unusual cluster"),
        "{}",
        group.text
    );
    assert!(!group.text.contains("Dear"));
}

#[tokio::test]
async fn a_name_with_script_and_braces_is_escaped_in_html_and_kept_in_text() {
    let env = NotifyEnv::start(SmtpMode::Plain, FakeTelegram::start().await).await;
    let nasty = "<script>alert(1)</script> {first_name} {{disease}}";
    env.add_user(
        "u1",
        nasty,
        &[DISTRICT],
        Some("x@moh.test"),
        None,
        Some("77"),
    )
    .await;
    let mut n = notice(9);
    n.disease_name = "Measles {0} & <i>co</i>".into();
    n.facilities = vec!["<img src=x onerror=alert(2)> (3)".into()];
    assert_eq!(env.plan(&n).await, 2);
    env.run_until_settled(env.deliverer(), Duration::from_secs(30))
        .await;

    let mails = env.smtp.mails();
    assert_eq!(mails.len(), 1);
    assert!(!mails[0].tls);
    let (headers, plain, html) = parts(&mails[0].data);
    assert!(
        !html.contains("<script>") && !html.contains("<img") && !html.contains("<i>co"),
        "{html}"
    );
    assert!(
        html.contains("Dear &lt;script&gt;alert(1)&lt;/script&gt; {first_name} {{disease}},"),
        "{html}"
    );
    assert!(
        html.contains("<b>Measles {0} &amp; &lt;i&gt;co&lt;/i&gt;</b>"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(2)&gt; (3)"),
        "{html}"
    );
    assert!(headers.contains("Measles {0}"), "{headers}");
    // Values are substituted once: braces in a value are not placeholders.
    assert!(plain.contains(&format!("Dear {nasty},")), "{plain}");
    let sent = env.telegram.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].text.contains(&format!("Dear {nasty},")),
        "{}",
        sent[0].text
    );
    assert!(sent[0].text.contains("Measles {0} & <i>co</i>"));
}

#[tokio::test]
async fn implicit_tls_delivers_with_authentication() {
    let mut env = NotifyEnv::start(SmtpMode::ImplicitTls, FakeTelegram::start().await).await;
    env.settings.notifications.smtp_user = "relay-user".into();
    env.settings.notifications.smtp_password = "relay-pass".into();
    env.add_user("u1", "Ann", &[DISTRICT], Some("ann@moh.test"), None, None)
        .await;
    env.plan(&notice(3)).await;
    env.run_until_settled(env.deliverer(), Duration::from_secs(30))
        .await;
    let mails = env.smtp.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls);
    assert_eq!(mails[0].user.as_deref(), Some("relay-user"));
}

/// A form field of an `application/x-www-form-urlencoded` body, decoded.
pub fn form_value(body: &str, name: &str) -> String {
    url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
