//! `GET /a/{id}`: the short link an SMS carries to an alert (`{server.public_url}/a/42`, made by
//! `notify::attempt::short_link`), a 303
//! to the console's page of that alert, `/admin/alerts/{id}` (under `server.public_url`'s path
//! when it has one, so a dhis2gw published under a prefix by a proxy sends people there). The
//! link reveals nothing by itself: the console asks who is looking.

use poem::http::{StatusCode, header};
use poem::web::{Data, Path};
use poem::{Response, handler};

use crate::state::AppState;

/// Where `/a/{id}` sends people: `{path of server.public_url}/admin/alerts/{id}`.
pub fn alert_page(public_url: &str, id: i64) -> String {
    let prefix = url::Url::parse(public_url.trim())
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    format!("{prefix}/admin/alerts/{id}")
}

#[handler]
pub fn alert_link(Path(id): Path<String>, state: Data<&AppState>) -> Response {
    match id.parse::<i64>() {
        Ok(id) if id > 0 => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(
                header::LOCATION,
                alert_page(&state.settings().server.public_url, id),
            )
            .header(header::CACHE_CONTROL, "no-store")
            .finish(),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .content_type("text/plain; charset=utf-8")
            .body("no such alert link\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_pages() {
        assert_eq!(alert_page("", 42), "/admin/alerts/42");
        assert_eq!(alert_page("https://gw.example.org", 42), "/admin/alerts/42");
        assert_eq!(
            alert_page("https://example.org/gw/", 42),
            "/gw/admin/alerts/42"
        );
    }
}
