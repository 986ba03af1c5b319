//! User accounts and API tokens (/api/v2/user, /api/v2/users…, /api/v2/me).

use chrono::{DateTime, Utc};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::auth::accounts;
use crate::db::users::UserRow;
use crate::http::auth::ApiAuth;
use crate::http::{ApiError, Tag};
use crate::state::AppState;

pub struct UsersApi {
    pub state: AppState,
}

/// A user as the API shows it: never the password hash.
#[derive(Debug, Object)]
pub struct UserView {
    /// DHIS2-style 11-character id.
    pub uid: String,
    pub username: String,
    pub firstname: String,
    pub lastname: String,
    pub email: Option<String>,
    pub telephone: String,
    /// `admin`, `submitter` or `viewer`.
    pub role: String,
    pub is_active: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        UserView {
            uid: u.uid,
            username: u.username,
            firstname: u.firstname,
            lastname: u.lastname,
            email: u.email,
            telephone: u.telephone,
            role: u.role,
            is_active: u.is_active,
            last_login: u.last_login,
            created: u.created,
            updated: u.updated,
        }
    }
}

#[OpenApi(tag = "Tag::Users")]
impl UsersApi {
    /// The caller's own account.
    #[oai(path = "/api/v2/me", method = "get")]
    async fn me(&self, auth: ApiAuth) -> Result<Json<UserView>, ApiError> {
        let user = accounts::by_uid(self.state.db(), &auth.0.uid).await?;
        Ok(Json(user.into()))
    }
}
