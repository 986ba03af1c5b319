//! Databases built the way the original dhis2gw built them: its golang-migrate migrations from
//! `tests/fixtures/original-db/` (released or edited forms) and its `schema_migrations` row,
//! then filled with the kind of data a running install accumulates.

use crate::support::services::{empty_database, repo_root};

/// Which form of the original's edited migrations the database was built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edits {
    /// As first released: no token expiry, `UNIQUE (code, dataset)`.
    Released,
    /// As edited before HEAD: `expires_at`, `UNIQUE (code, source_name, instance_name, what)`.
    Edited,
}

/// Plain-text credentials of the seeded users, for the login checks after adoption.
pub const INTEGRATOR: (&str, &str) = ("dhis2-integrator", "s3cret-Integr4tor");
pub const OPERATOR: (&str, &str) = ("ops", "0ps-passw0rd");
pub const INTEGRATOR_TOKEN: &str = "5f2b0c8e1d3a4b6c7d8e9f00112233445566aabb";
pub const OPERATOR_EXPIRED_TOKEN: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
pub const REVOKED_TOKEN: &str = "0000111122223333444455556666777788889999";

/// Builds an original database at migration `version` and returns its URL.
pub async fn build(version: u32, edits: Edits) -> String {
    let uri = empty_database().await;
    let db = connect(&uri).await;
    let dir = repo_root().join("tests/fixtures/original-db");
    for n in 1..=version {
        let prefix = format!("{n:06}_");
        let edited = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&prefix)
            })
            .unwrap_or_else(|| panic!("no migration {prefix}"));
        let released = dir.join("before-edits").join(edited.file_name().unwrap());
        let mut sql = if edits == Edits::Released && released.exists() {
            std::fs::read_to_string(&released).unwrap()
        } else {
            std::fs::read_to_string(&edited).unwrap()
        };
        if edits == Edits::Released {
            sql = sql
                .lines()
                .filter(|l| !l.ends_with("-- added after release"))
                .collect::<Vec<_>>()
                .join("\n");
        }
        db.batch_execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", edited.display()));
    }
    db.batch_execute(&format!(
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); \
         INSERT INTO schema_migrations VALUES ({version}, false);"
    ))
    .await
    .unwrap();
    uri
}

pub async fn connect(uri: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(uri, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// Fills an original database the way months of use would: users made by hand (the original's
/// own user API never worked), tokens from getToken, imported mappings, and a submission log
/// with every status the original wrote.
pub async fn seed(uri: &str) {
    let db = connect(uri).await;
    let has = |table: &str, column: &str| {
        let (table, column) = (table.to_owned(), column.to_owned());
        let db = &db;
        async move {
            db.query_one(
                "SELECT count(*) > 0 FROM information_schema.columns \
                  WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2",
                &[&table, &column],
            )
            .await
            .unwrap()
            .get::<_, bool>(0)
        }
    };
    // Users: Go's bcrypt cost 10 as the original wrote them; 'ops' is an admin by flag.
    db.execute(
        "INSERT INTO users (uid, user_role, username, password, firstname, lastname, telephone, email, is_admin_user) \
         VALUES ('hK3xP9qLm2Z', (SELECT id FROM user_roles WHERE name = 'SMS User'), $1, \
                 crypt($2, gen_salt('bf', 10)), 'Integration', 'Bot', '+256700000001', NULL, false), \
                ('', (SELECT id FROM user_roles WHERE name = 'SMS User'), $3, \
                 crypt($4, gen_salt('bf', 10)), 'Grace', 'Ops', '', 'ops@example.org', true), \
                ('Zx9Yw8Vu7Ts', (SELECT id FROM user_roles WHERE name = 'SMS User'), 'former', \
                 crypt('whatever', gen_salt('bf')), 'Former', 'Staff', '', '', false)",
        &[&INTEGRATOR.0, &INTEGRATOR.1, &OPERATOR.0, &OPERATOR.1],
    )
    .await
    .unwrap();
    db.batch_execute("UPDATE users SET is_active = false WHERE username = 'former'")
        .await
        .unwrap();
    let expiry = if has("user_apitoken", "expires_at").await {
        ", expires_at"
    } else {
        ""
    };
    let (in_future, in_past) = if expiry.is_empty() {
        (String::new(), String::new())
    } else {
        (
            ", now() + interval '200 days'".to_owned(),
            ", now() - interval '20 days'".to_owned(),
        )
    };
    db.batch_execute(&format!(
        "INSERT INTO user_apitoken (user_id, token, is_active{expiry}) VALUES \
           ((SELECT id FROM users WHERE username = '{integrator}'), '{INTEGRATOR_TOKEN}', true{in_future}), \
           ((SELECT id FROM users WHERE username = '{integrator}'), '{REVOKED_TOKEN}', false{in_future}), \
           ((SELECT id FROM users WHERE username = '{operator}'), '{OPERATOR_EXPIRED_TOKEN}', true{in_past}), \
           ((SELECT id FROM users WHERE username = '{operator}'), '', true{in_future});",
        integrator = INTEGRATOR.0,
        operator = OPERATOR.0,
    ))
    .await
    .unwrap();

    // Mappings as a CSV import left them: '' for absent values.
    if has("dhis2_mappings", "what").await {
        db.batch_execute(
            "INSERT INTO dhis2_mappings (name, code, description, dataset, dataelement, category_option_combo, \
                                         instance_name, source_name, what, source_orgunit, dest_orgunit) VALUES \
               ('Malaria confirmed', 'MAL_CONF', '', 'pKxY5g6WgDm', 'fbfJHSPpUQD', 'pq2XI5kz2BY', 'default', 'default', 'de', '', ''), \
               ('Malaria tested', 'MAL_TEST', 'RDT and microscopy', 'pKxY5g6WgDm', 'cYeuwXTCPkU', NULL, 'default', 'default', 'de', '', ''), \
               ('Kampala HC', 'KLA-HC-01', '', '', '', NULL, 'default', 'default', 'ou', 'KLA-HC-01', 'DiszpKrYNg8'), \
               ('PBS indicator', 'pbs_ind_1', '', '', 'Uvn6LCg7dVU', 'HllvX50cXC0', 'train.ndpme', 'pbs', 'de', '', '');",
        )
        .await
        .unwrap();
    } else if has("dhis2_mappings", "source_name").await {
        unreachable!("no original migration adds namespaces without what in these tests");
    } else {
        db.batch_execute(
            "INSERT INTO dhis2_mappings (name, code, dataset, dataelement, category_option_combo, dhis2_name) VALUES \
               ('Malaria confirmed', 'MAL_CONF', 'pKxY5g6WgDm', 'fbfJHSPpUQD', 'pq2XI5kz2BY', 'Malaria confirmed'), \
               ('Malaria tested', 'MAL_TEST', 'pKxY5g6WgDm', 'cYeuwXTCPkU', NULL, '');",
        )
        .await
        .unwrap();
    }

    // The submission log, with each status the original wrote.
    let extra_cols = if has("submission_log", "dhis2_payload").await {
        ", errors, dhis2_payload"
    } else {
        ""
    };
    let delivered = r#"{"dataSet":"pKxY5g6WgDm","completeDate":"2025-07-02","period":"202506","orgUnit":"DiszpKrYNg8","dataValues":[{"dataElement":"fbfJHSPpUQD","categoryOptionCombo":"pq2XI5kz2BY","value":"12"}]}"#;
    let rows: [(&str, &str, &str, &str, &str); 5] = [
        (
            "2025-07-02 09:15:00",
            "SUCCESS",
            "0b7f7c3e-4a8e-4d8e-9b1e-1a2b3c4d5e6f",
            "''",
            delivered,
        ),
        (
            "2025-07-03 10:00:00",
            "OK",
            "1c8f8d4f-5b9f-4e9f-8c2f-2b3c4d5e6f70",
            "''",
            delivered,
        ),
        (
            "2025-07-04 11:30:00",
            "WARNING",
            "2d909e50-6ca0-4fa0-9d30-3c4d5e6f7081",
            "''",
            delivered,
        ),
        (
            "2025-07-05 12:45:00",
            "failed",
            "3ea1af61-7db1-40b1-8e41-4d5e6f708192",
            "'Post \"https://dhis2.example.org/api/dataValueSets\": dial tcp: i/o timeout'",
            delivered,
        ),
        (
            "2025-07-06 13:05:00",
            "queued",
            "4fb2b072-8ec2-41c2-9f52-5e6f708192a3",
            "NULL",
            "",
        ),
    ];
    for (at, status, task, errors, dhis2) in rows {
        let payload = r#"{"orgUnit":"DiszpKrYNg8","orgUnitName":"Kampala HC","period":"202506","dataSet":"pKxY5g6WgDm","dataValues":{"MAL_CONF":12,"MAL_TEST":"30"}}"#;
        let (cols, vals) = if extra_cols.is_empty() {
            (String::new(), String::new())
        } else {
            let dhis2 = if dhis2.is_empty() {
                "NULL".to_owned()
            } else {
                format!("'{dhis2}'")
            };
            (extra_cols.to_owned(), format!(", {errors}, {dhis2}"))
        };
        let attempt = if status == "queued" {
            "NULL".to_owned()
        } else {
            format!("'{at}'::timestamp + interval '3 seconds'")
        };
        db.batch_execute(&format!(
            "INSERT INTO submission_log (submitted_at, payload, status, last_attempt_at, task_id, response{cols}) \
             VALUES ('{at}', '{payload}', '{status}', {attempt}, '{task}', NULL{vals})"
        ))
        .await
        .unwrap();
    }
}
