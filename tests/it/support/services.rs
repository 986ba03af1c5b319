//! The private PostgreSQL and Redis the tests run against. `packaging/test.sh` starts them and
//! exports their URLs; a bare `cargo test` starts them itself through the same script.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct Services {
    /// URL of the maintenance database; tests create their own databases from it.
    pub admin_db: String,
    pub redis: String,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn script() -> PathBuf {
    repo_root().join("packaging/local-services.sh")
}

/// Runs `packaging/local-services.sh` and returns the `export NAME=value` pairs it printed.
pub fn run_script(args: &[&str]) -> Vec<(String, String)> {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .output()
        .expect("run local-services.sh");
    assert!(
        out.status.success(),
        "local-services.sh {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub fn services() -> &'static Services {
    static SERVICES: OnceLock<Services> = OnceLock::new();
    SERVICES.get_or_init(|| {
        if let (Ok(db), Ok(redis)) = (
            std::env::var("DHIS2GW_TEST_DB"),
            std::env::var("DHIS2GW_TEST_REDIS"),
        ) {
            return Services {
                admin_db: db,
                redis,
            };
        }
        let dir = repo_root().join("target/test-services");
        let vars = run_script(&[
            "start",
            "--dir",
            dir.to_str().unwrap(),
            "--pg-port",
            "55433",
            "--redis-port",
            "56380",
        ]);
        let get = |name: &str| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("local-services.sh printed no {name}"))
        };
        Services {
            admin_db: get("DHIS2GW_DB"),
            redis: get("DHIS2GW_REDIS"),
        }
    })
}

/// A free TCP port on 127.0.0.1 (bound and released; fine for test instances).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Creates an empty database and returns its URL: for the tests of the migrations themselves.
pub async fn empty_database() -> String {
    let name = unique_database_name();
    admin_client()
        .await
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    replace_db_name(&services().admin_db, &name)
}

/// Creates a database with every migration applied and returns its URL. It is a copy of a
/// template migrated once per migration set, which costs a test a file copy instead of the
/// migrations.
pub async fn migrated_database() -> String {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let template = TEMPLATE.get_or_init(migrated_template).await;
    let name = unique_database_name();
    admin_client()
        .await
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .await
        .expect("copy the migrated template");
    replace_db_name(&services().admin_db, &name)
}

fn unique_database_name() -> String {
    format!("t_{}", uuid::Uuid::new_v4().simple())
}

async fn admin_client() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&services().admin_db, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(conn);
    client
}

/// Key of the advisory lock under which one test process builds the template while the others
/// (nextest runs each test in a process of its own) wait for it.
const TEMPLATE_LOCK: i64 = 0x6468_6973_3274_706c;

/// The name of the migrated template database, built first if this migration set has none.
/// The name carries a hash of `db/migrations/*`, so a changed or added migration gets a new
/// template; the template appears under its name only once fully migrated (built under another
/// name, then renamed), so a process that finds it can copy it without taking the lock.
async fn migrated_template() -> String {
    let name = format!("tpl_{}", migrations_hash());
    let admin = admin_client().await;
    if database_exists(&admin, &name).await {
        return name;
    }
    admin
        .execute("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK])
        .await
        .expect("template lock");
    if !database_exists(&admin, &name).await {
        build_template(&admin, &name).await;
    }
    admin
        .execute("SELECT pg_advisory_unlock($1)", &[&TEMPLATE_LOCK])
        .await
        .expect("template unlock");
    name
}

async fn build_template(admin: &tokio_postgres::Client, name: &str) {
    let building = format!("{name}_building");
    // Left by a process killed while building: nobody else builds without the lock.
    for statement in [
        format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
        format!("CREATE DATABASE {building}"),
    ] {
        admin
            .batch_execute(&statement)
            .await
            .expect("create the template database");
    }
    let pool = dhis2gw::db::connect(&dhis2gw::config::DatabaseSettings {
        uri: replace_db_name(&services().admin_db, &building),
        pool_size: 1,
        connect_timeout_secs: 5,
    })
    .expect("pool on the template database");
    dhis2gw::db::migrate::run(&pool)
        .await
        .expect("migrate the template database");
    pool.close();
    // A copy needs the template free of sessions: none may open from now on, and the pool's
    // may not have closed yet (the rename waits a few seconds for them to go).
    for statement in [
        format!("ALTER DATABASE {building} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true"),
        format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{building}'"
        ),
        format!("ALTER DATABASE {building} RENAME TO {name}"),
    ] {
        admin
            .batch_execute(&statement)
            .await
            .expect("publish the template database");
    }
}

async fn database_exists(admin: &tokio_postgres::Client, name: &str) -> bool {
    admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .expect("look up a database")
        .is_some()
}

/// A short hash of the migration files' names and contents.
fn migrations_hash() -> String {
    use sha2::{Digest, Sha256};
    let dir = repo_root().join("db/migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("db/migrations")
        .map(|entry| entry.expect("migration file").path())
        .collect();
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.file_name().unwrap().as_encoded_bytes());
        hash.update(std::fs::read(&file).expect("read a migration"));
    }
    hex::encode(&hash.finalize()[..8])
}

pub fn replace_db_name(url: &str, name: &str) -> String {
    let mut url = url::Url::parse(url).expect("test db url");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A Redis or PostgreSQL of one test's own, that it may stop and start at will.
pub struct PrivateServices {
    pub dir: PathBuf,
    pub vars: Vec<(String, String)>,
}

impl PrivateServices {
    pub fn start(only: &str) -> PrivateServices {
        let dir = repo_root()
            .join("target/test-services/private")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let pg = free_port().to_string();
        let redis = free_port().to_string();
        let vars = run_script(&[
            "start",
            "--dir",
            dir.to_str().unwrap(),
            "--only",
            only,
            "--pg-port",
            &pg,
            "--redis-port",
            &redis,
        ]);
        PrivateServices { dir, vars }
    }

    pub fn url(&self, name: &str) -> String {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    }

    fn dir_arg(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    pub fn stop(&self) {
        run_script(&["stop", "--dir", self.dir_arg()]);
    }

    pub fn restart(&self) {
        let ports = std::fs::read_to_string(self.dir.join("ports")).unwrap();
        let port = |key: &str| {
            ports
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap()
                .to_owned()
        };
        let only = if self.vars.iter().any(|(k, _)| k == "DHIS2GW_DB") {
            "pg"
        } else {
            "redis"
        };
        run_script(&[
            "start",
            "--dir",
            self.dir_arg(),
            "--only",
            only,
            "--pg-port",
            &port("pg_port"),
            "--redis-port",
            &port("redis_port"),
        ]);
    }
}

impl Drop for PrivateServices {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["stop", "--dir", self.dir_arg()])
            .output();
        let _ = std::fs::remove_dir_all(Path::new(&self.dir));
    }
}
