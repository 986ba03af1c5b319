//! Showing a configuration to people: `check-config` output with every secret masked, and the
//! list of keys a SIGHUP reload changed.

use serde_json::Value;

use super::Settings;
use super::keys::{self, KeySpec, Kind};

const MASK: &str = "***";

/// The effective configuration as YAML, every secret replaced by `***` (connection URLs keep
/// everything but their password).
pub fn masked_yaml(settings: &Settings) -> String {
    // Straight to YAML values: serde_json's arbitrary-precision numbers do not survive a detour.
    let mut value = serde_yaml::to_value(settings).expect("settings serialize");
    for spec in keys::KEYS.iter().filter(|k| k.secret) {
        let (section, field) = spec.split();
        if let Some(slot) = value.get_mut(section).and_then(|s| s.get_mut(field)) {
            let masked = mask(spec, slot.as_str().unwrap_or_default());
            *slot = serde_yaml::Value::from(masked);
        }
    }
    serde_yaml::to_string(&value).expect("settings serialize as yaml")
}

/// The value of a secret key as it may be shown.
pub fn mask(spec: &KeySpec, text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    match spec.kind {
        Kind::PgUri | Kind::RedisAddr => mask_url_password(text),
        _ => MASK.into(),
    }
}

fn mask_url_password(text: &str) -> String {
    if let Ok(mut url) = url::Url::parse(text) {
        if url.password().is_some() && url.set_password(Some(MASK)).is_ok() {
            return url.to_string();
        }
        if url.password().is_none() {
            return text.to_owned();
        }
    }
    // libpq key=value form: hide the value of password=…
    if text.contains('=') && !text.contains("://") {
        return text
            .split_whitespace()
            .map(|part| match part.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}={MASK}"),
                _ => part.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    MASK.into()
}

/// A key whose value differs between two configurations.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub key: &'static str,
    /// True when the running daemon applies it without a restart.
    pub applied: bool,
    /// Old and new value for display (masked for secrets).
    pub from: String,
    pub to: String,
}

pub fn reload_diff(old: &Settings, new: &Settings) -> Vec<Change> {
    let old = serde_json::to_value(old).expect("settings serialize");
    let new = serde_json::to_value(new).expect("settings serialize");
    keys::KEYS
        .iter()
        .filter_map(|spec| {
            let (section, field) = spec.split();
            let before = &old[section][field];
            let after = &new[section][field];
            (before != after).then(|| Change {
                key: spec.key,
                applied: spec.reloadable,
                from: shown(spec, before),
                to: shown(spec, after),
            })
        })
        .collect()
}

fn shown(spec: &KeySpec, value: &Value) -> String {
    match value {
        Value::String(s) if spec.secret => mask(spec, s),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `old` with every reloadable key taken from `new`: what the daemon runs with after SIGHUP.
pub fn apply_reloadable(old: &Settings, new: &Settings) -> Settings {
    let mut merged = serde_json::to_value(old).expect("settings serialize");
    let new = serde_json::to_value(new).expect("settings serialize");
    for spec in keys::KEYS.iter().filter(|k| k.reloadable) {
        let (section, field) = spec.split();
        merged[section][field] = new[section][field].clone();
    }
    serde_json::from_value(merged).expect("merged settings deserialize")
}
