//! The recipient directory: DHIS2 users of the configured user groups (one request per group),
//! and the static and broadcast recipients of the configuration. Addresses are validated as they
//! are stored; an invalid one is kept with its reason and never sent to.

use std::collections::BTreeMap;

use deadpool_postgres::Pool;
use serde::Deserialize;

use super::NotifyError;
use super::address::{email, phone, telegram};
use crate::config::NotificationsSettings;
use crate::dhis2::Dhis2Client;

/// The fields asked of DHIS2 for each user.
pub const USER_FIELDS: &str = "id,username,firstName,surname,email,phoneNumber,telegram,whatsApp,disabled,organisationUnits[id,path]";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dhis2User {
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    surname: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone_number: Option<String>,
    #[serde(default)]
    telegram: Option<String>,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    organisation_units: Vec<OrgUnitRef>,
}

#[derive(Debug, Clone, Deserialize)]
struct OrgUnitRef {
    #[serde(default)]
    path: Option<String>,
}

/// What a directory sync changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    pub users: u64,
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
    pub invalid_addresses: u64,
}

/// One validated address column pair: the address, or the reason it is skipped.
type Checked = (Option<String>, Option<String>);

fn checked(result: Option<Result<String, String>>) -> Checked {
    match result {
        None => (None, None),
        Some(Ok(a)) => (Some(a), None),
        Some(Err(reason)) => (None, Some(reason)),
    }
}

/// Reads every configured group from DHIS2 and rewrites the `dhis2` rows: members added or
/// updated, users who left every group or were disabled removed.
pub async fn sync_dhis2(
    db: &Pool,
    dhis2: &Dhis2Client,
    settings: &NotificationsSettings,
) -> Result<SyncReport, NotifyError> {
    let mut users: BTreeMap<String, Dhis2User> = BTreeMap::new();
    for group in &settings.user_groups {
        let path = format!(
            "users?filter=userGroups.id:eq:{}&fields={USER_FIELDS}&paging=false",
            url::form_urlencoded::byte_serialize(group.as_bytes()).collect::<String>()
        );
        let answer = dhis2
            .get_json(&path)
            .await
            .map_err(|e| NotifyError::Directory(format!("user group {group}: {e}")))?;
        let list: Vec<Dhis2User> = serde_json::from_value(
            answer
                .get("users")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
        )
        .map_err(|e| NotifyError::Directory(format!("user group {group}: users: {e}")))?;
        for user in list.into_iter().filter(|u| !u.disabled) {
            users.insert(user.id.clone(), user);
        }
    }
    let mut report = SyncReport {
        users: users.len() as u64,
        ..SyncReport::default()
    };
    let mut client = crate::db::TxConn::new(db.get().await?);
    let tx = client.transaction().await?;
    for user in users.values() {
        let name = [user.first_name.as_deref(), user.surname.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let name = if name.trim().is_empty() {
            user.username.clone().unwrap_or_else(|| user.id.clone())
        } else {
            name
        };
        let paths: Vec<String> = user
            .organisation_units
            .iter()
            .filter_map(|o| o.path.clone())
            .collect();
        let e = checked(user.email.as_deref().map(email));
        let p = checked(
            user.phone_number
                .as_deref()
                .map(|p| phone(p, &settings.default_country_code)),
        );
        let t = checked(user.telegram.as_deref().map(telegram));
        report.invalid_addresses +=
            [&e.1, &p.1, &t.1].iter().filter(|r| r.is_some()).count() as u64;
        let inserted: bool = tx
            .query_one(
                "INSERT INTO notify_recipients (source, source_key, username, name, first_name,
                        org_unit_paths, email, email_skip, phone, phone_skip, telegram, telegram_skip)
                 VALUES ('dhis2', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (source, source_key) DO UPDATE SET
                        username = $2, name = $3, first_name = $4, org_unit_paths = $5,
                        email = $6, email_skip = $7, phone = $8, phone_skip = $9,
                        telegram_skip = $11, synced_at = now(),
                        telegram_blocked_at = CASE WHEN notify_recipients.telegram IS DISTINCT FROM $10
                                              THEN NULL ELSE notify_recipients.telegram_blocked_at END,
                        telegram = $10
                 RETURNING (xmax = 0)",
                &[
                    &user.id,
                    &user.username,
                    &name,
                    &user.first_name,
                    &paths,
                    &e.0,
                    &e.1,
                    &p.0,
                    &p.1,
                    &t.0,
                    &t.1,
                ],
            )
            .await?
            .get(0);
        if inserted {
            report.added += 1;
        } else {
            report.updated += 1;
        }
    }
    let keep: Vec<String> = users.keys().cloned().collect();
    report.removed = tx
        .execute(
            "DELETE FROM notify_recipients WHERE source = 'dhis2' AND NOT (source_key = ANY($1))",
            &[&keep],
        )
        .await?;
    tx.commit().await?;
    client.transaction_ended();
    Ok(report)
}

/// Rewrites the static and broadcast recipients and the matching settings from the
/// configuration (at start and on every reload).
pub async fn sync_configured(
    db: &Pool,
    settings: &NotificationsSettings,
) -> Result<(), NotifyError> {
    let mut client = crate::db::TxConn::new(db.get().await?);
    let tx = client.transaction().await?;
    tx.execute(
        "UPDATE notify_settings SET max_level_above = $1, updated_at = now()",
        &[&(settings.max_level_above as i32)],
    )
    .await?;
    let mut keys = Vec::new();
    let mut entries: Vec<(&str, String, Vec<String>)> = Vec::new();
    for line in &settings.static_recipients {
        let mut words = line.split_whitespace();
        let Some((channel, address)) = words.next().and_then(|w| w.split_once(':')) else {
            tracing::warn!(entry = %line, "notifications.static_recipients: not `channel:address`");
            continue;
        };
        let diseases: Vec<String> = words.map(str::to_string).collect();
        entries.push(("static", format!("{channel}:{address}"), diseases));
    }
    for chat in &settings.telegram_broadcast_chat_ids {
        entries.push(("broadcast", format!("telegram:{}", chat.trim()), Vec::new()));
    }
    for (source, key, diseases) in entries {
        let (channel, address) = key.split_once(':').expect("built with a colon");
        let (mut e, mut p, mut t): (Checked, Checked, Checked) = Default::default();
        match channel {
            "email" => e = checked(Some(email(address))),
            "sms" => p = checked(Some(phone(address, &settings.default_country_code))),
            "telegram" => t = checked(Some(telegram(address))),
            other => {
                tracing::warn!(
                    channel = other,
                    "notifications.static_recipients: unknown channel"
                );
                continue;
            }
        }
        let diseases = (!diseases.is_empty()).then_some(diseases);
        tx.execute(
            "INSERT INTO notify_recipients (source, source_key, name, diseases, email, email_skip,
                    phone, phone_skip, telegram, telegram_skip)
             VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (source, source_key) DO UPDATE SET diseases = $3, email = $4,
                    email_skip = $5, phone = $6, phone_skip = $7, telegram = $8,
                    telegram_skip = $9, synced_at = now()",
            &[&source, &key, &diseases, &e.0, &e.1, &p.0, &p.1, &t.0, &t.1],
        )
        .await?;
        keys.push(key);
    }
    tx.execute(
        "DELETE FROM notify_recipients WHERE source IN ('static', 'broadcast')
            AND NOT (source_key = ANY($1))",
        &[&keys],
    )
    .await?;
    tx.commit().await?;
    client.transaction_ended();
    Ok(())
}

/// The `directory` job: skipped, saying so, when `notifications.user_groups` is empty; a dry run
/// only reads the groups. Returns (why skipped, counts) for the job's record.
pub async fn run_job(
    db: &Pool,
    settings: &crate::config::Settings,
    dry_run: bool,
) -> anyhow::Result<(Option<String>, serde_json::Map<String, serde_json::Value>)> {
    let n = &settings.notifications;
    if n.user_groups.is_empty() {
        return Ok((
            Some("not configured: notifications.user_groups is empty".into()),
            serde_json::Map::new(),
        ));
    }
    if dry_run {
        anyhow::bail!("the directory job has no dry run");
    }
    let client = Dhis2Client::new(&settings.api)?;
    let report = sync_dhis2(db, &client, n).await?;
    let counts = match serde_json::to_value(report)? {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    Ok((None, counts))
}
