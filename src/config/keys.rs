//! The table of every configuration key: its type, default, legacy environment name, whether it
//! is a secret and whether SIGHUP may change it. Loading, validation, `check-config`, the shipped
//! `etc/dhis2gw/dhis2gw.yml` and `docs/configuration.md` all follow this one table (a test checks
//! the last two against it).

/// How a key's value is parsed and normalised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Str,
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// http(s) URL.
    Url,
    /// http(s) URL, or empty for "not set".
    UrlOrEmpty,
    /// `postgres://…` URL or libpq `key=value` string.
    PgUri,
    /// `redis://…`, `rediss://…` or bare `host:port`.
    RedisAddr,
    /// Cron expression, 5 fields or 6 with seconds first; empty disables the job.
    Cron,
    /// IANA time zone name.
    TimeZone,
    /// One of a closed set, matched case-insensitively; the first spelling is canonical.
    Enum(&'static [&'static [&'static str]]),
    /// tracing filter directive (`info`, `dhis2gw=debug,poem=info`).
    LogFilter,
    /// List of strings (YAML sequence, or comma-separated in the environment).
    List,
}

/// A default written the way YAML would spell it.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    Str(&'static str),
    Int(i64),
    Bool(bool),
    EmptyList,
}

#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub key: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    /// Environment name documented by the original gateway, besides `DHIS2GW_<SECTION>__<KEY>`.
    pub legacy_env: Option<&'static str>,
    /// Masked in `check-config` output and logs; may also be read from `<key>_file`.
    pub secret: bool,
    /// Applied by SIGHUP without a restart.
    pub reloadable: bool,
    pub doc: &'static str,
}

const fn key(key: &'static str, kind: Kind, default: DefaultValue, doc: &'static str) -> KeySpec {
    KeySpec {
        key,
        kind,
        default,
        legacy_env: None,
        secret: false,
        reloadable: false,
        doc,
    }
}

impl KeySpec {
    const fn env(mut self, name: &'static str) -> Self {
        self.legacy_env = Some(name);
        self
    }
    const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
    const fn reloadable(mut self) -> Self {
        self.reloadable = true;
        self
    }

    /// The section (`server`) and field (`http_port`) of the key.
    pub fn split(&self) -> (&'static str, &'static str) {
        self.key.split_once('.').expect("keys are section.field")
    }

    /// The systematic environment name, e.g. `DHIS2GW_SERVER__HTTP_PORT`.
    pub fn env_name(&self) -> String {
        let (section, field) = self.split();
        format!(
            "DHIS2GW_{}__{}",
            section.to_uppercase(),
            field.to_uppercase()
        )
    }
}

use DefaultValue as D;
use Kind as K;

const AUTH_METHODS: &[&[&str]] = &[&["basic"], &["pat", "token", "apitoken"]];
const MAPPING_SCHEMES: &[&[&str]] = &[&["CODE"], &["UID"], &["NAME"]];
const SMTP_TLS_MODES: &[&[&str]] = &[
    &["starttls"],
    &["tls", "smtps", "implicit"],
    &["plain", "none"],
];
const SMS_PROVIDERS: &[&[&str]] = &[&["none"], &["dhis2"], &["http"]];
const SMS_HTTP_METHODS: &[&[&str]] = &[&["POST"], &["GET"], &["PUT"]];
const SMS_HTTP_CONTENT_TYPES: &[&[&str]] = &[&["form"], &["json"]];

pub const KEYS: &[KeySpec] = &[
    // database
    key(
        "database.uri",
        K::PgUri,
        D::Str("postgres://dhis2gw@127.0.0.1:5432/dhis2gw"),
        "PostgreSQL connection URL (or libpq key=value string). The password part is a secret.",
    )
    .env("DHIS2GW_DB")
    .secret(),
    key(
        "database.pool_size",
        K::Int { min: 1, max: 512 },
        D::Int(16),
        "Maximum number of pooled PostgreSQL connections.",
    ),
    key(
        "database.connect_timeout_secs",
        K::Int { min: 1, max: 600 },
        D::Int(5),
        "Seconds to wait for a PostgreSQL connection before the request fails with 503.",
    ),
    // server
    key(
        "server.host",
        K::Str,
        D::Str("127.0.0.1"),
        "Address the HTTP API listens on (0.0.0.0 for all interfaces).",
    )
    .env("DHIS2GW_HOST"),
    key(
        "server.http_port",
        K::Int { min: 0, max: 65535 },
        D::Int(9090),
        "HTTP port (0 picks a free port, for tests).",
    )
    .env("DHIS2GW_SERVER_PORT"),
    key(
        "server.redis_address",
        K::RedisAddr,
        D::Str("redis://127.0.0.1:6379"),
        "Redis address: redis://[:password@]host:port, rediss:// for TLS, or host:port.",
    )
    .env("DHIS2GW_REDIS")
    .secret(),
    key(
        "server.redis_db",
        K::Int { min: 0, max: 15 },
        D::Int(0),
        "Redis database number, used by producers and consumers alike.",
    )
    .env("DHIS2GW_REDIS_DB"),
    key(
        "server.redis_password",
        K::Str,
        D::Str(""),
        "Redis password (AUTH), if not given in redis_address.",
    )
    .secret(),
    key(
        "server.redis_sentinels",
        K::List,
        D::EmptyList,
        "Redis Sentinel: the sentinels as host:port; dhis2gw asks them for the master of redis_sentinel_master and follows its failovers. Credentials, database and TLS still come from redis_address (its host is then unused). Empty: no Sentinel.",
    ),
    key(
        "server.redis_sentinel_master",
        K::Str,
        D::Str("mymaster"),
        "Redis Sentinel: the name the sentinels monitor the master under.",
    ),
    key(
        "server.redis_sentinel_password",
        K::Str,
        D::Str(""),
        "Redis Sentinel: the sentinels' own password (requirepass on the sentinels), if any.",
    )
    .secret(),
    key(
        "server.redis_cluster_nodes",
        K::List,
        D::EmptyList,
        "Redis Cluster: seed nodes as host:port (the rest of the cluster is discovered); credentials and TLS come from redis_address, and redis_db must be 0. Empty: no Cluster.",
    ),
    key(
        "server.queue_prefix",
        K::Str,
        D::Str("dhis2gw"),
        "Prefix of every Redis key dhis2gw writes; instances sharing a queue use the same prefix.",
    )
    .env("DHIS2GW_QUEUE_PREFIX"),
    key(
        "server.max_retries",
        K::Int { min: 0, max: 100 },
        D::Int(3),
        "Retries of a delivery after a transport error, timeout, 5xx or 429 before it is failed.",
    )
    .env("DHIS2GW_MAX_RETRIES")
    .reloadable(),
    key(
        "server.max_concurrent",
        K::Int { min: 1, max: 1024 },
        D::Int(5),
        "In-flight DHIS2 requests per instance.",
    )
    .env("DHIS2GW_MAX_CONCURRENT"),
    key(
        "server.rate_limit_per_second",
        K::Int { min: 0, max: 100_000 },
        D::Int(0),
        "Maximum DHIS2 requests per second per instance; 0 means unlimited.",
    )
    .reloadable(),
    key(
        "server.retry_backoff_base_ms",
        K::Int { min: 1, max: 3_600_000 },
        D::Int(1000),
        "First retry delay; each further retry doubles it, plus jitter.",
    )
    .reloadable(),
    key(
        "server.retry_backoff_cap_ms",
        K::Int { min: 1, max: 86_400_000 },
        D::Int(300_000),
        "Longest retry delay.",
    )
    .reloadable(),
    key(
        "server.timezone",
        K::TimeZone,
        D::Str("UTC"),
        "Time zone of cron schedules and of dates shown to people (IANA name).",
    )
    .env("DISPATCHER2_TIMEZONE"),
    key(
        "server.job_lease_secs",
        K::Int { min: 2, max: 3600 },
        D::Int(30),
        "A delivery's lease on its queue job, renewed every third of it while it runs; a worker that dies (kill -9) loses its jobs to the others after this long.",
    ),
    key(
        "server.shutdown_grace_secs",
        K::Int { min: 0, max: 3600 },
        D::Int(20),
        "On SIGTERM, seconds in-flight requests and deliveries get to finish.",
    ),
    key(
        "server.public_url",
        K::UrlOrEmpty,
        D::Str(""),
        "The address people reach this dhis2gw at (e.g. https://gw.example.org), for links in messages: an SMS then carries the short link {public_url}/a/{alert id} to the alert's page instead of the long DHIS2 Capture link. Empty: no short links.",
    )
    .reloadable(),
    key(
        "server.docs_dir",
        K::Str,
        D::Str("/usr/share/dhis2gw/docs"),
        "Markdown operator docs served at /docs/{page} (the package installs them here); a missing directory gives a 404 page.",
    ),
    // api (DHIS2)
    key(
        "api.dhis2_base_url",
        K::Url,
        D::Str("http://127.0.0.1:8080"),
        "DHIS2 base URL, with or without a trailing /api.",
    )
    .reloadable(),
    key(
        "api.dhis2_auth_method",
        K::Enum(AUTH_METHODS),
        D::Str("basic"),
        "How dhis2gw authenticates to DHIS2: basic (dhis2_user/dhis2_password) or pat (dhis2_pat; 'Token' is accepted).",
    )
    .reloadable(),
    key(
        "api.dhis2_user",
        K::Str,
        D::Str("admin"),
        "DHIS2 user for basic auth.",
    )
    .reloadable(),
    key(
        "api.dhis2_password",
        K::Str,
        D::Str(""),
        "DHIS2 password for basic auth.",
    )
    .secret()
    .reloadable(),
    key(
        "api.dhis2_pat",
        K::Str,
        D::Str(""),
        "DHIS2 personal access token (d2pat_… or d2p_…) for pat auth.",
    )
    .secret()
    .reloadable(),
    key(
        "api.dhis2_timeout_secs",
        K::Int { min: 1, max: 3600 },
        D::Int(60),
        "Whole-request timeout of a DHIS2 call.",
    )
    .reloadable(),
    key(
        "api.dhis2_connect_timeout_secs",
        K::Int { min: 1, max: 600 },
        D::Int(10),
        "TCP/TLS connect timeout of a DHIS2 call.",
    )
    .reloadable(),
    key(
        "api.dhis2_tls_insecure",
        K::Bool,
        D::Bool(false),
        "Skip TLS certificate verification of DHIS2. Only for test servers.",
    )
    .reloadable(),
    key(
        "api.dhis2_tracker_async",
        K::Bool,
        D::Bool(false),
        "Send tracker payloads with async=true and poll /api/tracker/jobs/{id}.",
    )
    .reloadable(),
    key(
        "api.mapping_scheme",
        K::Enum(MAPPING_SCHEMES),
        D::Str("CODE"),
        "How dataValues keys are looked up in the mappings: CODE, UID (data element uid) or NAME.",
    )
    .reloadable(),
    key(
        "api.mapping_import_max_rows",
        K::Int { min: 1, max: 10_000_000 },
        D::Int(100_000),
        "Most data rows a mappings CSV/Excel import reads; a larger sheet gets 413.",
    )
    .reloadable(),
    key(
        "api.mapping_import_max_unpacked_bytes",
        K::Int { min: 1 << 20, max: 1 << 32 },
        D::Int(128 << 20),
        "Most bytes an .xlsx/.ods/.xls mappings upload may unpack to (zip-bomb guard); more gets 413.",
    )
    .reloadable(),
    key(
        "api.save_response",
        K::Bool,
        D::Bool(true),
        "Keep DHIS2's raw response body and status in the submission log.",
    )
    .reloadable(),
    key(
        "api.sync_cron_expression",
        K::Cron,
        D::Str("0 0-23/6 * * *"),
        "When the DHIS2 metadata sync job runs (cron in server.timezone: 5 fields, or 6 with seconds first); empty disables it.",
    )
    .reloadable(),
    key(
        "api.retry_cron_expression",
        K::Cron,
        D::Str("*/5 * * * *"),
        "When the retry job re-enqueues failed and stuck submissions; empty disables it.",
    )
    .reloadable(),
    // http
    key(
        "http.body_limit_bytes",
        K::Int { min: 1024, max: 1 << 30 },
        D::Int(10 << 20),
        "Largest accepted request body; larger ones get 413.",
    ),
    key(
        "http.request_timeout_secs",
        K::Int { min: 1, max: 3600 },
        D::Int(30),
        "A request that takes longer is answered 503 and its work rolled back.",
    ),
    key(
        "http.cors_origins",
        K::List,
        D::EmptyList,
        "Origins allowed to call the API from a browser; empty allows none (the admin console is same-origin).",
    ),
    key(
        "http.cors_allow_credentials",
        K::Bool,
        D::Bool(false),
        "Send Access-Control-Allow-Credentials to the cors_origins (browser cookies or HTTP auth); an error with the origin *.",
    ),
    key(
        "http.audit_keep_days",
        K::Int { min: 0, max: 3650 },
        D::Int(90),
        "Days the request audit log (GET /api/v2/audit) keeps a request; 0 records no requests.",
    )
    .reloadable(),
    key(
        "http.metrics_token",
        K::Str,
        D::Str(""),
        "Bearer token that may read GET /metrics besides admins (for Prometheus); empty: admins only.",
    )
    .secret()
    .reloadable(),
    // auth
    key(
        "auth.jwt_secret",
        K::Str,
        D::Str(""),
        "HS256 secret for access tokens; empty uses one generated once and kept in PostgreSQL, shared by every instance (docs/authentication.md).",
    )
    .secret(),
    key(
        "auth.access_token_ttl_secs",
        K::Int { min: 30, max: 86_400 },
        D::Int(900),
        "Lifetime of a JWT access token.",
    )
    .reloadable(),
    key(
        "auth.refresh_token_ttl_secs",
        K::Int { min: 60, max: 31_536_000 },
        D::Int(1_209_600),
        "Lifetime of a refresh token.",
    )
    .reloadable(),
    key(
        "auth.api_token_ttl_days",
        K::Int { min: 1, max: 3650 },
        D::Int(365),
        "Lifetime of an API token from POST /api/v2/users/getToken.",
    )
    .reloadable(),
    key(
        "auth.login_max_failures",
        K::Int { min: 1, max: 1000 },
        D::Int(5),
        "Failed logins for one user or IP within login_window_secs before they are throttled.",
    )
    .reloadable(),
    key(
        "auth.login_window_secs",
        K::Int { min: 1, max: 86_400 },
        D::Int(900),
        "Window and lock-out time of the login throttle.",
    )
    .reloadable(),
    key(
        "auth.initial_admin_password",
        K::Str,
        D::Str(""),
        "Password of the admin created on first start when there are no users; empty prints a random one once to the log.",
    )
    .secret(),
    // scheduler
    key(
        "scheduler.keep_runs_days",
        K::Int { min: 1, max: 3650 },
        D::Int(90),
        "Job runs older than this are deleted from the job_runs table.",
    )
    .reloadable(),
    key(
        "scheduler.catch_up_secs",
        K::Int { min: 0, max: 604_800 },
        D::Int(3600),
        "At start, the latest firing missed within this many seconds runs once (trigger catch_up); 0 runs none.",
    ),
    key(
        "scheduler.lease_secs",
        K::Int { min: 5, max: 3600 },
        D::Int(60),
        "How long a running job's claim lasts unrenewed (renewed every third of it); a run whose instance stops renewing is marked failed once it lapses.",
    ),
    // alerts
    key(
        "alerts.cron_expression",
        K::Cron,
        D::Str(""),
        "When the threshold (alert) job runs; empty disables it.",
    )
    .reloadable(),
    key(
        "alerts.org_unit_roots",
        K::List,
        D::EmptyList,
        "Org unit UIDs the alert run looks under (the analytics `ou` boundaries; each rule's level is taken below them). Empty: the run is skipped as not configured.",
    )
    .reloadable(),
    key(
        "alerts.refetch_weeks",
        K::Int { min: 1, max: 52 },
        D::Int(4),
        "Recent weeks every run fetches again from DHIS2 analytics, since late reports change them; older weeks come from the history kept in PostgreSQL.",
    )
    .reloadable(),
    key(
        "alerts.facility_level",
        K::Int { min: 0, max: 10 },
        D::Int(0),
        "Org unit level of the facility drill-down of one_case and cluster alerts; 0 means the level below the rule's.",
    )
    .reloadable(),
    key(
        "alerts.analytics_max_cells",
        K::Int { min: 100, max: 10_000_000 },
        D::Int(50000),
        "Most values asked of DHIS2 analytics in one call (DHIS2's default row limit is 50 000); larger pulls are split.",
    )
    .reloadable(),
    key(
        "alerts.concurrency",
        K::Int { min: 1, max: 64 },
        D::Int(8),
        "DHIS2 calls the alert run makes at once (analytics parts, drill-downs, tracker writes).",
    )
    .reloadable(),
    key(
        "alerts.capture_base_url",
        K::Str,
        D::Str(""),
        "Base URL of the DHIS2 that holds the alert program, for the Capture link of each alert; empty uses api.dhis2_base_url.",
    )
    .reloadable(),
    key(
        "alerts.dhis2_program",
        K::Str,
        D::Str("xDsAFnQMmeU"),
        "UID of the DHIS2 tracker program alerts are enrolled in.",
    )
    .reloadable(),
    key(
        "alerts.dhis2_tracked_entity_type",
        K::Str,
        D::Str("QH1LBzGrk5g"),
        "UID of the tracked entity type of an alert.",
    )
    .reloadable(),
    key(
        "alerts.dhis2_program_stage",
        K::Str,
        D::Str(""),
        "UID of the program stage of the alert's event (week, rule, count, expected, upper bound, facilities); empty sends no event.",
    )
    .reloadable(),
    key(
        "alerts.dhis2_attribute_date",
        K::Str,
        D::Str("YDUOTtNQm99"),
        "Tracked entity attribute: the alert's date.",
    )
    .reloadable(),
    key(
        "alerts.dhis2_attribute_source",
        K::Str,
        D::Str("CJkJraokrXn"),
        "Tracked entity attribute: the alert's source (alerts.dhis2_source_value).",
    )
    .reloadable(),
    key(
        "alerts.dhis2_source_value",
        K::Str,
        D::Str("PHEOC_WATCH"),
        "Value of the source attribute.",
    )
    .reloadable(),
    key(
        "alerts.dhis2_attribute_verification",
        K::Str,
        D::Str("d1AUyuOOo62"),
        "Tracked entity attribute: the verification status (alerts.dhis2_verification_value).",
    )
    .reloadable(),
    key(
        "alerts.dhis2_verification_value",
        K::Str,
        D::Str("VERIFICATION_STATUS_PENDING"),
        "Value of the verification status attribute of a new alert.",
    )
    .reloadable(),
    key(
        "alerts.dhis2_attribute_disease",
        K::Str,
        D::Str("kAI5cvh9Tmd"),
        "Tracked entity attribute: the disease code (the rule's disease_code).",
    )
    .reloadable(),
    key(
        "alerts.dhis2_attribute_alert_number",
        K::Str,
        D::Str("rfg6oQYBIKk"),
        "Tracked entity attribute: the alert number, from its generate endpoint when it has a pattern, else dhis2gw's own sequence.",
    )
    .reloadable(),
    key(
        "alerts.dhis2_data_element_week",
        K::Str,
        D::Str(""),
        "Event data element: the ISO week (empty: not sent).",
    )
    .reloadable(),
    key(
        "alerts.dhis2_data_element_rule",
        K::Str,
        D::Str(""),
        "Event data element: the rule and method (empty: not sent).",
    )
    .reloadable(),
    key(
        "alerts.dhis2_data_element_count",
        K::Str,
        D::Str(""),
        "Event data element: the week's cases (empty: not sent).",
    )
    .reloadable(),
    key(
        "alerts.dhis2_data_element_expected",
        K::Str,
        D::Str(""),
        "Event data element: the expected value (empty: not sent).",
    )
    .reloadable(),
    key(
        "alerts.dhis2_data_element_upper_bound",
        K::Str,
        D::Str(""),
        "Event data element: the upper bound (empty: not sent).",
    )
    .reloadable(),
    key(
        "alerts.dhis2_data_element_facilities",
        K::Str,
        D::Str(""),
        "Event data element: the facilities with cases (empty: not sent).",
    )
    .reloadable(),
    key(
        "alerts.original_one_suspected_diseases",
        K::List,
        D::EmptyList,
        "The original threshold-alert program's one_suspected_diseases (data element UIDs), read only by `dhis2gw alert-rules import-original`: each becomes a one_case rule.",
    )
    .env("one_suspected_diseases")
    .reloadable(),
    key(
        "alerts.original_doubling_cases_diseases",
        K::List,
        D::EmptyList,
        "The original's doubling_cases_diseases (data element UIDs), read only by `alert-rules import-original`: each becomes a doubling rule.",
    )
    .env("doubling_cases_diseases")
    .reloadable(),
    key(
        "alerts.original_increase_1_5x_diseases",
        K::List,
        D::EmptyList,
        "The original's increase_1_5x_diseases (data element UIDs), read only by `alert-rules import-original`: each becomes a ratio_to_mean rule (k 1.5, weeks 3).",
    )
    .env("increase_1_5x_diseases")
    .reloadable(),
    key(
        "alerts.original_cluster_of_diseases",
        K::List,
        D::EmptyList,
        "The original's cluster_of_diseases (uid_N items), read only by `alert-rules import-original`: each becomes a cluster rule with threshold N.",
    )
    .env("cluster_of_diseases")
    .reloadable(),
    key(
        "alerts.original_anthrax_endemic",
        K::List,
        D::EmptyList,
        "The original's anthrax_endemic (district UIDs), read only by `alert-rules import-original`: the anthrax one_case rule gets a doubling override in each.",
    )
    .env("anthrax_endemic")
    .reloadable(),
    key(
        "alerts.original_anthrax_data_element",
        K::Str,
        D::Str("zBFmdwpO2LZ"),
        "The data element the original hard-codes as anthrax, which alerts.original_anthrax_endemic applies to.",
    )
    .reloadable(),
    // notifications
    key(
        "notifications.directory_cron_expression",
        K::Cron,
        D::Str(""),
        "When the recipient directory job runs; empty disables it.",
    )
    .reloadable(),
    key(
        "notifications.user_groups",
        K::List,
        D::EmptyList,
        "DHIS2 user group ids whose members are the recipient directory; empty leaves the directory job unconfigured.",
    )
    .reloadable(),
    key(
        "notifications.default_country_code",
        K::Str,
        D::Str(""),
        "Country calling code (digits, e.g. 260) that turns a national phone number into E.164; empty accepts only numbers given with +.",
    )
    .reloadable(),
    key(
        "notifications.max_level_above",
        K::Int { min: 0, max: 10 },
        D::Int(1),
        "How many org unit levels above an alert's org unit a user may be assigned and still be notified (0: the org unit itself).",
    )
    .reloadable(),
    key(
        "notifications.max_attempts",
        K::Int { min: 1, max: 100 },
        D::Int(8),
        "Attempts of one delivery (email, SMS or Telegram message) before it is failed.",
    )
    .reloadable(),
    key(
        "notifications.static_recipients",
        K::List,
        D::EmptyList,
        "Recipients besides the directory, each `channel:address`, optionally followed by disease codes or data elements separated by spaces (only those alerts), e.g. `email:epi@example.org MEASLES`.",
    )
    .reloadable(),
    key(
        "notifications.templates_dir",
        K::Str,
        D::Str("/etc/dhis2gw/templates"),
        "Directory of message templates overriding the built-in wording (`<kind>.<part>`, see docs/notifications.md).",
    )
    .reloadable(),
    key(
        "notifications.smtp_host",
        K::Str,
        D::Str(""),
        "SMTP server for email; empty disables the email channel.",
    )
    .reloadable(),
    key(
        "notifications.smtp_port",
        K::Int { min: 0, max: 65535 },
        D::Int(0),
        "SMTP port; 0 picks the usual one for notifications.smtp_tls (587, 465 or 25).",
    )
    .reloadable(),
    key(
        "notifications.smtp_tls",
        K::Enum(SMTP_TLS_MODES),
        D::Str("starttls"),
        "starttls (upgrade a plain connection), tls (implicit TLS, usually port 465) or plain (a local relay only).",
    )
    .reloadable(),
    key(
        "notifications.smtp_ca_file",
        K::Str,
        D::Str(""),
        "PEM file of a CA to trust for the SMTP server's certificate besides the system's (a private relay); empty: the system's only.",
    )
    .reloadable(),
    key(
        "notifications.smtp_user",
        K::Str,
        D::Str(""),
        "SMTP user name; empty sends without authentication.",
    )
    .reloadable(),
    key(
        "notifications.smtp_password",
        K::Str,
        D::Str(""),
        "SMTP password.",
    )
    .secret()
    .reloadable(),
    key(
        "notifications.smtp_from_address",
        K::Str,
        D::Str(""),
        "The From address of alert emails (required when smtp_host is set).",
    )
    .reloadable(),
    key(
        "notifications.smtp_from_name",
        K::Str,
        D::Str("dhis2gw alerts"),
        "The From display name of alert emails.",
    )
    .reloadable(),
    key(
        "notifications.sms_provider",
        K::Enum(SMS_PROVIDERS),
        D::Str("none"),
        "none, dhis2 (DHIS2's POST /api/sms/outbound) or http (the gateway described by the sms_http_* keys).",
    )
    .reloadable(),
    key(
        "notifications.sms_http_method",
        K::Enum(SMS_HTTP_METHODS),
        D::Str("POST"),
        "HTTP method of the SMS gateway request.",
    )
    .reloadable(),
    key(
        "notifications.sms_http_url",
        K::Str,
        D::Str(""),
        "SMS gateway URL; may contain {to}, {message} and {secret} (URL-encoded when substituted).",
    )
    .reloadable(),
    key(
        "notifications.sms_http_body",
        K::Str,
        D::Str(""),
        "SMS gateway body template with {to}, {message} and {secret}: form fields `a={to}&b={message}` or a JSON document (values JSON-escaped).",
    )
    .reloadable(),
    key(
        "notifications.sms_http_content_type",
        K::Enum(SMS_HTTP_CONTENT_TYPES),
        D::Str("form"),
        "How the body template is encoded: form (application/x-www-form-urlencoded) or json.",
    )
    .reloadable(),
    key(
        "notifications.sms_http_headers",
        K::List,
        D::EmptyList,
        "Extra request headers, each `Name: value` ({secret} is substituted).",
    )
    .reloadable(),
    key(
        "notifications.sms_http_success_contains",
        K::Str,
        D::Str(""),
        "Text the gateway's answer must contain to count as accepted, besides a 2xx status; empty: any 2xx.",
    )
    .reloadable(),
    key(
        "notifications.sms_secret",
        K::Str,
        D::Str(""),
        "The SMS gateway's secret (API key, certificate), substituted for {secret}; usually given as sms_secret_file.",
    )
    .secret()
    .reloadable(),
    key(
        "notifications.sms_max_segments",
        K::Int { min: 1, max: 10 },
        D::Int(2),
        "Longest SMS in segments (160 GSM characters, 153 each when split); longer texts are cut.",
    )
    .reloadable(),
    key(
        "notifications.telegram_bot_token",
        K::Str,
        D::Str(""),
        "Telegram bot token; empty disables the Telegram channel.",
    )
    .secret()
    .reloadable(),
    key(
        "notifications.telegram_api_url",
        K::Url,
        D::Str("https://api.telegram.org/"),
        "Telegram Bot API base URL (a self-hosted telegram-bot-api, or a test fake).",
    )
    .reloadable(),
    key(
        "notifications.telegram_broadcast_chat_ids",
        K::List,
        D::EmptyList,
        "Telegram group chat ids (numeric, e.g. -1001234567890) that get a message for every alert.",
    )
    .reloadable(),
    key(
        "notifications.telegram_per_second",
        K::Int { min: 1, max: 1000 },
        D::Int(30),
        "Telegram messages per second in all, per instance (Telegram's limit is 30).",
    )
    .reloadable(),
    // log
    key(
        "log.level",
        K::LogFilter,
        D::Str("info"),
        "Log filter: a level (error, warn, info, debug, trace) or directives like dhis2gw=debug,poem=info.",
    )
    .reloadable(),
];

/// Keys of the original gateway that an existing config file may still carry. They are accepted
/// with a warning so an old `/etc/dhis2gw/dhis2gw.yml` keeps working, and have no effect.
pub const IGNORED_LEGACY_KEYS: &[&str] = &[
    "database.db_host",
    "database.db_port",
    "database.db_username",
    "database.db_password",
    "server.proxy_port",
    "server.start_submission_period",
    "server.end_submission_period",
    "server.skip_request_processing",
    "server.force_sync",
    "server.sync_on",
    "server.fake_sync_to_base_dhis2",
    "server.request_process_interval",
    "server.dhis2_job_status_check_interval",
    "server.templates_directory",
    "server.static_directory",
    "server.logdir",
    "server.docs_directory",
    "server.migrations_dir",
    "server.use_ssl",
    "server.ssl_client_certkey_file",
    "server.ssl_server_certkey_file",
    "server.ssl_trusted_cafile",
    "api.dhis2_country",
    "api.dhis2_data_set",
    "api.dhis2_attribute_option_combo",
    "api.dhis2_tree_i_ds",
    "api.dhis2_tree_ids",
    "api.dhis2_facility_level",
    "api.dhis2_district_oulevel_name",
    "api.cc_dhis2_servers",
    "api.cc_dhis2_hierarchy_servers",
    "api.cc_dhis2_create_servers",
    "api.cc_dhis2_update_servers",
    "api.cc_dhis2_ou_group_add_servers",
    "api.cc_dhis2_ougroup_add_servers",
    "api.metadata_batch_size",
    "api.dhis2_ou_mflid_attribute_id",
    "api.authtoken",
];

/// Spellings of the original gateway's README (its documented `DHIS2GW_SERVER_PORT` and
/// `DHIS2GW_REDIS` settings) accepted for the real keys, with a deprecation warning. The real
/// key wins when a file carries both.
pub const LEGACY_ALIASES: &[(&str, &str)] = &[
    ("server.port", "server.http_port"),
    ("server.redis", "server.redis_address"),
];

/// Whole sections of the original that belong to other programs (Uganda's PBS sync).
pub const IGNORED_LEGACY_SECTIONS: &[&str] = &["pbs"];

pub fn find(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.key == key)
}
