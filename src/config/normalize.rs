//! Turns one raw value (from YAML or an environment string) into the canonical value of its key,
//! or a message saying what is wrong with it. Weak typing is deliberate: environment variables are
//! always strings and old config files quote numbers (`http_port: "9090"`).

use std::str::FromStr;

use serde_json::Value;

use super::keys::{KeySpec, Kind};

pub fn normalize(spec: &KeySpec, raw: &Value) -> Result<Value, String> {
    match spec.kind {
        Kind::Str => as_text(raw).map(Value::from),
        Kind::Int { min, max } => int(raw, min, max),
        Kind::Bool => boolean(raw),
        Kind::Url => http_url(raw),
        Kind::UrlOrEmpty if as_text(raw)?.trim().is_empty() => Ok(Value::from("")),
        Kind::UrlOrEmpty => http_url(raw),
        Kind::PgUri => pg_uri(raw),
        Kind::RedisAddr => redis_addr(raw),
        Kind::Cron => cron(raw),
        Kind::TimeZone => time_zone(raw),
        Kind::Enum(groups) => one_of(raw, groups),
        Kind::LogFilter => log_filter(raw),
        Kind::List => list(raw),
    }
}

fn describe(raw: &Value) -> String {
    match raw {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn as_text(raw: &Value) -> Result<String, String> {
    match raw {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok(String::new()),
        Value::Array(_) => Err("expected a string, got a list".into()),
        Value::Object(_) => Err("expected a string, got a mapping".into()),
    }
}

fn int(raw: &Value, min: i64, max: i64) -> Result<Value, String> {
    let parsed = match raw {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match parsed {
        Some(i) if (min..=max).contains(&i) => Ok(Value::from(i)),
        Some(i) => Err(format!("{i} is out of range {min}..={max}")),
        None => Err(format!("expected an integer, got {}", describe(raw))),
    }
}

fn boolean(raw: &Value) -> Result<Value, String> {
    let parsed = match raw {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some(true),
            "false" | "no" | "off" | "0" | "" => Some(false),
            _ => None,
        },
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    };
    parsed
        .map(Value::from)
        .ok_or_else(|| format!("expected true or false, got {}", describe(raw)))
}

fn http_url(raw: &Value) -> Result<Value, String> {
    let text = as_text(raw)?;
    let url = url::Url::parse(text.trim()).map_err(|e| format!("not a URL ({e}): {text:?}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("expected an http:// or https:// URL, got {text:?}"));
    }
    Ok(Value::from(text.trim()))
}

fn pg_uri(raw: &Value) -> Result<Value, String> {
    let text = as_text(raw)?;
    tokio_postgres::Config::from_str(&text)
        .map_err(|e| format!("not a PostgreSQL connection string: {e}"))?;
    Ok(Value::from(text))
}

fn redis_addr(raw: &Value) -> Result<Value, String> {
    let text = as_text(raw)?.trim().to_owned();
    // The original took a bare host:port; fred wants a URL.
    let url = if text.contains("://") {
        text
    } else {
        format!("redis://{text}")
    };
    fred::types::config::Config::from_url(&url)
        .map_err(|e| format!("not a Redis address: {}", e.details()))?;
    Ok(Value::from(url))
}

fn cron(raw: &Value) -> Result<Value, String> {
    let text = as_text(raw)?;
    let parsed = super::cron::CronExpr::parse(&text)?;
    Ok(Value::from(parsed.as_str()))
}

fn time_zone(raw: &Value) -> Result<Value, String> {
    let text = as_text(raw)?.trim().to_owned();
    let text = if text.is_empty() { "UTC".into() } else { text };
    text.parse::<chrono_tz::Tz>().map_err(|_| {
        format!("unknown time zone {text:?} (use an IANA name like Africa/Kampala)")
    })?;
    Ok(Value::from(text))
}

fn one_of(raw: &Value, groups: &[&[&str]]) -> Result<Value, String> {
    let text = as_text(raw)?;
    let wanted = text.trim().to_lowercase();
    groups
        .iter()
        .find(|spellings| spellings.iter().any(|s| s.to_lowercase() == wanted))
        .map(|spellings| Value::from(spellings[0]))
        .ok_or_else(|| {
            let allowed: Vec<&str> = groups.iter().map(|g| g[0]).collect();
            format!("expected one of {}, got {text:?}", allowed.join(", "))
        })
}

fn log_filter(raw: &Value) -> Result<Value, String> {
    let text = as_text(raw)?.trim().to_owned();
    tracing_subscriber::EnvFilter::builder()
        .parse(&text)
        .map_err(|e| format!("not a log filter ({e}): {text:?}"))?;
    Ok(Value::from(text))
}

fn list(raw: &Value) -> Result<Value, String> {
    match raw {
        Value::Array(items) => items
            .iter()
            .map(|item| as_text(item).map(Value::from))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Null => Ok(Value::Array(vec![])),
        other => {
            let text = as_text(other)?;
            Ok(Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Value::from)
                    .collect(),
            ))
        }
    }
}
