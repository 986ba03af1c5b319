//! API tokens (/api/v2/users/getToken, …/refreshToken, /api/v2/users/{uid}/tokens…): the
//! original's routes, with tokens stored hashed and an admin's list and revocation.

use chrono::{DateTime, Utc};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::auth::AuthError;
use crate::auth::accounts;
use crate::auth::api_tokens::{self, IssuedToken};
use crate::db::tokens;
use crate::http::auth::ApiAuth;
use crate::http::users::Message;
use crate::http::{ApiError, Tag};
use crate::state::AppState;

pub struct ApiTokensApi {
    pub state: AppState,
}

/// A new API token, shown this once: send it as `Authorization: Token <token>`.
#[derive(Object)]
pub struct TokenBody {
    pub message: String,
    /// 40 hexadecimal characters.
    pub token: String,
    /// When the token stops working (`auth.api_token_ttl_days` from now).
    #[oai(nullable)]
    pub expires: Option<DateTime<Utc>>,
}

/// One of a user's API tokens (never the token itself: only its digest is stored).
#[derive(Object)]
pub struct ApiTokenView {
    pub id: i64,
    /// False once revoked or replaced.
    pub is_active: bool,
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub last_used_at: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
}

/// A user's API tokens, newest first.
#[derive(Object)]
pub struct ApiTokenList {
    pub username: String,
    pub items: Vec<ApiTokenView>,
}

#[derive(ApiResponse)]
pub enum TokenResponse {
    #[oai(status = 201)]
    Created(Json<TokenBody>),
}

fn token_body(message: &str, issued: IssuedToken) -> TokenResponse {
    TokenResponse::Created(Json(TokenBody {
        message: message.to_owned(),
        token: issued.token,
        expires: issued.expires_at,
    }))
}

#[OpenApi(tag = "Tag::Users")]
impl ApiTokensApi {
    /// Create an API token for yourself, valid `auth.api_token_ttl_days` (365 by default). Your
    /// other API tokens stop working, as in the original.
    #[oai(path = "/api/v2/users/getToken", method = "post")]
    async fn get_token(&self, auth: ApiAuth) -> Result<TokenResponse, ApiError> {
        let days = self.state.settings().auth.api_token_ttl_days;
        let issued =
            api_tokens::issue_replacing_all(self.state.db(), auth.0.user_id, Some(days)).await?;
        self.state.auth_cache().invalidate();
        Ok(token_body("Token created successfully", issued))
    }

    /// Replace your live API token with a new one: the new token is stored before the old one
    /// is revoked, so you are never left without one. 404 when you have no live token.
    #[oai(path = "/api/v2/users/refreshToken", method = "post")]
    async fn refresh_token(&self, auth: ApiAuth) -> Result<TokenResponse, ApiError> {
        let days = self.state.settings().auth.api_token_ttl_days;
        let issued = api_tokens::rotate(self.state.db(), auth.0.user_id, days).await?;
        self.state.auth_cache().invalidate();
        Ok(token_body("Token refreshed successfully", issued))
    }

    /// A user's API tokens, newest first, live and revoked (admin). 404 `User not found`.
    #[oai(path = "/api/v2/users/:uid/tokens", method = "get")]
    async fn list_user_tokens(
        &self,
        _auth: ApiAuth,
        uid: Path<String>,
    ) -> Result<Json<ApiTokenList>, ApiError> {
        let user = accounts::by_uid(self.state.db(), &uid.0).await?;
        let db = self.state.db().get().await.map_err(AuthError::from)?;
        let tokens = tokens::list_api_tokens(&db, Some(user.id))
            .await
            .map_err(AuthError::from)?;
        Ok(Json(ApiTokenList {
            username: user.username,
            items: tokens
                .into_iter()
                .map(|t| ApiTokenView {
                    id: t.id,
                    is_active: t.is_active,
                    expires_at: t.expires_at,
                    last_used_at: t.last_used_at,
                    created: t.created,
                })
                .collect(),
        }))
    }

    /// Revoke one of a user's API tokens (admin): it stops working at once. Revoking a token
    /// already revoked answers the same. 404 when the user or that user's token does not exist.
    #[oai(path = "/api/v2/users/:uid/tokens/:token_id", method = "delete")]
    async fn revoke_user_token(
        &self,
        _auth: ApiAuth,
        uid: Path<String>,
        token_id: Path<i64>,
    ) -> Result<Json<Message>, ApiError> {
        let user = accounts::by_uid(self.state.db(), &uid.0).await?;
        let db = self.state.db().get().await.map_err(AuthError::from)?;
        let was_active = tokens::deactivate_user_api_token(&db, user.id, token_id.0)
            .await
            .map_err(AuthError::from)?
            .ok_or_else(|| {
                AuthError::NotFound(format!("{} has no API token {}", user.username, token_id.0))
            })?;
        self.state.auth_cache().invalidate();
        if was_active {
            tracing::info!(user = %user.username, token_id = token_id.0, "API token revoked");
        }
        Ok(Json(Message {
            message: if was_active {
                format!("Token {} of {} revoked", token_id.0, user.username)
            } else {
                format!(
                    "Token {} of {} was already revoked",
                    token_id.0, user.username
                )
            },
        }))
    }
}
