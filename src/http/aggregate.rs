//! Aggregate and tracker submission, and the requeue routes (/api/v2/aggregate…, /api/v2/tracker).

use poem_openapi::OpenApi;

use crate::http::Tag;
use crate::state::AppState;

pub struct SubmissionApi {
    pub state: AppState,
}

#[OpenApi(tag = "Tag::Submissions")]
impl SubmissionApi {}
