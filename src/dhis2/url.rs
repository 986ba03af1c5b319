//! `api.dhis2_base_url` → the API root every call is built on. Users write the URL in many ways
//! (`https://host`, `https://host/`, `https://host/dhis/api/`, `https://host/api/40`); all of
//! them must reach the same endpoints.

use super::error::Dhis2Error;

/// The API root: `<scheme>://<host>[:port][/context]/api`, or `.../api/<NN>` when the URL pins
/// an API version (DHIS2 serves every endpoint under `/api/<NN>/` too; `/api/37` gives the pre-2.38
/// plain ImportSummary).
pub fn normalize_base_url(raw: &str) -> Result<String, Dhis2Error> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Dhis2Error::InvalidConfig(
            "api.dhis2_base_url is empty".into(),
        ));
    }
    let mut url = url::Url::parse(raw)
        .map_err(|e| Dhis2Error::InvalidConfig(format!("api.dhis2_base_url is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Dhis2Error::InvalidConfig(format!(
            "api.dhis2_base_url must start with http:// or https://, not {}://",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Dhis2Error::InvalidConfig(
            "api.dhis2_base_url has no host".into(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in the URL would end up in every log line that names the URL.
        return Err(Dhis2Error::InvalidConfig(
            "api.dhis2_base_url must not contain credentials; use api.dhis2_user/dhis2_password or api.dhis2_pat".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Dhis2Error::InvalidConfig(
            "api.dhis2_base_url must not have a query or fragment".into(),
        ));
    }
    let path = url.path().trim_end_matches('/').to_owned();
    let api_path = api_path_of(&path);
    url.set_path(&api_path);
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// `/dhis` → `/dhis/api`; `/dhis/api` → same; `/api/40` → same.
fn api_path_of(path: &str) -> String {
    if path.ends_with("/api") || path == "api" {
        return path.to_owned();
    }
    if let Some((head, version)) = path.rsplit_once('/')
        && (head.ends_with("/api") || head == "api")
        && !version.is_empty()
        && version.len() <= 3
        && version.bytes().all(|b| b.is_ascii_digit())
    {
        return path.to_owned();
    }
    format!("{path}/api")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_reaches_the_same_api_root() {
        for raw in [
            "https://dhis.example.org",
            "https://dhis.example.org/",
            "https://dhis.example.org/api",
            "https://dhis.example.org/api/",
            " https://dhis.example.org/api// ",
        ] {
            assert_eq!(
                normalize_base_url(raw).unwrap(),
                "https://dhis.example.org/api",
                "{raw}"
            );
        }
        for raw in [
            "http://10.0.0.5:8080/dhis",
            "http://10.0.0.5:8080/dhis/",
            "http://10.0.0.5:8080/dhis/api",
            "http://10.0.0.5:8080/dhis/api/",
        ] {
            assert_eq!(
                normalize_base_url(raw).unwrap(),
                "http://10.0.0.5:8080/dhis/api",
                "{raw}"
            );
        }
    }

    #[test]
    fn a_pinned_api_version_is_kept() {
        assert_eq!(
            normalize_base_url("https://h/api/37/").unwrap(),
            "https://h/api/37"
        );
        assert_eq!(
            normalize_base_url("https://h/dhis/api/40").unwrap(),
            "https://h/dhis/api/40"
        );
        // Not a version: a context path that happens to end in digits.
        assert_eq!(
            normalize_base_url("https://h/dhis240").unwrap(),
            "https://h/dhis240/api"
        );
    }

    #[test]
    fn bad_urls_are_config_errors() {
        for raw in [
            "",
            "dhis.example.org",
            "ftp://h/",
            "https://admin:district@h/",
            "https://h/?x=1",
            "https://h/#top",
        ] {
            assert!(
                matches!(normalize_base_url(raw), Err(Dhis2Error::InvalidConfig(_))),
                "{raw:?}"
            );
        }
        let message = normalize_base_url("https://admin:district@h/")
            .unwrap_err()
            .to_string();
        assert!(!message.contains("district"), "{message}");
    }
}
