//! Alert notifications (/api/v2/deliveries, /api/v2/recipients): the deliveries log with each
//! attempt's provider answer, a person's retry of one delivery, and the recipient directory with
//! the reason each skipped address is skipped.

use chrono::{DateTime, Utc};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::http::auth::ApiAuth;
use crate::http::{ApiError, FieldError, Tag};
use crate::notify::NotifyError;
use crate::notify::log::{self, DeliveryFilter, DeliveryRow, RecipientRow};
use crate::state::AppState;

pub struct DeliveriesApi {
    pub state: AppState,
}

const MAX_PAGE: i64 = 500;

/// One attempt and the provider's answer.
#[derive(Debug, Object)]
pub struct AttemptView {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// `sent`, `retry` or `failed`.
    pub outcome: String,
    pub answer: String,
}

/// One message to one address on one channel for one alert.
#[derive(Debug, Object)]
pub struct DeliveryView {
    pub id: i64,
    pub alert_id: i64,
    /// `email`, `sms` or `telegram`.
    pub channel: String,
    pub address: String,
    #[oai(nullable)]
    pub recipient_id: Option<i64>,
    pub recipient_name: String,
    /// A Telegram group chat that gets every alert.
    pub broadcast: bool,
    /// `queued`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    #[oai(nullable)]
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[oai(nullable)]
    pub sent_at: Option<DateTime<Utc>>,
    pub history: Vec<AttemptView>,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(r: DeliveryRow) -> Self {
        DeliveryView {
            id: r.id,
            alert_id: r.alert_id,
            channel: r.channel,
            address: r.address,
            recipient_id: r.recipient_id,
            recipient_name: r.recipient_name,
            broadcast: r.broadcast,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
            sent_at: r.sent_at,
            history: r
                .history
                .into_iter()
                .map(|(attempt, at, outcome, answer)| AttemptView {
                    attempt,
                    at,
                    outcome,
                    answer,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[oai(nullable)]
    pub next_before: Option<i64>,
}

/// One entry of the recipient directory.
#[derive(Debug, Object)]
pub struct RecipientView {
    pub id: i64,
    /// `dhis2` (a user group member), `static` or `broadcast` (from the configuration).
    pub source: String,
    /// The DHIS2 user id, or `channel:address`.
    pub source_key: String,
    #[oai(nullable)]
    pub username: Option<String>,
    pub name: String,
    pub org_unit_paths: Vec<String>,
    #[oai(nullable)]
    pub diseases: Option<Vec<String>>,
    #[oai(nullable)]
    pub email: Option<String>,
    /// Why the user's email is not used.
    #[oai(nullable)]
    pub email_skip: Option<String>,
    #[oai(nullable)]
    pub phone: Option<String>,
    #[oai(nullable)]
    pub phone_skip: Option<String>,
    #[oai(nullable)]
    pub telegram: Option<String>,
    #[oai(nullable)]
    pub telegram_skip: Option<String>,
    /// When Telegram said this chat blocked the bot.
    #[oai(nullable)]
    pub telegram_blocked_at: Option<DateTime<Utc>>,
    pub synced_at: DateTime<Utc>,
}

impl From<RecipientRow> for RecipientView {
    fn from(r: RecipientRow) -> Self {
        RecipientView {
            id: r.id,
            source: r.source,
            source_key: r.source_key,
            username: r.username,
            name: r.name,
            org_unit_paths: r.org_unit_paths,
            diseases: r.diseases,
            email: r.email,
            email_skip: r.email_skip,
            phone: r.phone,
            phone_skip: r.phone_skip,
            telegram: r.telegram,
            telegram_skip: r.telegram_skip,
            telegram_blocked_at: r.telegram_blocked_at,
            synced_at: r.synced_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct RecipientPage {
    pub items: Vec<RecipientView>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(nullable)]
    pub next_after: Option<i64>,
}

#[derive(ApiResponse)]
pub enum RetryResponse {
    /// Queued again, due now.
    #[oai(status = 202)]
    Queued(Json<DeliveryView>),
}

fn limit(value: Option<i64>) -> Result<i64, ApiError> {
    let limit = value.unwrap_or(50);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::bad_request(
            "invalid query",
            vec![FieldError {
                field: "limit".into(),
                message: format!("{limit} is not between 1 and {MAX_PAGE}"),
            }],
        ))
    }
}

/// The channels a delivery list can be narrowed to.
#[derive(Debug, Clone, Copy, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum ChannelFilter {
    Email,
    Sms,
    Telegram,
}

impl ChannelFilter {
    fn as_str(self) -> &'static str {
        match self {
            ChannelFilter::Email => "email",
            ChannelFilter::Sms => "sms",
            ChannelFilter::Telegram => "telegram",
        }
    }
}

/// The delivery states a list can be narrowed to.
#[derive(Debug, Clone, Copy, poem_openapi::Enum)]
#[oai(rename = "DeliveryStatusFilter", rename_all = "snake_case")]
pub enum StatusFilter {
    Queued,
    Sent,
    Failed,
}

impl StatusFilter {
    fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Queued => "queued",
            StatusFilter::Sent => "sent",
            StatusFilter::Failed => "failed",
        }
    }
}

#[OpenApi(tag = "Tag::Notifications")]
impl DeliveriesApi {
    /// Deliveries, newest first, with each attempt's provider answer (admin, viewer).
    #[oai(path = "/api/v2/deliveries", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list_deliveries(
        &self,
        _auth: ApiAuth,
        alert_id: Query<Option<i64>>,
        channel: Query<Option<ChannelFilter>>,
        status: Query<Option<StatusFilter>>,
        /// Part of the address or of the recipient's name.
        recipient: Query<Option<String>>,
        /// Only deliveries with an id below this (the previous page's `next_before`).
        before: Query<Option<i64>>,
        /// 1 to 500; default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<i64>>,
    ) -> Result<Json<DeliveryPage>, ApiError> {
        let limit = self::limit(limit.0)?;
        let rows = log::list(
            self.state.db(),
            &DeliveryFilter {
                alert_id: alert_id.0,
                channel: channel.0.map(|c| c.as_str().to_owned()),
                status: status.0.map(|s| s.as_str().to_owned()),
                recipient: recipient.0,
                before: before.0,
                limit,
            },
        )
        .await?;
        let next_before = (rows.len() as i64 == limit)
            .then(|| rows.last().map(|r| r.id))
            .flatten();
        Ok(Json(DeliveryPage {
            items: rows.into_iter().map(DeliveryView::from).collect(),
            next_before,
        }))
    }

    /// Queues a delivery again, due now (admin). One that used up its attempts gets one more.
    #[oai(path = "/api/v2/deliveries/:id/retry", method = "post")]
    async fn retry_delivery(
        &self,
        _auth: ApiAuth,
        id: Path<i64>,
    ) -> Result<RetryResponse, ApiError> {
        log::retry(self.state.db(), self.state.redis(), id.0).await?;
        let filter = DeliveryFilter {
            before: Some(id.0.saturating_add(1)),
            limit: 1,
            ..DeliveryFilter::default()
        };
        let row = log::list(self.state.db(), &filter)
            .await?
            .into_iter()
            .next()
            .filter(|r| r.id == id.0)
            .ok_or(NotifyError::NotFound(id.0))?;
        Ok(RetryResponse::Queued(Json(row.into())))
    }

    /// The recipient directory, by id, with the reason each skipped address is skipped (admin,
    /// viewer).
    #[oai(path = "/api/v2/recipients", method = "get")]
    async fn list_recipients(
        &self,
        _auth: ApiAuth,
        /// `dhis2`, `static` or `broadcast`.
        source: Query<Option<String>>,
        /// Only entries with an id above this (the previous page's `next_after`).
        after: Query<Option<i64>>,
        /// 1 to 500; default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<i64>>,
    ) -> Result<Json<RecipientPage>, ApiError> {
        let limit = self::limit(limit.0)?;
        let rows = log::recipients(
            self.state.db(),
            source.0.as_deref(),
            after.0.unwrap_or(0),
            limit,
        )
        .await?;
        let next_after = (rows.len() as i64 == limit)
            .then(|| rows.last().map(|r| r.id))
            .flatten();
        Ok(Json(RecipientPage {
            items: rows.into_iter().map(RecipientView::from).collect(),
            next_after,
        }))
    }
}
