//! The console's files, compiled into the binary from the top-level `admin/` folder (no build
//! step, nothing fetched at run time). They are served under `/admin/static/<version>/…`, where
//! the version is a hash of every file's content: those URLs never change meaning, so browsers
//! may keep them for a year; the page itself (`index.html`, which names the current version) is
//! revalidated on every load.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    /// Path under `admin/`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/admin/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the console except `index.html`.
pub static ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/app.js", JS),
    asset!("js/api.js", JS),
    asset!("js/ui.js", JS),
    asset!("js/chart.js", JS),
    asset!("js/pages/submissions.js", JS),
    asset!("js/pages/queue.js", JS),
    asset!("js/pages/mappings.js", JS),
    asset!("js/pages/jobs.js", JS),
    asset!("js/pages/rules.js", JS),
    asset!("js/pages/users.js", JS),
    asset!("js/pages/alerts.js", JS),
    asset!("js/pages/deliveries.js", JS),
];

const INDEX_TEMPLATE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/admin/index.html"));

/// The placeholder in `index.html` replaced by `/admin/static/<version>`.
const STATIC_PLACEHOLDER: &str = "{{static}}";

/// The content hash of all files (16 hex characters).
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash = Sha256::new();
        for asset in ASSETS {
            hash.update(asset.path.as_bytes());
            hash.update([0]);
            hash.update(asset.body);
        }
        hash.update(INDEX_TEMPLATE.as_bytes());
        hex::encode(&hash.finalize()[..8])
    })
}

/// `index.html` with the versioned static prefix filled in.
pub fn index_html() -> &'static str {
    static INDEX: OnceLock<String> = OnceLock::new();
    INDEX.get_or_init(|| {
        INDEX_TEMPLATE.replace(STATIC_PLACEHOLDER, &format!("/admin/static/{}", version()))
    })
}

pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_the_current_version_and_every_module_is_embedded() {
        assert!(index_html().contains(&format!("/admin/static/{}/js/app.js", version())));
        assert!(!index_html().contains(STATIC_PLACEHOLDER));
        assert_eq!(version().len(), 16);
        // Every relative import of a module names an embedded file.
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let text = std::str::from_utf8(asset.body).unwrap();
            let dir = asset.path.rsplit_once('/').map_or("", |(d, _)| d);
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let target = line.rsplit_once(" from ").map_or(line, |(_, t)| t);
                let target = target.trim_matches(|c| c == '\'' || c == '"' || c == ';' || c == ' ');
                let target = target.trim_start_matches("import ").trim_matches('\'');
                let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
                for seg in target.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                let resolved = parts.join("/");
                assert!(
                    find(&resolved).is_some(),
                    "{} imports missing {resolved}",
                    asset.path
                );
            }
        }
    }
}
