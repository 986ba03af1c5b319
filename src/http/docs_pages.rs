//! `/docs/` and `/docs/{page}`: the operator docs (the Markdown files the package installs in
//! `server.docs_dir`, `/usr/share/dhis2gw/docs`) rendered to HTML, as the original's
//! `/docs/:page` did. A page name is letters, digits, `-`, `_` and `.` (not leading), so no
//! request reaches a file outside that directory; raw HTML in the Markdown is shown as text,
//! and links other than http(s), mailto and relative ones are dropped.

use std::path::Path;

use poem::http::StatusCode;
use poem::web::{Data, Path as PathParam};
use poem::{Response, handler};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

use super::landing::html_page;
use crate::state::AppState;

/// Longest Markdown file rendered (the shipped docs are under 100 kB).
const MAX_DOC_BYTES: u64 = 4 << 20;
const MAX_NAME: usize = 64;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d2733;line-height:1.55}\
pre{background:#f3f5f7;padding:.8rem;overflow-x:auto;border-radius:4px}code{font-size:.92em}\
table{border-collapse:collapse}td,th{border:1px solid #d5dde5;padding:.25rem .5rem;vertical-align:top}\
a{color:#0b5cad}nav{font-size:.9rem;margin-bottom:1.5rem}\
@media (prefers-color-scheme:dark){body{background:#12171c;color:#e3e8ed}pre{background:#1d252d}a{color:#6cb2f5}td,th{border-color:#34404b}}";

/// Whether `name` may name a doc page: no separator, no leading dot, nothing to decode.
pub fn valid_page_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · dhis2gw</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <nav><a href=\"/\">dhis2gw</a> · <a href=\"/docs/\">documentation</a></nav>\n{body}\n</body>\n</html>\n",
        escape(title)
    )
}

fn not_found(message: &str) -> Response {
    html_page(
        StatusCode::NOT_FOUND,
        page(
            "Documentation not found",
            &format!(
                "<h1>Documentation not found</h1>\n<p>{}</p>",
                escape(message)
            ),
        ),
    )
}

/// A link target kept as written, rewritten (`x.md#a` → `/docs/x#a`), or dropped (`None`).
fn safe_link(dest: &str) -> Option<String> {
    let lower = dest.trim().to_ascii_lowercase();
    if let Some((scheme, _)) = lower.split_once(':')
        && !scheme.contains(['/', '?', '#'])
    {
        return matches!(scheme, "http" | "https" | "mailto").then(|| dest.to_owned());
    }
    if dest.starts_with("//") {
        return None;
    }
    // Sibling pages: `configuration.md`, `./install.md#section`.
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    let bare = path.strip_prefix("./").unwrap_or(path);
    if let Some(stem) = bare.strip_suffix(".md")
        && valid_page_name(stem)
    {
        return Some(match fragment {
            Some(f) => format!("/docs/{stem}#{f}"),
            None => format!("/docs/{stem}"),
        });
    }
    Some(dest.to_owned())
}

/// Markdown to HTML: raw HTML becomes text, unsafe link targets become `#`.
pub fn render_markdown(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_HEADING_ATTRIBUTES;
    let fix = |dest: CowStr<'static>| -> CowStr<'static> {
        match safe_link(&dest) {
            Some(d) if d == *dest => dest,
            Some(d) => CowStr::from(d),
            None => CowStr::Borrowed("#"),
        }
    };
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: fix(dest_url.into_static()),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: fix(dest_url.into_static()),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

fn docs_dir(state: &AppState) -> String {
    state.settings().server.docs_dir.clone()
}

/// The title of a Markdown page: its first `# ` heading, else its name.
fn title_of(markdown: &str, name: &str) -> String {
    markdown
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().to_owned())
        .unwrap_or_else(|| name.to_owned())
}

async fn read_page(dir: &Path, name: &str) -> Result<String, Response> {
    let file = dir.join(format!("{name}.md"));
    let meta = match tokio::fs::metadata(&file).await {
        Ok(m) if m.is_file() => m,
        _ => return Err(not_found(&format!("There is no page {name:?}."))),
    };
    if meta.len() > MAX_DOC_BYTES {
        return Err(not_found(&format!(
            "The page {name:?} is too large to show."
        )));
    }
    tokio::fs::read_to_string(&file)
        .await
        .map_err(|_| not_found(&format!("The page {name:?} cannot be read.")))
}

fn dir_missing(dir: &str) -> Response {
    not_found(&format!(
        "The operator documentation is not installed on this server: the directory {dir} \
         (server.docs_dir) does not exist. The same pages are in the dhis2gw package and source \
         (docs/*.md)."
    ))
}

/// `GET /docs/{page}`: one page (`/docs/install`; `/docs/install.md` too).
#[handler]
pub async fn doc_page(PathParam(name): PathParam<String>, state: Data<&AppState>) -> Response {
    let name = name.strip_suffix(".md").unwrap_or(&name);
    if !valid_page_name(name) {
        return not_found("A page name is letters, digits, '-', '_' and '.'.");
    }
    let dir = docs_dir(&state);
    let dir_path = Path::new(&dir);
    if !dir_path.is_dir() {
        return dir_missing(&dir);
    }
    if name == "index" && !dir_path.join("index.md").is_file() {
        return doc_index_in(&dir).await;
    }
    match read_page(dir_path, name).await {
        Ok(markdown) => {
            let title = title_of(&markdown, name);
            html_page(StatusCode::OK, page(&title, &render_markdown(&markdown)))
        }
        Err(resp) => resp,
    }
}

/// `GET /docs/`: the list of pages.
#[handler]
pub async fn doc_index(state: Data<&AppState>) -> Response {
    doc_index_in(&docs_dir(&state)).await
}

async fn doc_index_in(dir: &str) -> Response {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return dir_missing(dir);
    };
    let mut pages = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let file_name = entry.file_name();
        let Some(stem) = file_name.to_str().and_then(|n| n.strip_suffix(".md")) else {
            continue;
        };
        if !valid_page_name(stem) {
            continue;
        }
        let title = match read_page(Path::new(dir), stem).await {
            Ok(markdown) => title_of(&markdown, stem),
            Err(_) => continue,
        };
        pages.push((stem.to_owned(), title));
    }
    pages.sort_by_key(|a| a.1.to_lowercase());
    let mut body = String::from("<h1>dhis2gw documentation</h1>\n<ul>\n");
    for (stem, title) in &pages {
        body.push_str(&format!(
            "<li><a href=\"/docs/{}\">{}</a></li>\n",
            escape(stem),
            escape(title)
        ));
    }
    body.push_str("</ul>\n");
    html_page(StatusCode::OK, page("Documentation", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_cannot_leave_the_directory() {
        assert!(valid_page_name("install"));
        assert!(valid_page_name("alerts-farrington"));
        for bad in [
            "",
            "..",
            ".env",
            "../etc/passwd",
            "a/b",
            "a\\b",
            "%2e%2e",
            "a\0b",
        ] {
            assert!(!valid_page_name(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn raw_html_is_text_and_unsafe_links_are_dropped() {
        let html = render_markdown(
            "# T\n\n<script>alert(1)</script>\n\nx <b onmouseover=x>y</b> \
             [a](javascript:alert(1)) [b](configuration.md#keys) [c](https://dhis2.org) \
             ![i](data:image/png;base64,AAAA)\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("data:image"), "{html}");
        assert!(html.contains("href=\"/docs/configuration#keys\""), "{html}");
        assert!(html.contains("href=\"https://dhis2.org\""), "{html}");
        assert!(html.contains("<h1>T</h1>"), "{html}");
    }
}
