//! Message templates, one set per alert kind: email subject, email HTML, plain text (the email's
//! alternative part and the Telegram message) and SMS. The built-in wording is the original
//! program's; a file `<kind>.<part>` in `notifications.templates_dir` (e.g. `cluster.sms`)
//! replaces one. Placeholders are `{{name}}`; an unknown name or an unclosed `{{` is a
//! configuration error when the templates are loaded. Values are substituted once (a value with
//! braces stays as it is) and HTML-escaped in the `html` part.

use std::collections::HashMap;
use std::path::Path;

use super::NotifyError;
use super::notice::{AlertKind, AlertNotice};

/// The parts of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Subject,
    Html,
    Text,
    Sms,
}

impl Part {
    pub const ALL: [Part; 4] = [Part::Subject, Part::Html, Part::Text, Part::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Html => "html",
            Part::Text => "text",
            Part::Sms => "sms",
        }
    }
}

/// Placeholders a template may use.
pub const VARIABLES: &[&str] = &[
    "alert_id",
    "kind",
    "disease",
    "district",
    "org_unit",
    "week",
    "count",
    "expected",
    "upper_bound",
    "reason",
    "severity",
    "facilities",
    "facility_table",
    "link",
    "first_name",
    "greeting",
    "sender",
];

const VERIFY: &str = "Please verify this alert promptly to determine if it signals a potential outbreak. Update your verification results on the eIDSR alert notification tracker as soon as possible.";
const VERIFY_HTML: &str = "Please verify this alert promptly to determine if it signals a potential outbreak. Update your verification results on the <a href=\"{{link}}\">eIDSR alert notification tracker</a> as soon as possible.";

/// The first sentence of each kind, with `{{disease}}` and `{{district}}`.
fn opening(kind: AlertKind, html: bool) -> String {
    let disease = if html {
        "<b>{{disease}}</b>"
    } else {
        "{{disease}}"
    };
    let district = if html { "" } else { " {{district}}" };
    match kind {
        AlertKind::OneCase => {
            format!(
                "Suspected case(s) of {disease} from your recent{district} eIDSR aggregate report."
            )
        }
        AlertKind::Rise => format!(
            "We have detected an unusual rise in suspected cases of {disease} from your recent{district} eIDSR aggregate report."
        ),
        AlertKind::Cluster => format!(
            "We have detected an unusual cluster of suspected cases of {disease} from your recent{district} eIDSR aggregate report."
        ),
        AlertKind::Statistical => format!(
            "We have detected an unusual number of suspected cases of {disease} ({{{{count}}}} in week {{{{week}}}}, {{{{expected}}}} expected) from your recent{district} eIDSR aggregate report."
        ),
    }
}

fn builtin(kind: AlertKind, part: Part) -> String {
    match part {
        Part::Subject => "eIDSR {{alert_id}}: {{district}} - {{disease}}".into(),
        Part::Html => {
            let table = matches!(kind, AlertKind::OneCase | AlertKind::Cluster);
            format!(
                "<h4>Dear {{{{first_name}}}},</h4>\n<p>{} {VERIFY_HTML}</p>\n{}<p>Thank you for your attention to this matter.</p>\n<p>Best regards,<br>{{{{sender}}}}</p>\n",
                opening(kind, true),
                if table { "{{facility_table}}\n" } else { "" }
            )
        }
        Part::Text => {
            let facilities = if kind == AlertKind::Cluster {
                "\nFacilities affected:\n{{facilities}}."
            } else {
                ""
            };
            format!(
                "eIDSR Alert | {{{{alert_id}}}}:\n{{{{greeting}}}}{} {VERIFY}{facilities}\n\n{{{{link}}}}",
                opening(kind, false)
            )
        }
        Part::Sms => {
            let what = match kind {
                AlertKind::OneCase => "Suspected case(s) of",
                AlertKind::Rise => "Unusual rise in suspected cases of",
                AlertKind::Cluster => "Unusual cluster in suspected cases of",
                AlertKind::Statistical => "Unusual number of suspected cases of",
            };
            format!(
                "eIDSR Alert | {{{{alert_id}}}}: {what} {{{{disease}}}} from {{{{district}}}} ND2 report. {{{{link}}}}"
            )
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Literal(String),
    Variable(&'static str),
}

/// One parsed template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template(Vec<Piece>);

impl Template {
    /// Parses `source`; `name` only labels the error.
    pub fn parse(name: &str, source: &str) -> Result<Template, NotifyError> {
        let mut pieces = Vec::new();
        let mut rest = source;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                pieces.push(Piece::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                return Err(NotifyError::Config(format!(
                    "template {name}: unclosed {{{{ at byte {}",
                    source.len() - rest.len() + start
                )));
            };
            let var = after[..end].trim();
            let Some(known) = VARIABLES.iter().find(|v| **v == var) else {
                return Err(NotifyError::Config(format!(
                    "template {name}: unknown placeholder {{{{{var}}}}} (known: {})",
                    VARIABLES.join(", ")
                )));
            };
            pieces.push(Piece::Variable(known));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_string()));
        }
        Ok(Template(pieces))
    }

    /// Substitutes the values; `escape` HTML-escapes each (not `facility_table`, built escaped).
    pub fn render(&self, values: &HashMap<&'static str, String>, escape: bool) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Variable(var) => {
                    let value = values.get(var).map(String::as_str).unwrap_or("");
                    if escape && *var != "facility_table" {
                        out.push_str(&html_escape(value));
                    } else {
                        out.push_str(value);
                    }
                }
            }
        }
        out
    }
}

/// `&`, `<`, `>`, `"` and `'` as entities: safe in element content and quoted attributes.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One rendered message, every part.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub subject: String,
    pub html: String,
    pub text: String,
    pub sms: String,
}

/// Every kind's templates, built-in or from files.
#[derive(Clone, Debug)]
pub struct Templates {
    by_kind: HashMap<(AlertKind, Part), Template>,
}

impl Templates {
    /// The built-in wording only.
    pub fn builtin() -> Templates {
        let mut by_kind = HashMap::new();
        for kind in AlertKind::ALL {
            for part in Part::ALL {
                let name = format!("built-in {}.{}", kind.as_str(), part.as_str());
                let template =
                    Template::parse(&name, &builtin(kind, part)).expect("built-in templates parse");
                by_kind.insert((kind, part), template);
            }
        }
        Templates { by_kind }
    }

    /// The built-in wording, with each `<kind>.<part>` file of `dir` in its place. A missing
    /// directory means no overrides; a file with a known part but an unknown kind, or one that
    /// does not parse, is an error.
    pub fn load(dir: &Path) -> Result<Templates, NotifyError> {
        let mut templates = Templates::builtin();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(templates),
            Err(e) => {
                return Err(NotifyError::Config(format!(
                    "templates directory {}: {e}",
                    dir.display()
                )));
            }
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some((kind, part)) = file_name.rsplit_once('.') else {
                continue;
            };
            let Some(part) = Part::ALL.into_iter().find(|p| p.as_str() == part) else {
                continue;
            };
            let Some(kind) = AlertKind::ALL.into_iter().find(|k| k.as_str() == kind) else {
                return Err(NotifyError::Config(format!(
                    "template {file_name}: {kind:?} is not an alert kind (one_case, rise, cluster, statistical)"
                )));
            };
            let source = std::fs::read_to_string(entry.path())
                .map_err(|e| NotifyError::Config(format!("template {file_name}: {e}")))?;
            templates
                .by_kind
                .insert((kind, part), Template::parse(&file_name, &source)?);
        }
        Ok(templates)
    }

    /// Every part of the message about `notice` for a person called `first_name` (empty for a
    /// group broadcast); `sender` signs the email, `link` is where the alert is verified.
    pub fn render(&self, notice: &AlertNotice, first_name: &str, sender: &str) -> Message {
        let values = values(notice, first_name, sender);
        let part = |p: Part, escape: bool| self.by_kind[&(notice.kind, p)].render(&values, escape);
        Message {
            subject: part(Part::Subject, false).replace(['\r', '\n'], " "),
            html: part(Part::Html, true),
            text: part(Part::Text, false),
            sms: part(Part::Sms, false),
        }
    }
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n:.1}")
    }
}

fn values(notice: &AlertNotice, first_name: &str, sender: &str) -> HashMap<&'static str, String> {
    let rows: String = notice
        .facilities
        .iter()
        .map(|f| format!("<tr><td>{}</td></tr>", html_escape(f)))
        .collect();
    let table = if notice.facilities.is_empty() {
        String::new()
    } else {
        format!(
            "<p>Please find below the list of facilities with reported cases:</p>\n<table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\"><tr><th>Facility (# cases)</th></tr>{rows}</table>"
        )
    };
    let greeting = if first_name.is_empty() {
        String::new()
    } else {
        format!("\nDear {first_name},\n")
    };
    HashMap::from([
        ("alert_id", notice.alert_id.to_string()),
        ("kind", notice.kind.as_str().to_string()),
        ("disease", notice.disease_name.clone()),
        ("district", notice.org_unit_name.clone()),
        ("org_unit", notice.org_unit.clone()),
        ("week", notice.week.to_string()),
        ("count", number(notice.count)),
        ("expected", notice.expected.map(number).unwrap_or_default()),
        (
            "upper_bound",
            notice.upper_bound.map(number).unwrap_or_default(),
        ),
        ("reason", notice.reason.clone()),
        ("severity", notice.severity.clone()),
        (
            "facilities",
            if notice.facilities.is_empty() && notice.kind == AlertKind::Cluster {
                "none reached the threshold on its own".to_string()
            } else {
                notice.facilities.join(", ")
            },
        ),
        ("facility_table", table),
        ("link", notice.capture_url.clone().unwrap_or_default()),
        ("first_name", first_name.to_string()),
        ("greeting", greeting),
        ("sender", sender.to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_placeholders_and_unclosed_braces_are_errors() {
        let e = Template::parse("x", "Hello {{nme}}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown placeholder {{nme}}"), "{e}");
        let e = Template::parse("x", "Hello {{name")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unclosed"), "{e}");
        assert!(Template::parse("x", "a { b } {{ disease }}").is_ok());
    }

    #[test]
    fn a_file_overrides_one_part_and_a_bad_one_fails_the_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rise.sms"), "RISE {{disease}} {{alert_id}}").unwrap();
        std::fs::write(dir.path().join("README"), "not a template").unwrap();
        let t = Templates::load(dir.path()).unwrap();
        let values = HashMap::from([("disease", "Cholera".to_string()), ("alert_id", "7".into())]);
        assert_eq!(
            t.by_kind[&(AlertKind::Rise, Part::Sms)].render(&values, false),
            "RISE Cholera 7"
        );
        std::fs::write(dir.path().join("outbreak.sms"), "x").unwrap();
        assert!(
            Templates::load(dir.path())
                .unwrap_err()
                .to_string()
                .contains("not an alert kind")
        );
    }

    #[test]
    fn html_escaping_covers_markup_and_quotes() {
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
