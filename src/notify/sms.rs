//! SMS: DHIS2's own gateway (`POST /api/sms/outbound`) or a generic HTTP gateway whose request is
//! a configuration template (method, URL, form or JSON body, headers, a secret, and how success
//! is recognised). Texts are kept within `notifications.sms_max_segments`.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, RETRY_AFTER};

use super::NotifyError;
use super::send::SendOutcome;
use crate::config::{ApiSettings, Dhis2AuthMethod, NotificationsSettings, SmsProvider};

/// How the configured provider is reached.
#[derive(Clone)]
enum Provider {
    Dhis2 {
        url: String,
        auth: HeaderValue,
    },
    Http {
        method: reqwest::Method,
        url: String,
        body: String,
        json: bool,
        headers: Vec<(String, String)>,
        success_contains: String,
        secret: String,
    },
}

/// The configured SMS provider.
#[derive(Clone)]
pub struct SmsSender {
    http: reqwest::Client,
    provider: Provider,
    max_segments: u32,
}

impl SmsSender {
    /// `None` when `notifications.sms_provider` is `none`.
    pub fn from_settings(
        s: &NotificationsSettings,
        api: &ApiSettings,
    ) -> Result<Option<SmsSender>, NotifyError> {
        let config = |m: String| NotifyError::Config(m);
        let provider = match s.sms_provider {
            SmsProvider::None => return Ok(None),
            SmsProvider::Dhis2 => {
                let client = crate::dhis2::Dhis2Client::new(api)
                    .map_err(|e| config(format!("SMS through DHIS2: {e}")))?;
                let credentials = match api.dhis2_auth_method {
                    Dhis2AuthMethod::Basic => {
                        use base64::Engine;
                        let pair = format!("{}:{}", api.dhis2_user, api.dhis2_password);
                        format!(
                            "Basic {}",
                            base64::engine::general_purpose::STANDARD.encode(pair)
                        )
                    }
                    Dhis2AuthMethod::Pat => format!("ApiToken {}", api.dhis2_pat),
                };
                let mut auth = HeaderValue::from_str(&credentials)
                    .map_err(|_| config("DHIS2 credentials are not a valid header".into()))?;
                auth.set_sensitive(true);
                Provider::Dhis2 {
                    url: client.api_url("sms/outbound"),
                    auth,
                }
            }
            SmsProvider::Http => {
                if s.sms_http_url.is_empty() {
                    return Err(config(
                        "notifications.sms_http_url is required with sms_provider http".into(),
                    ));
                }
                let mut headers = Vec::new();
                for line in &s.sms_http_headers {
                    let (name, value) = line.split_once(':').ok_or_else(|| {
                        config(format!(
                            "notifications.sms_http_headers: {line:?} is not `Name: value`"
                        ))
                    })?;
                    HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                        config(format!("notifications.sms_http_headers: bad name {name:?}"))
                    })?;
                    headers.push((name.trim().to_string(), value.trim().to_string()));
                }
                Provider::Http {
                    method: s.sms_http_method.parse().map_err(|_| {
                        config(format!(
                            "notifications.sms_http_method {:?}",
                            s.sms_http_method
                        ))
                    })?,
                    url: s.sms_http_url.clone(),
                    body: s.sms_http_body.clone(),
                    json: s.sms_http_content_type == "json",
                    headers,
                    success_contains: s.sms_http_success_contains.clone(),
                    secret: s.sms_secret.clone(),
                }
            }
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("dhis2gw/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| config(format!("SMS HTTP client: {e}")))?;
        Ok(Some(SmsSender {
            http,
            provider,
            max_segments: s.sms_max_segments.max(1),
        }))
    }

    pub fn max_segments(&self) -> u32 {
        self.max_segments
    }

    /// Sends `text` (already fitted) to one E.164 number.
    pub async fn send(&self, to: &str, text: &str) -> SendOutcome {
        let (request, success_contains) = match &self.provider {
            Provider::Dhis2 { url, auth } => (
                self.http
                    .post(url)
                    .header(reqwest::header::AUTHORIZATION, auth.clone())
                    .json(&serde_json::json!({ "message": text, "recipients": [to] })),
                "",
            ),
            Provider::Http {
                method,
                url,
                body,
                json,
                headers,
                success_contains,
                secret,
            } => {
                let url = substitute(url, to, text, secret, |v| {
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
                });
                let mut request = self.http.request(method.clone(), url);
                for (name, value) in headers {
                    request = request.header(name, value.replace("{secret}", secret));
                }
                if !body.is_empty() {
                    request = if *json {
                        let escape = |v: &str| {
                            let quoted = serde_json::to_string(v).unwrap_or_default();
                            quoted[1..quoted.len() - 1].to_string()
                        };
                        request
                            .header(reqwest::header::CONTENT_TYPE, "application/json")
                            .body(substitute(body, to, text, secret, escape))
                    } else {
                        request
                            .header(
                                reqwest::header::CONTENT_TYPE,
                                "application/x-www-form-urlencoded",
                            )
                            .body(substitute(body, to, text, secret, |v| {
                                url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
                            }))
                    };
                }
                (request, success_contains.as_str())
            }
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                // Without the URL: the template may put the secret in it.
                return SendOutcome::Retry {
                    answer: format!("gateway unreachable: {}", e.without_url()),
                    after: None,
                };
            }
        };
        let status = response.status();
        let after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.text().await.unwrap_or_default();
        // A gateway that echoes the request would echo the secret into the delivery log.
        let body = match &self.provider {
            Provider::Http { secret, .. } => hide_secret(&body, secret),
            Provider::Dhis2 { .. } => body,
        };
        let answer = format!("{} {}", status.as_u16(), truncate(&body, 500));
        if status.is_success() && body.contains(success_contains) {
            SendOutcome::Sent(answer)
        } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            SendOutcome::Retry { answer, after }
        } else if status.is_success() {
            // 2xx without the success marker: the gateway refused this message.
            SendOutcome::Failed(answer)
        } else {
            SendOutcome::Failed(answer)
        }
    }
}

/// `text` with `secret`, raw or URL-encoded, replaced by `<secret>`.
fn hide_secret(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_owned();
    }
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    text.replace(secret, "<secret>")
        .replace(&encoded, "<secret>")
}

/// Replaces `{to}`, `{message}` and `{secret}` in one pass, each value through `encode`.
fn substitute(
    template: &str,
    to: &str,
    message: &str,
    secret: &str,
    encode: impl Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let (value, len) = if after.starts_with("{to}") {
            (Some(to), 4)
        } else if after.starts_with("{message}") {
            (Some(message), 9)
        } else if after.starts_with("{secret}") {
            (Some(secret), 8)
        } else {
            (None, 1)
        };
        match value {
            Some(v) => out.push_str(&encode(v)),
            None => out.push('{'),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// GSM 03.38 basic characters (one septet each); anything else makes the SMS UCS-2.
const GSM: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// GSM extension characters (two septets each).
const GSM_EXT: &str = "^{}\\[~]|€\x0c";

/// Segments `text` takes: GSM-7 160 (153 when split), else UCS-2 70 (67 when split).
pub fn segments(text: &str) -> u32 {
    let (units, single, multi) = units(text);
    if units <= single {
        1
    } else {
        units.div_ceil(multi) as u32
    }
}

fn units(text: &str) -> (usize, usize, usize) {
    if text.chars().all(|c| GSM.contains(c) || GSM_EXT.contains(c)) {
        let septets = text
            .chars()
            .map(|c| if GSM_EXT.contains(c) { 2 } else { 1 })
            .sum();
        (septets, 160, 153)
    } else {
        (text.encode_utf16().count(), 70, 67)
    }
}

/// `text` within `max` segments: unchanged if it fits, else without `link` (the longest part),
/// else cut with an ellipsis.
pub fn fit(text: &str, link: &str, max: u32) -> String {
    if segments(text) <= max {
        return text.to_string();
    }
    let without = if link.is_empty() {
        text.to_string()
    } else {
        text.replace(link, "").trim_end().to_string()
    };
    if segments(&without) <= max {
        return without;
    }
    let mut cut: String = without.clone();
    while segments(&format!("{cut}...")) > max && !cut.is_empty() {
        cut.pop();
    }
    format!("{}...", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::hide_secret;

    #[test]
    fn an_echoed_secret_is_hidden_raw_or_url_encoded() {
        assert_eq!(
            hide_secret("error: key=a b&c / key=a+b%26c", "a b&c"),
            "error: key=<secret> / key=<secret>"
        );
        assert_eq!(hide_secret("nothing here", ""), "nothing here");
    }
}
