//! Renders the key table as the shipped `etc/dhis2gw/dhis2gw.yml` and as the reference table of
//! `docs/configuration.md`, so neither can drift from what the loader accepts (a test compares).

use super::keys::{DefaultValue, KEYS, KeySpec, Kind};

fn default_text(spec: &KeySpec) -> String {
    match spec.default {
        DefaultValue::Str("") => "\"\"".into(),
        DefaultValue::Str(s) if needs_quotes(s) => format!("\"{s}\""),
        DefaultValue::Str(s) => s.into(),
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Bool(b) => b.to_string(),
        DefaultValue::EmptyList => "[]".into(),
    }
}

fn needs_quotes(s: &str) -> bool {
    s.starts_with(['*', '&', '!', '[', '{']) || s.contains(": ") || s.contains('#')
}

fn kind_text(kind: Kind) -> String {
    match kind {
        Kind::Str => "string".into(),
        Kind::Int { min, max } => format!("integer {min}..{max}"),
        Kind::Bool => "bool".into(),
        Kind::Url => "URL".into(),
        Kind::UrlOrEmpty => "URL or empty".into(),
        Kind::PgUri => "PostgreSQL URL".into(),
        Kind::RedisAddr => "Redis URL".into(),
        Kind::Cron => "cron".into(),
        Kind::TimeZone => "time zone".into(),
        Kind::Enum(groups) => groups
            .iter()
            .map(|g| g[0])
            .collect::<Vec<_>>()
            .join(" \\| "),
        Kind::LogFilter => "log filter".into(),
        Kind::List => "list".into(),
    }
}

/// The shipped config file: every key with its comment and default.
pub fn sample_yaml() -> String {
    let mut out = String::from(
        "# dhis2gw configuration. Every key is shown with its default; delete or comment out what you\n\
         # do not change. Environment variables override this file: DHIS2GW_<SECTION>__<KEY>, e.g.\n\
         # DHIS2GW_SERVER__HTTP_PORT=9191. Secrets may instead be read from a file: add _file to the key\n\
         # (api.dhis2_password_file: /etc/dhis2gw/credentials/dhis2_password); a bare file name is looked\n\
         # up in $CREDENTIALS_DIRECTORY (systemd LoadCredential=). Check with: dhis2gw check-config\n\
         # Reference: /usr/share/doc/dhis2gw/configuration.md\n",
    );
    let mut section = "";
    for spec in KEYS {
        let (s, field) = spec.split();
        if s != section {
            out.push_str(&format!("\n{s}:\n"));
            section = s;
        }
        let mut notes = Vec::new();
        if let Some(env) = spec.legacy_env {
            notes.push(format!("env {env}"));
        }
        if spec.secret {
            notes.push("secret; or use ".to_owned() + field + "_file");
        }
        if spec.reloadable {
            notes.push("reloaded on SIGHUP".into());
        }
        out.push_str(&format!("  # {}", spec.doc));
        if !notes.is_empty() {
            out.push_str(&format!(" ({})", notes.join("; ")));
        }
        out.push('\n');
        out.push_str(&format!("  {field}: {}\n", default_text(spec)));
    }
    out
}

/// The markdown table of every key for `docs/configuration.md`.
pub fn reference_table() -> String {
    let mut out = String::from(
        "| key | environment | type | default | SIGHUP | description |\n|---|---|---|---|---|---|\n",
    );
    for spec in KEYS {
        let mut env = format!("`{}`", spec.env_name());
        if let Some(legacy) = spec.legacy_env {
            env.push_str(&format!(", `{legacy}`"));
        }
        let secret = if spec.secret {
            " Secret: masked in output; `_file` form accepted."
        } else {
            ""
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} | {}{} |\n",
            spec.key,
            env,
            kind_text(spec.kind),
            default_text(spec).replace('|', "\\|"),
            if spec.reloadable { "yes" } else { "restart" },
            spec.doc.replace('|', "\\|"),
            secret
        ));
    }
    out
}
