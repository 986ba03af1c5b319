//! Layering (defaults → YAML → environment) with figment, then one validation pass over every
//! key that collects all problems at once, so a sysadmin sees every bad key in one run.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Yaml};
use serde_json::{Map, Value};

use super::Settings;
use super::keys::{self, KeySpec};
use super::normalize::normalize;

/// One problem with one key, printed as `key: message`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigIssue {
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Every problem found, one per line.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError(pub Vec<ConfigIssue>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// A valid configuration plus warnings worth logging (legacy keys that have no effect).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub warnings: Vec<ConfigIssue>,
}

/// Loads `path` and the process environment.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(vec![ConfigIssue {
            key: "--config-file".into(),
            message: format!("cannot read {}: {e}", path.display()),
        }])
    })?;
    let env: Vec<(String, String)> = std::env::vars().collect();
    load_from_parts(&text, &env, credentials_dir(&env).as_deref())
}

/// Loads YAML text with no environment (tests, defaults).
pub fn load_from_str(
    yaml: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    let env: Vec<(String, String)> = keys::KEYS
        .iter()
        .flat_map(|k| [Some(k.env_name()), k.legacy_env.map(String::from)])
        .flatten()
        .filter_map(|name| env(&name).map(|v| (name, v)))
        .collect();
    load_from_parts(yaml, &env, None)
}

fn credentials_dir(env: &[(String, String)]) -> Option<PathBuf> {
    env.iter()
        .find(|(k, _)| k == "CREDENTIALS_DIRECTORY")
        .map(|(_, v)| PathBuf::from(v))
}

fn load_from_parts(
    yaml: &str,
    env: &[(String, String)],
    credentials_dir: Option<&Path>,
) -> Result<Loaded, ConfigError> {
    let (env_layer, env_origin) = environment_layer(env);
    let merged: Value = Figment::new()
        .merge(Serialized::defaults(defaults()))
        .merge(Yaml::string(yaml))
        .merge(Serialized::defaults(env_layer))
        .extract()
        .map_err(|e| {
            ConfigError(vec![ConfigIssue {
                key: "--config-file".into(),
                message: format!("not valid YAML: {}", e.kind),
            }])
        })?;

    let mut walk = Walk {
        env_origin,
        credentials_dir,
        out: BTreeMap::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    walk.root(&merged);
    if !walk.errors.is_empty() {
        return Err(ConfigError(walk.errors));
    }
    let mut root = Map::new();
    for (key, value) in walk.out {
        let (section, field) = key.split_once('.').expect("section.field");
        root.entry(section)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("sections are objects")
            .insert(field.to_owned(), value);
    }
    let settings: Settings = serde_json::from_value(Value::Object(root)).map_err(|e| {
        ConfigError(vec![ConfigIssue {
            key: "config".into(),
            message: format!("internal: normalised config does not fit: {e}"),
        }])
    })?;
    // Message templates are configuration: one that cannot be read is reported like a bad key.
    let templates_dir = std::path::Path::new(&settings.notifications.templates_dir);
    if let Err(e) = crate::notify::templates::Templates::load(templates_dir) {
        return Err(ConfigError(vec![ConfigIssue {
            key: "notifications.templates_dir".into(),
            message: e.to_string(),
        }]));
    }
    // CORS origins: `*` or `scheme://host[:port]`; `*` never with credentials (browsers refuse it).
    if let Err(message) = crate::http::cors::check_origins(&settings.http) {
        return Err(ConfigError(vec![ConfigIssue {
            key: "http.cors_origins".into(),
            message,
        }]));
    }
    Ok(Loaded {
        settings,
        warnings: walk.warnings,
    })
}

fn defaults() -> Value {
    let mut root = Map::new();
    for spec in keys::KEYS {
        let (section, field) = spec.split();
        let value = match spec.default {
            keys::DefaultValue::Str(s) => Value::from(s),
            keys::DefaultValue::Int(i) => Value::from(i),
            keys::DefaultValue::Bool(b) => Value::from(b),
            keys::DefaultValue::EmptyList => Value::Array(vec![]),
        };
        root.entry(section)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("sections are objects")
            .insert(field.to_owned(), value);
    }
    Value::Object(root)
}

/// Builds the environment layer: the original's documented names (`DHIS2GW_DB`, …) and the
/// systematic `DHIS2GW_<SECTION>__<KEY>` form, which wins when both are set. Returns the layer
/// and, per key, the variable it came from (for error messages).
fn environment_layer(env: &[(String, String)]) -> (Value, BTreeMap<String, String>) {
    let mut values: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (name, value) in env {
        if let Some(spec) = keys::KEYS.iter().find(|k| k.legacy_env == Some(name)) {
            values
                .entry(spec.key.to_owned())
                .or_insert((value.clone(), name.clone()));
        }
    }
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("DHIS2GW_") else {
            continue;
        };
        let Some((section, field)) = rest.split_once("__") else {
            continue;
        };
        let key = format!("{}.{}", section.to_lowercase(), field.to_lowercase());
        values.insert(key, (value.clone(), name.clone()));
    }
    let mut root = Map::new();
    let mut origin = BTreeMap::new();
    for (key, (value, name)) in values {
        let (section, field) = key.split_once('.').unwrap_or((&key, ""));
        root.entry(section.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .expect("sections are objects")
            .insert(field.to_owned(), Value::from(value));
        origin.insert(key, name);
    }
    (Value::Object(root), origin)
}

struct Walk<'a> {
    env_origin: BTreeMap<String, String>,
    credentials_dir: Option<&'a Path>,
    out: BTreeMap<String, Value>,
    errors: Vec<ConfigIssue>,
    warnings: Vec<ConfigIssue>,
}

impl Walk<'_> {
    fn error(&mut self, key: &str, message: String) {
        let message = match self.env_origin.get(key) {
            Some(var) => format!("{message} (from environment variable {var})"),
            None => message,
        };
        self.errors.push(ConfigIssue {
            key: key.to_owned(),
            message,
        });
    }

    fn root(&mut self, merged: &Value) {
        let Some(sections) = merged.as_object() else {
            self.error(
                "config",
                "the file must be a YAML mapping of sections".into(),
            );
            return;
        };
        for (section, body) in sections {
            let section = section.to_lowercase();
            let known = keys::KEYS.iter().any(|k| k.split().0 == section);
            if !known {
                if keys::IGNORED_LEGACY_SECTIONS.contains(&section.as_str()) {
                    self.warnings.push(ConfigIssue {
                        key: section,
                        message: "section of the original gateway, ignored by dhis2gw".into(),
                    });
                } else {
                    self.error(&section, "unknown section".into());
                }
                continue;
            }
            match body.as_object() {
                Some(fields) => {
                    for (field, value) in fields {
                        self.field(&format!("{section}.{}", field.to_lowercase()), value);
                    }
                }
                None if body.is_null() => {}
                None => self.error(&section, "must be a mapping of keys".into()),
            }
        }
    }

    fn field(&mut self, key: &str, value: &Value) {
        if let Some(spec) = keys::find(key) {
            // A `<key>_file` of the same secret wins over the inline value.
            if spec.secret && self.out.contains_key(key) {
                return;
            }
            match normalize(spec, value) {
                Ok(v) => {
                    self.out.insert(key.to_owned(), v);
                }
                Err(message) => self.error(key, message),
            }
        } else if let Some(spec) = key.strip_suffix("_file").and_then(keys::find) {
            self.secret_file(spec, key, value);
        } else if let Some((_, real)) = keys::LEGACY_ALIASES.iter().find(|(alias, _)| *alias == key)
        {
            self.warnings.push(ConfigIssue {
                key: key.to_owned(),
                message: format!(
                    "deprecated spelling of {real} (the original gateway's README); rename it"
                ),
            });
            if !self.out.contains_key(*real) {
                self.field(real, value);
            }
        } else if keys::IGNORED_LEGACY_KEYS.contains(&key) {
            self.warnings.push(ConfigIssue {
                key: key.to_owned(),
                message: "key of the original gateway, ignored by dhis2gw".into(),
            });
        } else {
            self.error(key, "unknown key".into());
        }
    }

    fn secret_file(&mut self, spec: &'static KeySpec, key: &str, value: &Value) {
        if !spec.secret {
            self.error(
                key,
                format!("{} is not a secret; set it directly", spec.key),
            );
            return;
        }
        let path = match value {
            Value::String(s) if s.is_empty() => return,
            Value::String(s) => PathBuf::from(s),
            Value::Null => return,
            _ => {
                self.error(key, "expected a file path".into());
                return;
            }
        };
        // systemd's LoadCredential= puts secrets in $CREDENTIALS_DIRECTORY; a bare name refers there.
        let path = match self.credentials_dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let secret = text.trim_end_matches(['\n', '\r']).to_owned();
                match normalize(spec, &Value::from(secret)) {
                    Ok(v) => {
                        self.out.insert(spec.key.to_owned(), v);
                    }
                    Err(message) => {
                        self.error(key, format!("content of {}: {message}", path.display()))
                    }
                }
            }
            Err(e) => self.error(key, format!("cannot read {}: {e}", path.display())),
        }
    }
}
