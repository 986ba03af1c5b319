//! A headless Chromium driven through chromedriver's WebDriver HTTP API (plain JSON over
//! reqwest: a handful of commands is all the console tests need). Each [`Browser`] starts its
//! own chromedriver on a free port with a new empty profile directory; a Chromium or
//! chromedriver that cannot start fails the test with what to install, never skips it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a wait for the page polls before failing.
pub const WAIT: Duration = Duration::from_secs(15);

pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
    /// Where screenshots go (`target/console-screenshots/<test>`).
    shots: PathBuf,
}

/// An element found on the page.
#[derive(Clone)]
pub struct Element(String);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium `width` pixels wide.
    pub async fn start(test: &str, width: u32) -> Browser {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(binary).exists(),
                "{binary} is missing: the console tests need Debian's chromium and \
                 chromium-driver (packaging/test.sh installs them; or apt-get install \
                 chromium chromium-driver)"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let http = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = http
                .get(format!("http://127.0.0.1:{port}/status"))
                .send()
                .await;
            if let Ok(r) = ready
                && r.status().is_success()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on port {port} within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().expect("profile directory");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={width},900"),
        ])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let answer: Value = http
            .post(format!("http://127.0.0.1:{port}/session"))
            .json(&caps)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("JSON from chromedriver");
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("Chromium could not start through chromedriver: {answer}"))
            .to_owned();
        // Headless Chromium keeps windows at least 500 px wide: narrower screens are emulated.
        let viewport = json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
            "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600,
        }});
        let emulated = http
            .post(format!(
                "http://127.0.0.1:{port}/session/{session}/goog/cdp/execute"
            ))
            .json(&viewport)
            .send()
            .await
            .expect("chromedriver answers");
        assert!(
            emulated.status().is_success(),
            "viewport of {width} px refused"
        );
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target/console-screenshots")
            .join(test);
        std::fs::create_dir_all(&shots).expect("screenshot directory");
        Browser {
            driver,
            port,
            session,
            http,
            _profile: profile,
            shots,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!(
            "http://127.0.0.1:{}/session/{}{path}",
            self.port, self.session
        );
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("chromedriver answers");
        let status = resp.status();
        let value: Value = resp.json().await.expect("JSON from chromedriver");
        assert!(status.is_success(), "WebDriver {path}: {status} {value}");
        value["value"].clone()
    }

    async fn try_cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Option<Value> {
        let url = format!(
            "http://127.0.0.1:{}/session/{}{path}",
            self.port, self.session
        );
        let mut req = self.http.request(method, url);
        if !body.is_null() {
            req = req.json(&body);
        }
        let resp = req.send().await.ok()?;
        let ok = resp.status().is_success();
        let value: Value = resp.json().await.ok()?;
        ok.then(|| value["value"].clone())
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// Every element matching the CSS selector now.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        let found = self
            .cmd(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|e| Element(e[ELEMENT_KEY].as_str().unwrap().to_owned()))
            .collect()
    }

    /// The first element matching, waited for.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self.all(css).await.into_iter().next() {
                return e;
            }
            if Instant::now() > deadline {
                self.screenshot("timeout").await;
                let errors = self.console_errors().await;
                panic!("no element {css:?} within {WAIT:?}; browser console errors: {errors:#?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element's text contains `text`; returns its text.
    pub async fn wait_text(&self, css: &str, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        loop {
            for e in self.all(css).await {
                if let Some(t) = self
                    .try_cmd(
                        reqwest::Method::GET,
                        &format!("/element/{}/text", e.0),
                        Value::Null,
                    )
                    .await
                {
                    last = t.as_str().unwrap_or_default().to_owned();
                    if last.contains(text) {
                        return last;
                    }
                }
            }
            if Instant::now() > deadline {
                self.screenshot("timeout").await;
                let errors = self.console_errors().await;
                panic!(
                    "{css:?} never contained {text:?} within {WAIT:?}; last text {last:?}; \
                     browser console errors: {errors:#?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, e: &Element) {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/click", e.0),
            Some(json!({})),
        )
        .await;
    }

    pub async fn click_css(&self, css: &str) {
        let e = self.find(css).await;
        self.click(&e).await;
    }

    /// Types into an input (for a file input: the file's path).
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/clear", e.0),
            Some(json!({})),
        )
        .await;
        self.send_keys(&e, text).await;
    }

    pub async fn send_keys(&self, e: &Element, text: &str) {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Runs `script` (a function body; `arguments`) in the page and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Runs an async script: it calls `arguments[0]` with its result.
    pub async fn eval_async(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    pub async fn screenshot(&self, name: &str) {
        if let Some(png) = self
            .try_cmd(reqwest::Method::GET, "/screenshot", Value::Null)
            .await
            && let Some(b64) = png.as_str()
            && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64)
        {
            let _ = std::fs::write(self.shots.join(format!("{name}.png")), bytes);
        }
    }

    /// The browser console's errors since the last call (chromedriver's `browser` log).
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self
            .cmd(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await;
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Fails on any console error except those mentioning one of `expected` (e.g. the 401 of
    /// the session check before login), and on any resource the page loaded from another
    /// origin.
    pub async fn assert_clean(&self, expected: &[&str]) {
        let errors: Vec<String> = self
            .console_errors()
            .await
            .into_iter()
            .filter(|m| !expected.iter().any(|x| m.contains(x)))
            .collect();
        assert!(errors.is_empty(), "browser console errors: {errors:#?}");
        let foreign = self
            .eval(
                "return performance.getEntriesByType('resource').map(e => e.name) \
                 .filter(n => new URL(n).origin !== location.origin);",
            )
            .await;
        assert_eq!(foreign, json!([]), "requests to another origin");
    }

    /// Ends the Chromium session and chromedriver.
    pub async fn close(mut self) {
        let _ = self
            .http
            .delete(format!(
                "http://127.0.0.1:{}/session/{}",
                self.port, self.session
            ))
            .send()
            .await;
        self.session.clear();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that panicked never reached `close`: end Chromium through chromedriver with a
        // plain blocking request, then chromedriver itself.
        if !self.session.is_empty()
            && let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port))
        {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = write!(
                s,
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session
            );
            let _ = s.read(&mut [0u8; 512]);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
