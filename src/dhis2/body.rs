//! What a DHIS2 (or proxy) body is (JSON, HTML, text, nothing) and the human message in it
//! (WebMessage `message`, HTML `<title>`), for error texts and parsers alike.

use serde_json::Value;

/// What a response body turned out to be.
pub(crate) enum Body {
    Empty,
    Json(Value),
    Html,
    Text,
}

/// A body without its byte-order mark and surrounding whitespace: what a JSON parser is given.
pub(crate) fn json_text(body: &str) -> &str {
    body.trim_start_matches('\u{feff}').trim()
}

pub(crate) fn sniff(body: &str) -> Body {
    let trimmed = json_text(body);
    if trimmed.is_empty() {
        return Body::Empty;
    }
    if let Ok(value) = serde_json::from_str::<Value>(trimmed) {
        return Body::Json(value);
    }
    if trimmed.starts_with('<') {
        Body::Html
    } else {
        Body::Text
    }
}

/// The longest human message we lift from a body into an error text.
const MAX_DETAIL_CHARS: usize = 200;

/// The message a person should read from a body: a DHIS2 WebMessage's `message`, an HTML page's
/// `<title>` (or first `<h1>`), or the first line of plain text.
pub(crate) fn message_of(body: &str) -> Option<String> {
    let text = match sniff(body) {
        Body::Empty => return None,
        Body::Json(value) => json_message(&value)?,
        Body::Html => html_title(body)?,
        Body::Text => body.trim().lines().next()?.to_owned(),
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(truncate_chars(text, MAX_DETAIL_CHARS))
}

/// `": <message>"` for error texts, or nothing.
pub(crate) fn detail_of(body: &str) -> String {
    message_of(body)
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

fn json_message(value: &Value) -> Option<String> {
    ["message", "description", "error"]
        .iter()
        .find_map(|key| value.get(key).and_then(Value::as_str))
        .map(str::to_owned)
}

/// The `<title>` of an HTML page, else its first `<h1>`.
pub(crate) fn html_title(body: &str) -> Option<String> {
    // ASCII lowercasing keeps every byte offset, and the offsets found are at ASCII `<`/`>`, so
    // slicing `body` with them stays on char boundaries.
    let lower = body.to_ascii_lowercase();
    for (open, close) in [("<title", "</title>"), ("<h1", "</h1>")] {
        let Some(start) = lower.find(open) else {
            continue;
        };
        let Some(gt) = lower[start..].find('>') else {
            continue;
        };
        let content_start = start + gt + 1;
        let Some(len) = lower[content_start..].find(close) else {
            continue;
        };
        let title = body[content_start..content_start + len].trim();
        if !title.is_empty() {
            return Some(title.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    None
}

pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A short name for what a body is, for `Unparsable` reasons.
pub(crate) fn body_kind(body: &str) -> &'static str {
    match sniff(body) {
        Body::Empty => "an empty body",
        Body::Json(_) => "JSON of an unexpected shape",
        Body::Html => "an HTML page",
        Body::Text => "text that is not JSON",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_title_of_nginx_page() {
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(html_title(page).as_deref(), Some("502 Bad Gateway"));
        assert_eq!(
            html_title("<HTML><BODY><H1>Service  Unavailable</H1></BODY></HTML>").as_deref(),
            Some("Service Unavailable")
        );
        assert_eq!(html_title("<html><title>"), None);
        assert_eq!(html_title("<tïtle>é</title>"), None);
    }

    #[test]
    fn message_of_each_body_kind() {
        assert_eq!(
            message_of(
                r#"{"httpStatus":"Unauthorized","status":"ERROR","message":"Unauthorized"}"#
            )
            .as_deref(),
            Some("Unauthorized")
        );
        assert_eq!(message_of("   "), None);
        assert_eq!(
            message_of("Bad Gateway\nmore").as_deref(),
            Some("Bad Gateway")
        );
        let long = "x".repeat(500);
        assert_eq!(
            message_of(&long).unwrap().chars().count(),
            MAX_DETAIL_CHARS + 1
        );
    }
}
