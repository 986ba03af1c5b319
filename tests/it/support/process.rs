//! The `dhis2gw` binary run as a process, the way a sysadmin or systemd runs it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::http::ApiRequest;

pub const BIN: &str = env!("CARGO_BIN_EXE_dhis2gw");

/// A command for the binary with a clean environment (only PATH and the given variables).
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    command(args, env).output().expect("run dhis2gw")
}

/// Writes `text` to a temporary config file that lives as long as the returned guard.
pub fn config_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".yml")
        .tempfile()
        .expect("temp file");
    std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
    file
}

/// `dhis2gw serve` running as a child process, its stderr collected line by line.
pub struct Daemon {
    pub child: Child,
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
    client: reqwest::Client,
}

impl Daemon {
    pub fn start(config: &Path, env: &[(&str, &str)]) -> Daemon {
        let mut child = command(&["serve", "--config-file", config.to_str().unwrap()], env)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dhis2gw serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let mut daemon = Daemon {
            child,
            port: 0,
            log,
            client: reqwest::Client::new(),
        };
        let line = daemon
            .wait_for_log("dhis2gw listening", Duration::from_secs(30))
            .unwrap_or_else(|| panic!("daemon did not start; log:\n{}", daemon.log_text()));
        daemon.port = line
            .split("port=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .expect("port in the listening line");
        daemon
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A request to the daemon (see [`ApiRequest`]).
    pub fn request(&self, method: reqwest::Method, path: &str) -> ApiRequest {
        ApiRequest::new(&self.client, &self.url(""), method, path)
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits until a log line contains `needle`; returns that line.
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return Some(line.clone());
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                return self
                    .log
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|l| l.contains(needle))
                    .cloned();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
