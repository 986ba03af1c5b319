//! Configuration layering and errors, through the real binary (`check-config` and `serve`).

use crate::support::process::{config_file, run};

fn check(yaml: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let file = config_file(yaml);
    let out = run(
        &[
            "check-config",
            "--config-file",
            file.path().to_str().unwrap(),
        ],
        env,
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The value `check-config` printed for `section.key`.
fn shown(stdout: &str, section: &str, key: &str) -> String {
    let yaml: serde_yaml::Value = serde_yaml::from_str(
        &stdout
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("check-config prints YAML");
    match &yaml[section][key] {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn an_empty_file_gives_the_documented_defaults() {
    let (code, out, err) = check("", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(shown(&out, "server", "http_port"), "9090");
    assert_eq!(shown(&out, "server", "host"), "127.0.0.1");
    assert_eq!(shown(&out, "server", "max_retries"), "3");
    assert_eq!(shown(&out, "server", "max_concurrent"), "5");
    assert_eq!(shown(&out, "server", "queue_prefix"), "dhis2gw");
    assert_eq!(shown(&out, "api", "save_response"), "true");
    assert_eq!(shown(&out, "api", "mapping_scheme"), "CODE");
    assert_eq!(shown(&out, "log", "level"), "info");
}

#[test]
fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
    let yaml = "server:\n  http_port: 8000\n  max_retries: 7\napi:\n  mapping_scheme: uid\n";
    let (code, out, _) = check(yaml, &[]);
    assert_eq!(code, 0);
    assert_eq!(shown(&out, "server", "http_port"), "8000");
    assert_eq!(shown(&out, "api", "mapping_scheme"), "UID");

    let (code, out, _) = check(yaml, &[("DHIS2GW_SERVER__HTTP_PORT", "8100")]);
    assert_eq!(code, 0);
    assert_eq!(shown(&out, "server", "http_port"), "8100");
    assert_eq!(shown(&out, "server", "max_retries"), "7");
}

#[test]
fn the_original_environment_names_still_work() {
    let env = [
        ("DHIS2GW_DB", "postgres://gw@db.example.org:5433/gw"),
        ("DHIS2GW_SERVER_PORT", "9191"),
        ("DHIS2GW_HOST", "0.0.0.0"),
        ("DHIS2GW_REDIS", "cache.example.org:6380"),
        ("DHIS2GW_MAX_RETRIES", "9"),
        ("DHIS2GW_MAX_CONCURRENT", "12"),
    ];
    let (code, out, err) = check("", &env);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        shown(&out, "database", "uri"),
        "postgres://gw@db.example.org:5433/gw"
    );
    assert_eq!(shown(&out, "server", "http_port"), "9191");
    assert_eq!(shown(&out, "server", "host"), "0.0.0.0");
    assert_eq!(
        shown(&out, "server", "redis_address"),
        "redis://cache.example.org:6380"
    );
    assert_eq!(shown(&out, "server", "max_retries"), "9");
    assert_eq!(shown(&out, "server", "max_concurrent"), "12");
}

#[test]
fn the_systematic_name_wins_over_the_original_name() {
    let env = [
        ("DHIS2GW_SERVER_PORT", "9191"),
        ("DHIS2GW_SERVER__HTTP_PORT", "9292"),
    ];
    let (_, out, _) = check("", &env);
    assert_eq!(shown(&out, "server", "http_port"), "9292");
}

#[test]
fn save_response_accepts_a_bool_or_a_string() {
    for (raw, expected) in [
        ("false", "false"),
        ("\"true\"", "true"),
        ("\"no\"", "false"),
    ] {
        let (code, out, err) = check(&format!("api:\n  save_response: {raw}\n"), &[]);
        assert_eq!(code, 0, "{raw}: {err}");
        assert_eq!(shown(&out, "api", "save_response"), expected, "{raw}");
    }
}

#[test]
fn secrets_are_masked_and_may_come_from_files() {
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), "s3cr3t-from-file\n").unwrap();
    let yaml = format!(
        "database:\n  uri: postgres://gw:dbpass@127.0.0.1/gw\napi:\n  dhis2_password_file: {}\n  dhis2_pat: d2pat_abc\nauth:\n  jwt_secret: jwtjwtjwt\n",
        secret.path().display()
    );
    let (code, out, err) = check(&yaml, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(shown(&out, "api", "dhis2_password"), "***");
    assert_eq!(shown(&out, "api", "dhis2_pat"), "***");
    assert_eq!(shown(&out, "auth", "jwt_secret"), "***");
    assert_eq!(
        shown(&out, "database", "uri"),
        "postgres://gw:***@127.0.0.1/gw"
    );
    for leaked in ["s3cr3t-from-file", "dbpass", "d2pat_abc", "jwtjwtjwt"] {
        assert!(!out.contains(leaked), "{leaked} leaked:\n{out}");
        assert!(!err.contains(leaked), "{leaked} leaked:\n{err}");
    }
}

#[test]
fn every_bad_key_gets_one_line_naming_it() {
    let yaml = "\
server:
  http_port: eighty
  redis_db: 99
  timezone: Mars/Olympus
  colour: blue
api:
  dhis2_base_url: not a url
  sync_cron_expression: every day
  dhis2_auth_method: kerberos
  dhis2_pat_file: /nonexistent/pat
frobnicate:
  x: 1
";
    let (code, out, err) = check(yaml, &[]);
    assert_eq!(code, 1, "stdout: {out}");
    let expect = [
        "server.http_port: expected an integer",
        "server.redis_db: 99 is out of range",
        "server.timezone: unknown time zone",
        "server.colour: unknown key",
        "api.dhis2_base_url: not a URL",
        "api.sync_cron_expression: expected 5 cron fields",
        "api.dhis2_auth_method: expected one of basic, pat",
        "api.dhis2_pat_file: cannot read /nonexistent/pat",
        "frobnicate: unknown section",
    ];
    for line in expect {
        assert_eq!(
            err.lines().filter(|l| l.starts_with(line)).count(),
            1,
            "no line starting {line:?} in:\n{err}"
        );
    }
    assert_eq!(err.lines().count(), expect.len() + 1, "{err}");
}

#[test]
fn a_bad_environment_value_names_the_key_and_the_variable() {
    let (code, _, err) = check("", &[("DHIS2GW_SERVER__MAX_RETRIES", "lots")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("server.max_retries: expected an integer, got \"lots\" (from environment variable DHIS2GW_SERVER__MAX_RETRIES)"),
        "{err}"
    );
}

#[test]
fn a_missing_or_broken_file_is_one_clear_line() {
    let out = run(&["check-config", "--config-file", "/nonexistent.yml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent.yml"));

    let (code, _, err) = check("server: [unclosed", &[]);
    assert_eq!(code, 1);
    assert!(err.contains("not valid YAML"), "{err}");
}

#[test]
fn serve_refuses_to_start_with_the_same_lines() {
    let file = config_file("server:\n  http_port: eighty\n");
    let out = run(&["serve", "--config", file.path().to_str().unwrap()], &[]);
    // EX_CONFIG, which the unit's RestartPreventExitStatus= names.
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server.http_port: expected an integer"),
        "{err}"
    );
}

#[test]
fn an_original_config_file_is_accepted_with_warnings() {
    let original = include_str!("../fixtures/original-dhis2gw.yml");
    let (code, out, err) = check(original, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: server.templates_directory"), "{err}");
    assert_eq!(shown(&out, "api", "mapping_scheme"), "UID");
    assert_eq!(shown(&out, "api", "dhis2_auth_method"), "basic");
}

#[test]
fn usage_errors_exit_2_and_help_and_version_exit_0() {
    assert_eq!(run(&["frobnicate"], &[]).status.code(), Some(2));
    assert_eq!(run(&["--no-such-flag"], &[]).status.code(), Some(2));
    let help = run(&["--help"], &[]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for word in ["serve", "migrate", "check-config", "--config-file"] {
        assert!(text.contains(word), "{word} missing from --help");
    }
    let version = run(&["--version"], &[]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_shipped_config_file_is_valid_and_documents_every_key() {
    let root = crate::support::services::repo_root();
    let shipped = std::fs::read_to_string(root.join("etc/dhis2gw/dhis2gw.yml")).unwrap();
    let (code, _, err) = check(&shipped, &[]);
    assert_eq!(code, 0, "{err}");
    let reference = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    for spec in dhis2gw::config::keys::KEYS {
        let (_, field) = spec.split();
        assert!(
            shipped.contains(&format!("{field}:")),
            "{} is not in etc/dhis2gw/dhis2gw.yml",
            spec.key
        );
        assert!(
            reference.contains(&format!("`{}`", spec.key)) && reference.contains(&spec.env_name()),
            "{} is not in docs/configuration.md",
            spec.key
        );
    }
}

/// The shipped config file and the reference table are rendered from the key table; run with
/// `DHIS2GW_BLESS=1` to rewrite them after changing a key.
#[test]
fn the_shipped_config_and_reference_match_the_key_table() {
    let root = crate::support::services::repo_root();
    let yaml_path = root.join("etc/dhis2gw/dhis2gw.yml");
    let doc_path = root.join("docs/configuration.md");
    let begin = "<!-- keys:begin -->\n";
    let end = "<!-- keys:end -->";
    let doc = std::fs::read_to_string(&doc_path).unwrap_or_default();
    let table = dhis2gw::config::reference_table();
    if std::env::var_os("DHIS2GW_BLESS").is_some() {
        std::fs::write(&yaml_path, dhis2gw::config::sample_yaml()).unwrap();
        let (head, rest) = doc.split_once(begin).expect("keys:begin marker");
        let (_, tail) = rest.split_once(end).expect("keys:end marker");
        std::fs::write(&doc_path, format!("{head}{begin}{table}{end}{tail}")).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&yaml_path).unwrap(),
        dhis2gw::config::sample_yaml(),
        "etc/dhis2gw/dhis2gw.yml is stale: run DHIS2GW_BLESS=1 cargo test --test it config::"
    );
    assert!(
        doc.contains(&format!("{begin}{table}{end}")),
        "docs/configuration.md is stale: run DHIS2GW_BLESS=1 cargo test --test it config::"
    );
}
