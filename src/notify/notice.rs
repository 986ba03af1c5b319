//! The hand-over from the alert run: an [`AlertNotice`] and [`plan_deliveries`], which writes one
//! queued delivery per matching (recipient, channel) in the caller's transaction.

use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};

use super::NotifyError;
use super::matching::{any_path_matches, disease_matches};

/// The four kinds of alert, each with its own message wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    OneCase,
    Rise,
    Cluster,
    Statistical,
}

impl AlertKind {
    pub const ALL: [AlertKind; 4] = [
        AlertKind::OneCase,
        AlertKind::Rise,
        AlertKind::Cluster,
        AlertKind::Statistical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::OneCase => "one_case",
            AlertKind::Rise => "rise",
            AlertKind::Cluster => "cluster",
            AlertKind::Statistical => "statistical",
        }
    }
}

/// What the notifications need to know of one new alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertNotice {
    pub alert_id: i64,
    pub kind: AlertKind,
    pub disease_code: Option<String>,
    pub disease_name: String,
    pub data_element: String,
    pub org_unit: String,
    pub org_unit_name: String,
    /// The org unit's DHIS2 path, `/root/…/ou`.
    pub org_unit_path: String,
    pub week: dhis2gw_detect::IsoWeek,
    pub count: f64,
    pub expected: Option<f64>,
    pub upper_bound: Option<f64>,
    pub reason: String,
    /// Facilities with cases, as the run words them (e.g. `Clinic A (3)`).
    pub facilities: Vec<String>,
    /// Where the alert is verified (DHIS2 Capture), if the run knows it.
    pub capture_url: Option<String>,
    pub severity: String,
}

/// The channel of one delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Telegram,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Telegram];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Telegram => "telegram",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Writes the notice and one queued delivery for each matching (recipient, channel), in the
/// caller's transaction; returns how many deliveries are new. Planning the same alert twice adds
/// nothing, and one address reached twice (from DHIS2 and from the configuration) gets one
/// message. The delivery task finds the rows once the transaction commits (it polls for them).
pub async fn plan_deliveries(
    client: &impl GenericClient,
    notice: &AlertNotice,
) -> Result<u64, NotifyError> {
    let max_level_above: i32 = client
        .query_opt("SELECT max_level_above FROM notify_settings", &[])
        .await?
        .map(|r| r.get(0))
        .unwrap_or(1);
    let json = serde_json::to_value(notice)
        .map_err(|e| NotifyError::Config(format!("alert notice: {e}")))?;
    client
        .execute(
            "INSERT INTO notify_notices (alert_id, notice) VALUES ($1, $2)
             ON CONFLICT (alert_id) DO NOTHING",
            &[&notice.alert_id, &json],
        )
        .await?;
    let candidates = client
        .query(
            "SELECT id, source, name, coalesce(first_name, ''), org_unit_paths, diseases,
                    email, phone, telegram, telegram_blocked_at IS NOT NULL
               FROM notify_recipients
              WHERE source <> 'dhis2'
                 OR EXISTS (SELECT 1 FROM unnest(org_unit_paths) p
                             WHERE $1 = p OR starts_with($1, p || '/'))
              ORDER BY id",
            &[&notice.org_unit_path],
        )
        .await?;
    let (mut ids, mut names, mut firsts, mut broadcasts, mut channels, mut addresses) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for row in candidates {
        let source: String = row.get(1);
        let paths: Vec<String> = row.get(4);
        let diseases: Option<Vec<String>> = row.get(5);
        if source == "dhis2"
            && !any_path_matches(&paths, &notice.org_unit_path, max_level_above.max(0) as u32)
        {
            continue;
        }
        if !disease_matches(
            diseases.as_deref(),
            notice.disease_code.as_deref(),
            &notice.data_element,
        ) {
            continue;
        }
        let blocked: bool = row.get(9);
        let found = [
            (Channel::Email, row.get::<_, Option<String>>(6)),
            (Channel::Sms, row.get::<_, Option<String>>(7)),
            (
                Channel::Telegram,
                row.get::<_, Option<String>>(8).filter(|_| !blocked),
            ),
        ];
        for (channel, address) in found {
            let Some(address) = address.filter(|a| !a.is_empty()) else {
                continue;
            };
            ids.push(row.get::<_, i64>(0));
            names.push(row.get::<_, String>(2));
            firsts.push(row.get::<_, String>(3));
            broadcasts.push(source == "broadcast");
            channels.push(channel.as_str().to_string());
            addresses.push(address);
        }
    }
    if ids.is_empty() {
        return Ok(0);
    }
    let planned = client
        .execute(
            "INSERT INTO notify_deliveries
                    (alert_id, recipient_id, recipient_name, first_name, broadcast, channel, address)
             SELECT $1, r, n, f, b, c, a
               FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bool[], $6::text[], $7::text[])
                    AS t(r, n, f, b, c, a)
             ON CONFLICT (alert_id, channel, address) DO NOTHING",
            &[
                &notice.alert_id,
                &ids,
                &names,
                &firsts,
                &broadcasts,
                &channels,
                &addresses,
            ],
        )
        .await?;
    Ok(planned)
}
