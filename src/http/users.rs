//! User accounts (/api/v2/user, /api/v2/users…, /api/v2/me). The original's routes and response
//! keys, working: creation, the paginated list (never with hashes), partial updates, password
//! changes, deactivation. Their API tokens are [`super::api_tokens`].

use chrono::{DateTime, Utc};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::auth::accounts::{self, NewAccount};
use crate::auth::{AuthError, Role};
use crate::db::users::{UserChanges, UserFilter, UserRow};
use crate::http::auth::ApiAuth;
use crate::http::text::{Text, string};
use crate::http::{ApiError, FieldError, Tag};
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
    #[oai(nullable)]
    pub email: Option<String>,
    pub telephone: String,
    /// `admin`, `submitter` or `viewer`.
    pub role: String,
    pub is_active: bool,
    #[oai(nullable)]
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

/// A new user. The original's camelCase keys (`firstName`, `lastName`, `isActive`,
/// `isAdminUser`) are accepted too. Without `role`, `isAdminUser: true` means admin and
/// anything else `viewer`.
#[derive(Object)]
pub struct CreateUserBody {
    /// 1 to 150 letters, digits and `. _ @ + -`.
    pub username: Text,
    /// 8 to 1024 characters.
    #[oai(write_only)]
    pub password: Text,
    #[oai(nullable)]
    pub firstname: Option<Text>,
    #[oai(rename = "firstName")]
    #[oai(nullable)]
    pub first_name: Option<Text>,
    #[oai(nullable)]
    pub lastname: Option<Text>,
    #[oai(rename = "lastName")]
    #[oai(nullable)]
    pub last_name: Option<Text>,
    #[oai(nullable)]
    pub email: Option<Text>,
    #[oai(nullable)]
    pub telephone: Option<Text>,
    #[oai(nullable)]
    pub role: Option<Role>,
    #[oai(nullable)]
    pub is_active: Option<bool>,
    #[oai(rename = "isActive")]
    #[oai(nullable)]
    pub is_active_camel: Option<bool>,
    #[oai(rename = "isAdminUser")]
    #[oai(nullable)]
    pub is_admin_user: Option<bool>,
}

/// Fields to change; absent fields stay as they are (`email: null` clears the email).
#[derive(Object)]
pub struct UpdateUserBody {
    #[oai(nullable)]
    pub username: Option<Text>,
    #[oai(nullable)]
    pub firstname: Option<Text>,
    #[oai(rename = "firstName")]
    #[oai(nullable)]
    pub first_name: Option<Text>,
    #[oai(nullable)]
    pub lastname: Option<Text>,
    #[oai(rename = "lastName")]
    #[oai(nullable)]
    pub last_name: Option<Text>,
    #[oai(nullable)]
    pub email: MaybeUndefined<Text>,
    #[oai(nullable)]
    pub telephone: Option<Text>,
    #[oai(nullable)]
    pub role: Option<Role>,
    #[oai(nullable)]
    pub is_active: Option<bool>,
    #[oai(rename = "isActive")]
    #[oai(nullable)]
    pub is_active_camel: Option<bool>,
}

/// A password change: your own (with `old_password`), or anyone's as an admin.
#[derive(Object)]
pub struct PasswordBody {
    #[oai(write_only)]
    #[oai(nullable)]
    pub old_password: Option<Text>,
    /// 8 to 1024 characters.
    #[oai(write_only)]
    pub new_password: Text,
}

#[derive(Object)]
pub struct CreatedBody {
    /// `User created successfully!`
    pub message: String,
    pub uid: String,
    pub user: UserView,
}

#[derive(Object)]
pub struct UserMessage {
    pub message: String,
    pub user: UserView,
}

#[derive(Object)]
pub struct Message {
    pub message: String,
}

/// One page of users, newest first.
#[derive(Object)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub total: i64,
    pub page: u32,
    pub total_pages: i64,
    pub page_size: u32,
}

#[derive(ApiResponse)]
pub enum CreatedResponse {
    #[oai(status = 201)]
    Created(Json<CreatedBody>),
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl UsersApi {
    async fn create(&self, body: CreateUserBody) -> Result<CreatedResponse, ApiError> {
        let role = body
            .role
            .or(body.is_admin_user.filter(|a| *a).map(|_| Role::Admin));
        let user = accounts::create(
            self.state.db(),
            NewAccount {
                username: body.username.trim().to_owned(),
                password: body.password.into(),
                firstname: body
                    .firstname
                    .or(body.first_name)
                    .unwrap_or_default()
                    .into(),
                lastname: body.lastname.or(body.last_name).unwrap_or_default().into(),
                email: non_blank(string(body.email)),
                telephone: body.telephone.unwrap_or_default().into(),
                role,
                is_active: body.is_active.or(body.is_active_camel).unwrap_or(true),
            },
        )
        .await?;
        Ok(CreatedResponse::Created(Json(CreatedBody {
            message: "User created successfully!".into(),
            uid: user.uid.clone(),
            user: user.into(),
        })))
    }
}

#[OpenApi(tag = "Tag::Users")]
impl UsersApi {
    /// Create a user (admin). 409 when the username is taken.
    #[oai(path = "/api/v2/user", method = "post")]
    async fn create_user(
        &self,
        _auth: ApiAuth,
        body: Json<CreateUserBody>,
    ) -> Result<CreatedResponse, ApiError> {
        self.create(body.0).await
    }

    /// Create a user (admin); same as POST /api/v2/user.
    #[oai(path = "/api/v2/users", method = "post")]
    async fn create_users(
        &self,
        _auth: ApiAuth,
        body: Json<CreateUserBody>,
    ) -> Result<CreatedResponse, ApiError> {
        self.create(body.0).await
    }

    /// List users (admin), newest first, filtered and paginated. `is_admin` is the original's
    /// filter: `true` means `role=admin`.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/api/v2/users", method = "get")]
    async fn list_users(
        &self,
        _auth: ApiAuth,
        uid: Query<Option<String>>,
        username: Query<Option<String>>,
        email: Query<Option<String>>,
        is_active: Query<Option<bool>>,
        role: Query<Option<Role>>,
        is_admin: Query<Option<bool>>,
        /// 1-based; default 1.
        #[oai(validator(minimum(value = "1"), maximum(value = "4294967295")))]
        page: Query<Option<u32>>,
        /// 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        page_size: Query<Option<u32>>,
    ) -> Result<Json<UserPage>, ApiError> {
        let page = page.0.unwrap_or(1);
        let page_size = page_size.0.unwrap_or(20);
        let mut details = Vec::new();
        if page < 1 {
            details.push(FieldError {
                field: "page".into(),
                message: "must be 1 or more".into(),
            });
        }
        if !(1..=100).contains(&page_size) {
            details.push(FieldError {
                field: "page_size".into(),
                message: "must be between 1 and 100".into(),
            });
        }
        if !details.is_empty() {
            return Err(ApiError::bad_request("invalid pagination", details));
        }
        let role = match (role.0, is_admin.0) {
            (Some(r), _) => Some(r.as_str().to_owned()),
            (None, Some(true)) => Some(Role::Admin.as_str().to_owned()),
            _ => None,
        };
        let filter = UserFilter {
            uid: non_blank(uid.0),
            username: non_blank(username.0),
            email: non_blank(email.0),
            is_active: is_active.0,
            role,
        };
        let (rows, total) = accounts::list(self.state.db(), &filter, page, page_size).await?;
        let size = i64::from(page_size);
        Ok(Json(UserPage {
            items: rows.into_iter().map(UserView::from).collect(),
            total,
            page,
            total_pages: (total + size - 1) / size,
            page_size,
        }))
    }

    /// One user (admin). 404 `User not found`.
    #[oai(path = "/api/v2/users/:uid", method = "get")]
    async fn get_user(
        &self,
        _auth: ApiAuth,
        uid: Path<String>,
    ) -> Result<Json<UserView>, ApiError> {
        Ok(Json(
            accounts::by_uid(self.state.db(), &uid.0).await?.into(),
        ))
    }

    /// Change a user (admin): only the fields given. Deactivating ends the user's sessions.
    #[oai(path = "/api/v2/users/:uid", method = "put")]
    async fn update_user(
        &self,
        auth: ApiAuth,
        uid: Path<String>,
        body: Json<UpdateUserBody>,
    ) -> Result<Json<UserMessage>, ApiError> {
        let body = body.0;
        let is_active = body.is_active.or(body.is_active_camel);
        if auth.0.uid == uid.0
            && (is_active == Some(false) || body.role.is_some_and(|r| r != auth.0.role))
        {
            return Err(AuthError::Conflict(
                "you cannot deactivate yourself or change your own role".into(),
            )
            .into());
        }
        let changes = UserChanges {
            username: body.username.map(|u| u.trim().to_owned()),
            firstname: string(body.firstname.or(body.first_name)),
            lastname: string(body.lastname.or(body.last_name)),
            email: match body.email {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(e) => Some(non_blank(Some(e.into()))),
            },
            telephone: string(body.telephone),
            role: body.role.map(|r| r.as_str().to_owned()),
            is_active,
        };
        let user = accounts::update(self.state.db(), &uid.0, changes).await?;
        self.state.auth_cache().invalidate();
        Ok(Json(UserMessage {
            message: "User updated successfully".into(),
            user: user.into(),
        }))
    }

    /// Deactivate a user (admin); the row stays for the logs. You cannot deactivate yourself.
    #[oai(path = "/api/v2/users/:uid", method = "delete")]
    async fn deactivate_user(
        &self,
        auth: ApiAuth,
        uid: Path<String>,
    ) -> Result<Json<UserMessage>, ApiError> {
        let user = accounts::deactivate(self.state.db(), &auth.0, &uid.0).await?;
        self.state.auth_cache().invalidate();
        Ok(Json(UserMessage {
            message: "User deactivated".into(),
            user: user.into(),
        }))
    }

    /// Change a password: your own with `old_password`, or anyone's as an admin. Ends the
    /// user's JWT sessions and lifts a lock-out.
    #[oai(path = "/api/v2/users/:uid/password", method = "post")]
    async fn change_password(
        &self,
        auth: ApiAuth,
        uid: Path<String>,
        body: Json<PasswordBody>,
    ) -> Result<Json<Message>, ApiError> {
        accounts::change_password(
            self.state.db(),
            &auth.0,
            &uid.0,
            body.old_password.as_deref(),
            &body.new_password,
        )
        .await?;
        Ok(Json(Message {
            message: "Password changed".into(),
        }))
    }

    /// The caller's own account.
    #[oai(path = "/api/v2/me", method = "get")]
    async fn me(&self, auth: ApiAuth) -> Result<Json<UserView>, ApiError> {
        let user = accounts::by_uid(self.state.db(), &auth.0.uid).await?;
        Ok(Json(user.into()))
    }
}
