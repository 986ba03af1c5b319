//! JWT login, refresh and logout (/api/v2/auth/…). Public routes: the credentials are in the
//! body. Access tokens go in `Authorization: Bearer …`; refresh tokens only to /auth/refresh
//! and /auth/logout.

use chrono::{DateTime, Utc};
use poem::web::RemoteAddr;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::auth::session::{self, Session};
use crate::http::text::Text;
use crate::http::users::UserView;
use crate::http::{ApiError, Tag};
use crate::state::AppState;

pub struct SessionApi {
    pub state: AppState,
}

/// Username and password. (No `Debug`: it would print the password.)
#[derive(Object)]
pub struct LoginBody {
    pub username: Text,
    #[oai(write_only)]
    pub password: Text,
}

/// A refresh token from login or a previous refresh.
#[derive(Object)]
pub struct RefreshBody {
    #[oai(write_only)]
    pub refresh_token: String,
}

/// A new session: an access token for `Authorization: Bearer …` and a refresh token.
#[derive(Object)]
pub struct SessionBody {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires (`auth.access_token_ttl_secs`).
    pub expires_in: i64,
    pub expires_at: DateTime<Utc>,
    /// Single use: exchange it at /api/v2/auth/refresh for a new pair. Using it twice ends the
    /// session.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub user: UserView,
}

#[derive(ApiResponse)]
pub enum SessionResponse {
    #[oai(status = 200)]
    Ok(Json<SessionBody>),
}

#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// The session is over; its refresh tokens no longer work.
    #[oai(status = 204)]
    LoggedOut,
}

impl SessionApi {
    async fn answer(&self, session: Session) -> Result<SessionResponse, ApiError> {
        let user = crate::auth::accounts::by_uid(self.state.db(), &session.principal.uid).await?;
        Ok(SessionResponse::Ok(Json(SessionBody {
            expires_in: (session.access_expires_at - Utc::now())
                .num_seconds()
                .max(0),
            access_token: session.access_token,
            token_type: "Bearer".into(),
            expires_at: session.access_expires_at,
            refresh_token: session.refresh_token,
            refresh_expires_at: session.refresh_expires_at,
            user: user.into(),
        })))
    }
}

#[OpenApi(tag = "Tag::Auth")]
impl SessionApi {
    /// Log in with username and password; returns a short-lived access token (JWT, HS256) and
    /// a refresh token. Throttled per (username, client address) (a locked pair: 401 `login_locked` with Retry-After).
    #[oai(path = "/api/v2/auth/login", method = "post")]
    async fn login(
        &self,
        body: Json<LoginBody>,
        remote: &RemoteAddr,
    ) -> Result<SessionResponse, ApiError> {
        let settings = self.state.settings();
        let ip = remote.as_socket_addr().map(|a| a.ip());
        let session = session::login(
            self.state.db(),
            &settings.auth,
            &body.username,
            &body.password,
            ip,
        )
        .await?;
        self.answer(session).await
    }

    /// Exchange a refresh token for a new access token and a new refresh token. The old refresh
    /// token stops working; presenting it again revokes the whole session.
    #[oai(path = "/api/v2/auth/refresh", method = "post")]
    async fn refresh(&self, body: Json<RefreshBody>) -> Result<SessionResponse, ApiError> {
        let settings = self.state.settings();
        let session =
            session::refresh(self.state.db(), &settings.auth, &body.refresh_token).await?;
        self.answer(session).await
    }

    /// End the session the refresh token belongs to. Access tokens already issued stay valid
    /// until they expire (`auth.access_token_ttl_secs`).
    #[oai(path = "/api/v2/auth/logout", method = "post")]
    async fn logout(&self, body: Json<RefreshBody>) -> Result<LogoutResponse, ApiError> {
        session::logout(self.state.db(), &body.refresh_token).await?;
        Ok(LogoutResponse::LoggedOut)
    }
}
