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

/// Creates an empty database and returns its URL.
pub async fn fresh_database() -> String {
    let admin = &services().admin_db;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let (client, conn) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    replace_db_name(admin, &name)
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
