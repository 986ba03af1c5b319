//! The submission log (/api/v2/logs…).

use poem_openapi::OpenApi;

use crate::http::Tag;
use crate::state::AppState;

pub struct LogsApi {
    pub state: AppState,
}

#[OpenApi(tag = "Tag::Logs")]
impl LogsApi {}
