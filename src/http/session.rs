//! JWT login, refresh and logout (/api/v2/auth/…).

use poem_openapi::OpenApi;

use crate::http::Tag;
use crate::state::AppState;

pub struct SessionApi {
    pub state: AppState,
}

#[OpenApi(tag = "Tag::Auth")]
impl SessionApi {}
