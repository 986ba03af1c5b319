//! User accounts and API tokens (/api/v2/user, /api/v2/users…, /api/v2/me).

use poem_openapi::OpenApi;

use crate::http::Tag;
use crate::state::AppState;

pub struct UsersApi {
    pub state: AppState,
}

#[OpenApi(tag = "Tag::Users")]
impl UsersApi {}
