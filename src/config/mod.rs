//! Configuration: built-in defaults, then the YAML file, then the environment, validated once at
//! start into a typed [`Settings`]. Nothing else in dhis2gw reads environment variables.
//!
//! Every key, its default and its environment names live in [`keys::KEYS`].

mod cron;
pub mod keys;
mod load;
mod normalize;
mod reference;
mod render;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use cron::CronExpr;
pub use load::{ConfigError, ConfigIssue, Loaded, load, load_from_str};
pub use reference::{reference_table, sample_yaml};
pub use render::{Change, apply_reloadable, mask, masked_yaml, reload_diff};

/// Default location of the config file, as installed by the Debian package.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/dhis2gw/dhis2gw.yml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub api: ApiSettings,
    pub http: HttpSettings,
    pub auth: AuthSettings,
    pub scheduler: SchedulerSettings,
    pub alerts: AlertsSettings,
    pub notifications: NotificationsSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSettings {
    pub uri: String,
    pub pool_size: usize,
    pub connect_timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub http_port: u16,
    pub redis_address: String,
    pub redis_db: u8,
    pub redis_password: String,
    /// Sentinels (`host:port`); empty: no Sentinel.
    pub redis_sentinels: Vec<String>,
    pub redis_sentinel_master: String,
    pub redis_sentinel_password: String,
    /// Redis Cluster seed nodes (`host:port`); empty: no Cluster.
    pub redis_cluster_nodes: Vec<String>,
    pub queue_prefix: String,
    pub max_retries: u32,
    pub max_concurrent: usize,
    pub rate_limit_per_second: u32,
    pub retry_backoff_base_ms: u64,
    pub retry_backoff_cap_ms: u64,
    /// The zone of cron schedules and of dates people type (`YYYY-MM-DD`); parsed once, at load.
    pub timezone: chrono_tz::Tz,
    pub job_lease_secs: u64,
    pub shutdown_grace_secs: u64,
    /// Where people reach this dhis2gw (`server.public_url`), for links in messages; empty when
    /// not set.
    pub public_url: String,
    pub docs_dir: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dhis2AuthMethod {
    Basic,
    Pat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MappingScheme {
    Code,
    Uid,
    Name,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiSettings {
    pub dhis2_base_url: String,
    pub dhis2_auth_method: Dhis2AuthMethod,
    pub dhis2_user: String,
    pub dhis2_password: String,
    pub dhis2_pat: String,
    pub dhis2_timeout_secs: u64,
    pub dhis2_connect_timeout_secs: u64,
    pub dhis2_tls_insecure: bool,
    pub dhis2_tracker_async: bool,
    pub mapping_scheme: MappingScheme,
    pub mapping_import_max_rows: usize,
    pub mapping_import_max_unpacked_bytes: u64,
    pub save_response: bool,
    pub sync_cron_expression: CronExpr,
    pub retry_cron_expression: CronExpr,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpSettings {
    pub body_limit_bytes: usize,
    pub request_timeout_secs: u64,
    pub cors_origins: Vec<String>,
    pub cors_allow_credentials: bool,
    pub audit_keep_days: u32,
    /// Bearer token for `GET /metrics` (besides admins); empty: admins only.
    pub metrics_token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthSettings {
    pub jwt_secret: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    pub api_token_ttl_days: u64,
    pub login_max_failures: u32,
    pub login_window_secs: u64,
    pub initial_admin_password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerSettings {
    pub keep_runs_days: u32,
    pub catch_up_secs: u64,
    pub lease_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsSettings {
    pub cron_expression: CronExpr,
    /// The alert run's settings (`docs/alerts.md`, "The alert run").
    pub org_unit_roots: Vec<String>,
    pub refetch_weeks: u32,
    pub facility_level: u8,
    pub analytics_max_cells: u64,
    pub concurrency: u32,
    pub capture_base_url: String,
    pub dhis2_program: String,
    pub dhis2_tracked_entity_type: String,
    pub dhis2_program_stage: String,
    pub dhis2_attribute_date: String,
    pub dhis2_attribute_source: String,
    pub dhis2_source_value: String,
    pub dhis2_attribute_verification: String,
    pub dhis2_verification_value: String,
    pub dhis2_attribute_disease: String,
    pub dhis2_attribute_alert_number: String,
    pub dhis2_data_element_week: String,
    pub dhis2_data_element_rule: String,
    pub dhis2_data_element_count: String,
    pub dhis2_data_element_expected: String,
    pub dhis2_data_element_upper_bound: String,
    pub dhis2_data_element_facilities: String,
    /// The original threshold-alert program's rule lists, read only by `dhis2gw alert-rules
    /// import-original` (not by the alert run).
    pub original_one_suspected_diseases: Vec<String>,
    pub original_doubling_cases_diseases: Vec<String>,
    pub original_increase_1_5x_diseases: Vec<String>,
    /// `uid_N` items.
    pub original_cluster_of_diseases: Vec<String>,
    /// District org unit UIDs.
    pub original_anthrax_endemic: Vec<String>,
    pub original_anthrax_data_element: String,
}

/// How the SMTP connection is secured (`notifications.smtp_tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    Starttls,
    Tls,
    Plain,
}

/// Who sends SMS (`notifications.sms_provider`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    None,
    Dhis2,
    Http,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationsSettings {
    pub directory_cron_expression: CronExpr,
    pub user_groups: Vec<String>,
    pub default_country_code: String,
    pub max_level_above: u32,
    pub max_attempts: u32,
    pub static_recipients: Vec<String>,
    pub templates_dir: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_ca_file: String,
    pub smtp_user: String,
    pub smtp_password: String,
    pub smtp_from_address: String,
    pub smtp_from_name: String,
    pub sms_provider: SmsProvider,
    pub sms_http_method: String,
    pub sms_http_url: String,
    pub sms_http_body: String,
    pub sms_http_content_type: String,
    pub sms_http_headers: Vec<String>,
    pub sms_http_success_contains: String,
    pub sms_secret: String,
    pub sms_max_segments: u32,
    pub telegram_bot_token: String,
    pub telegram_api_url: String,
    pub telegram_broadcast_chat_ids: Vec<String>,
    pub telegram_per_second: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogSettings {
    pub level: String,
}

impl Settings {
    /// Defaults only, as if the config file were empty and no environment set.
    pub fn defaults() -> Settings {
        load_from_str("", &|_| None)
            .expect("built-in defaults are valid")
            .settings
    }

    pub fn listen_addr(&self) -> String {
        if self.server.host.contains(':') {
            format!("[{}]:{}", self.server.host, self.server.http_port)
        } else {
            format!("{}:{}", self.server.host, self.server.http_port)
        }
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.server.shutdown_grace_secs)
    }
}
