//! The DHIS2 calls of writing an alert to the tracker: the alert-number attribute's `generate`
//! endpoint, and the import itself (`POST /api/tracker`, `importStrategy=CREATE_AND_UPDATE`, so
//! a retried import with the same pre-generated UIDs updates what a lost answer had created).

use serde_json::Value;

use super::client::{Dhis2Client, TrackerMode};
use super::error::Dhis2Error;
use super::import_summary::ImportOutcome;
use super::tracker_report::parse_tracker_report;
use super::wire::send;

impl Dhis2Client {
    /// `GET /api/trackedEntityAttributes/{uid}/generate`: the next value of an attribute with a
    /// generation pattern. `Ok(None)` when DHIS2 says the attribute has no pattern (a 4xx other
    /// than 401/403), so the caller numbers alerts itself.
    #[tracing::instrument(name = "dhis2.generate_attribute", skip(self))]
    pub async fn generate_attribute_value(
        &self,
        attribute: &str,
    ) -> Result<Option<String>, Dhis2Error> {
        match self
            .get_json(&format!("trackedEntityAttributes/{attribute}/generate"))
            .await
        {
            Ok(value) => Ok(value
                .get("value")
                .and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .filter(|s| !s.is_empty())),
            Err(Dhis2Error::Client { status, .. }) if (400..500).contains(&status) => Ok(None),
            Err(Dhis2Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /api/trackedEntityAttributes/{uid}/generateAndReserve?numberToReserve=n`: the next
    /// `n` values of an attribute with a generation pattern, in one call. `Ok(None)` when DHIS2
    /// refuses (a 4xx other than 401/403: no pattern, or a DHIS2 without the endpoint).
    #[tracing::instrument(name = "dhis2.reserve_attribute", skip(self))]
    pub async fn reserve_attribute_values(
        &self,
        attribute: &str,
        n: usize,
    ) -> Result<Option<Vec<String>>, Dhis2Error> {
        let path =
            format!("trackedEntityAttributes/{attribute}/generateAndReserve?numberToReserve={n}");
        match self.get_json(&path).await {
            Ok(Value::Array(items)) => Ok(Some(
                items
                    .iter()
                    .filter_map(|v| match v.get("value") {
                        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                        Some(Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
            )),
            Ok(_) => Ok(None),
            Err(Dhis2Error::Client { status, .. }) if (400..500).contains(&status) => Ok(None),
            Err(Dhis2Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Imports an alert's tracked entity, enrollment and event. Sync: `async=false` with
    /// `importStrategy=CREATE_AND_UPDATE` and `atomicMode=ALL`; async: the job is followed to its
    /// report as every tracker import is ([`Dhis2Client::post_tracker`]; DHIS2's default strategy
    /// is CREATE_AND_UPDATE).
    #[tracing::instrument(name = "dhis2.post_alert", skip_all)]
    pub async fn post_alert_tracker(
        &self,
        payload: &Value,
        mode: TrackerMode,
    ) -> Result<ImportOutcome, Dhis2Error> {
        if !matches!(mode, TrackerMode::Sync) {
            return self.post_tracker(payload, mode).await;
        }
        let request = self
            .http()
            .post(self.api_url("tracker"))
            .query(&[
                ("async", "false"),
                ("importStrategy", "CREATE_AND_UPDATE"),
                ("atomicMode", "ALL"),
            ])
            .json(payload);
        let (status, body) = send(request).await?;
        parse_tracker_report(status, &body)
    }
}
