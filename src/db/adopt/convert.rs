//! The SQL that copies the original's rows, set aside in [`KEPT_SCHEMA`], into dhis2gw's
//! tables. Each step returns counts for the report; nothing here commits.

use deadpool_postgres::GenericClient;

use super::detect::OriginalSchema;
use super::report::{Misfit, StatusCount};

/// Where the original's tables, sequences and functions are moved, untouched, for reference
/// and for a way back. Dropping it later is the operator's call.
pub const KEPT_SCHEMA: &str = "original_dhis2gw";

/// Moves every table, view, free-standing sequence and function the original created in
/// `public` (extension objects stay) into [`KEPT_SCHEMA`]; returns the tables moved.
pub async fn set_aside(db: &impl GenericClient) -> Result<Vec<String>, tokio_postgres::Error> {
    db.batch_execute(&format!("CREATE SCHEMA {KEPT_SCHEMA}"))
        .await?;
    let not_extension =
        "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')";
    let relations = db
        .query(
            &format!(
                "SELECT c.relname::text, c.relkind::text FROM pg_class c \
                   JOIN pg_namespace n ON n.oid = c.relnamespace \
                  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND {not_extension} \
                    AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d \
                             WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))) \
                  ORDER BY c.relname"
            ),
            &[],
        )
        .await?;
    let mut tables = Vec::new();
    for row in relations {
        let (name, kind): (String, String) = (row.get(0), row.get(1));
        let keyword = match kind.as_str() {
            "v" => "VIEW",
            "m" => "MATERIALIZED VIEW",
            "S" => "SEQUENCE",
            _ => {
                tables.push(name.clone());
                "TABLE"
            }
        };
        db.batch_execute(&format!(
            "ALTER {keyword} public.{} SET SCHEMA {KEPT_SCHEMA}",
            quote_ident(&name)
        ))
        .await?;
    }
    let functions = db
        .query(
            "SELECT p.proname::text, pg_get_function_identity_arguments(p.oid) FROM pg_proc p \
               JOIN pg_namespace n ON n.oid = p.pronamespace \
              WHERE n.nspname = 'public' \
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
            &[],
        )
        .await?;
    for row in functions {
        let (name, args): (String, String) = (row.get(0), row.get(1));
        db.batch_execute(&format!(
            "ALTER ROUTINE public.{}({args}) SET SCHEMA {KEPT_SCHEMA}",
            quote_ident(&name)
        ))
        .await?;
    }
    Ok(tables)
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Users whose rows cannot become dhis2gw users.
pub async fn user_misfits(db: &impl GenericClient) -> Result<Vec<Misfit>, tokio_postgres::Error> {
    let rows = db
        .query(
            &format!(
                "SELECT id, 'the username is blank' FROM {KEPT_SCHEMA}.users \
                  WHERE btrim(username) = '' ORDER BY id"
            ),
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Misfit::new("user", r.get(0), r.get(1)))
        .collect())
}

/// Copies the users, keeping their ids and password hashes. Returns (copied, uids replaced).
/// The original's `is_admin_user` or its `Administrator` role makes an admin; everyone else
/// (the original enforced no roles) becomes a submitter.
pub async fn users(db: &impl GenericClient) -> Result<(u64, u64), tokio_postgres::Error> {
    let replaced: i64 = db
        .query_one(
            &format!(
                "SELECT count(*) FROM (SELECT uid, count(*) OVER (PARTITION BY uid) AS n \
                   FROM {KEPT_SCHEMA}.users) u \
                  WHERE NOT (uid ~ '^[A-Za-z][A-Za-z0-9]{{10}}$' AND n = 1)"
            ),
            &[],
        )
        .await?
        .get(0);
    let copied = db
        .execute(
            &format!(
                "INSERT INTO users (id, uid, username, password, firstname, lastname, email, telephone, \
                                    role, is_active, last_login, created, updated) \
                 SELECT u.id, \
                        CASE WHEN u.uid ~ '^[A-Za-z][A-Za-z0-9]{{10}}$' \
                                  AND count(*) OVER (PARTITION BY u.uid) = 1 \
                             THEN u.uid ELSE generate_uid() END, \
                        u.username, u.password, COALESCE(u.firstname, ''), COALESCE(u.lastname, ''), \
                        NULLIF(btrim(u.email), ''), COALESCE(u.telephone, ''), \
                        CASE WHEN COALESCE(u.is_admin_user, false) OR r.name = 'Administrator' \
                             THEN 'admin' ELSE 'submitter' END, \
                        COALESCE(u.is_active, true), u.last_login, \
                        COALESCE(u.created, now()), COALESCE(u.updated, u.created, now()) \
                   FROM {KEPT_SCHEMA}.users u \
                   LEFT JOIN {KEPT_SCHEMA}.user_roles r ON r.id = u.user_role"
            ),
            &[],
        )
        .await?;
    Ok((copied, u64::try_from(replaced).unwrap_or(0)))
}

/// Token counts for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub copied: u64,
    /// Empty tokens and repeats of a token another row already carries.
    pub skipped: u64,
    /// Active tokens whose expiry had passed (the original never checked it): given a new one.
    pub renewed: u64,
}

/// Copies the API tokens as SHA-256 digests of the same tokens, so every client keeps its
/// token. Where one token string appears on several rows, the active, newest row wins.
pub async fn tokens(
    db: &impl GenericClient,
    schema: &OriginalSchema,
) -> Result<TokenCounts, tokio_postgres::Error> {
    let expires = schema.column_or("user_apitoken", "t", "expires_at", "NULL::timestamptz");
    let total: i64 = db
        .query_one(
            &format!("SELECT count(*) FROM {KEPT_SCHEMA}.user_apitoken"),
            &[],
        )
        .await?
        .get(0);
    let renewed: i64 = db
        .query_one(
            &format!(
                "SELECT count(*) FROM {KEPT_SCHEMA}.user_apitoken t \
                  WHERE t.token <> '' AND COALESCE(t.is_active, true) AND {expires} < now()"
            ),
            &[],
        )
        .await?
        .get(0);
    let copied = db
        .execute(
            &format!(
                "INSERT INTO user_apitoken (id, user_id, token_sha256, is_active, expires_at, created, updated) \
                 SELECT DISTINCT ON (t.token) t.id, t.user_id, \
                        encode(sha256(convert_to(t.token, 'UTF8')), 'hex'), \
                        COALESCE(t.is_active, true), \
                        CASE WHEN COALESCE(t.is_active, true) AND {expires} < now() \
                             THEN now() + interval '365 days' ELSE {expires} END, \
                        COALESCE(t.created, now()), COALESCE(t.updated, t.created, now()) \
                   FROM {KEPT_SCHEMA}.user_apitoken t \
                  WHERE t.token <> '' \
                  ORDER BY t.token, COALESCE(t.is_active, true) DESC, t.id DESC"
            ),
            &[],
        )
        .await?;
    Ok(TokenCounts {
        copied,
        skipped: u64::try_from(total).unwrap_or(0).saturating_sub(copied),
        renewed: u64::try_from(renewed).unwrap_or(0),
    })
}

/// Stages the mappings in dhis2gw's spelling (absent optional values NULL, not '') in the
/// temporary table `adopt_mappings`, and returns the rows that cannot be dhis2gw mappings.
pub async fn stage_mappings(
    db: &impl GenericClient,
    schema: &OriginalSchema,
) -> Result<Vec<Misfit>, tokio_postgres::Error> {
    let col = |name: &str| schema.column_or("dhis2_mappings", "m", name, "NULL::text");
    // Before namespaces existed every mapping was in default/default (000005 backfilled so).
    let namespace = |name: &str| {
        if schema.has("dhis2_mappings", name) {
            format!("NULLIF(m.{name}, '')")
        } else {
            "'default'".to_owned()
        }
    };
    db.batch_execute(&format!(
        "CREATE TEMP TABLE adopt_mappings ON COMMIT DROP AS \
         SELECT m.id::int8 AS id, \
                CASE WHEN NULLIF(m.uid, '') IS NOT NULL \
                          AND row_number() OVER (PARTITION BY m.uid ORDER BY m.id) = 1 \
                     THEN m.uid END AS uid, \
                NULLIF(m.code, '') AS code, \
                COALESCE(NULLIF({what}, ''), 'de') AS what, \
                COALESCE(m.name, '') AS name, \
                NULLIF(m.description, '') AS description, \
                NULLIF(m.dataset, '') AS dataset, \
                NULLIF(m.dataelement, '') AS dataelement, \
                NULLIF(m.category_option_combo, '') AS category_option_combo, \
                NULLIF({category_option}, '') AS category_option, \
                NULLIF({category_combo}, '') AS category_combo, \
                {instance} AS instance_name, \
                {source} AS source_name, \
                NULLIF({source_orgunit}, '') AS source_orgunit, \
                NULLIF({dest_orgunit}, '') AS dest_orgunit, \
                NULLIF({dimension_type}, '') AS dimension_type, \
                COALESCE(m.created, now()) AS created, \
                COALESCE(m.updated, m.created, now()) AS updated \
           FROM {KEPT_SCHEMA}.dhis2_mappings m",
        what = col("what"),
        category_option = col("category_option"),
        category_combo = col("category_combo"),
        instance = namespace("instance_name"),
        source = namespace("source_name"),
        source_orgunit = col("source_orgunit"),
        dest_orgunit = col("dest_orgunit"),
        dimension_type = col("dimension_type"),
    ))
    .await?;
    let rows = db
        .query(
            "SELECT id, reason FROM ( \
               SELECT id, 'no code: the original looked data values up by code' AS reason \
                 FROM adopt_mappings WHERE code IS NULL \
               UNION ALL SELECT id, format('what is %L; dhis2gw knows de and ou', what) \
                 FROM adopt_mappings WHERE what NOT IN ('de', 'ou') \
               UNION ALL SELECT id, 'a data-element mapping without a data element' \
                 FROM adopt_mappings WHERE what = 'de' AND dataelement IS NULL \
               UNION ALL SELECT id, 'an org-unit mapping without both source_orgunit and dest_orgunit' \
                 FROM adopt_mappings WHERE what = 'ou' AND (source_orgunit IS NULL OR dest_orgunit IS NULL) \
               UNION ALL SELECT id, 'no source_name or instance_name: the original never read it' \
                 FROM adopt_mappings WHERE source_name IS NULL OR instance_name IS NULL \
               UNION ALL SELECT id, format('%s %L is mapped by rows %s in namespace %s/%s', \
                                           CASE WHEN what = 'de' THEN 'code' ELSE 'org unit' END, \
                                           key, ids, source_name, instance_name) \
                 FROM (SELECT id, what, source_name, instance_name, \
                              CASE WHEN what = 'de' THEN code ELSE source_orgunit END AS key, \
                              count(*) OVER w AS n, \
                              string_agg(id::text, ', ') OVER (w ORDER BY id \
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS ids \
                         FROM adopt_mappings \
                        WHERE what IN ('de', 'ou') AND source_name IS NOT NULL AND instance_name IS NOT NULL \
                          AND (CASE WHEN what = 'de' THEN code ELSE source_orgunit END) IS NOT NULL \
                       WINDOW w AS (PARTITION BY what, source_name, instance_name, \
                                    CASE WHEN what = 'de' THEN code ELSE source_orgunit END)) d \
                WHERE n > 1 \
             ) misfits ORDER BY id, reason",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Misfit::new("mapping", r.get(0), r.get(1)))
        .collect())
}

/// Copies the staged mappings, leaving out `skipped` ids; returns how many were copied.
pub async fn mappings(
    db: &impl GenericClient,
    skipped: &[i64],
) -> Result<u64, tokio_postgres::Error> {
    db.execute(
        "INSERT INTO dhis2_mappings (id, uid, code, what, name, description, dataset, dataelement, \
                                     category_option_combo, category_option, category_combo, \
                                     instance_name, source_name, source_orgunit, dest_orgunit, \
                                     dimension_type, created, updated) \
         SELECT id, COALESCE(uid, generate_uid()), code, what, name, description, dataset, dataelement, \
                category_option_combo, category_option, category_combo, instance_name, source_name, \
                source_orgunit, dest_orgunit, dimension_type, created, updated \
           FROM adopt_mappings WHERE id <> ALL($1)",
        &[&skipped],
    )
    .await
}

/// Copies the submission log. Nothing is left open: rows the original never delivered become
/// `failed` with an explanation, so no instance sends them until someone requeues them.
pub async fn submission_log(
    db: &impl GenericClient,
    schema: &OriginalSchema,
) -> Result<Vec<StatusCount>, tokio_postgres::Error> {
    let errors = schema.column_or("submission_log", "s", "errors", "NULL::text");
    let dhis2_payload = schema.column_or("submission_log", "s", "dhis2_payload", "NULL::text");
    let status = "upper(btrim(COALESCE(s.status, 'queued')))";
    let no_payload = format!(
        "CASE WHEN {dhis2_payload} IS NULL \
              THEN '; the original built no DHIS2 payload for it: send the request again' ELSE '' END"
    );
    db.execute(
        &format!(
            "INSERT INTO submission_log (id, task_id, kind, status, submitted_at, updated_at, body_hash, \
                                         source_name, instance_name, org_unit, period, data_set, payload, \
                                         dhis2_payload, attempts, retry_count, last_attempt_at, \
                                         completed_at, response, errors) \
             SELECT s.id, \
                    CASE WHEN s.task_id ~* '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$' \
                              AND count(*) OVER (PARTITION BY lower(s.task_id)) = 1 \
                         THEN s.task_id::uuid ELSE gen_random_uuid() END, \
                    'aggregate', \
                    CASE WHEN {status} IN ('SUCCESS', 'OK') THEN 'completed' \
                         WHEN {status} = 'WARNING' THEN 'completed_with_conflicts' \
                         ELSE 'failed' END, \
                    COALESCE(s.submitted_at::timestamptz, now()), \
                    COALESCE(s.last_attempt_at, s.submitted_at, now())::timestamptz, \
                    encode(sha256(convert_to('aggregate' || E'\\n' || s.payload::text, 'UTF8')), 'hex'), \
                    'default', 'default', \
                    s.payload ->> 'orgUnit', s.payload ->> 'period', s.payload ->> 'dataSet', \
                    s.payload, COALESCE({dhis2_payload}, ''), \
                    CASE WHEN s.last_attempt_at IS NULL THEN 0 ELSE 1 END, \
                    GREATEST(s.retry_count, 0), \
                    s.last_attempt_at::timestamptz, \
                    CASE WHEN {status} IN ('SUCCESS', 'OK', 'WARNING') \
                         THEN COALESCE(s.last_attempt_at, s.submitted_at)::timestamptz END, \
                    s.response, \
                    CASE WHEN {status} IN ('SUCCESS', 'OK', 'WARNING') THEN NULLIF({errors}, '') \
                         WHEN {status} = 'FAILED' \
                              THEN COALESCE(NULLIF({errors}, ''), 'failed in the original dhis2gw') \
                         WHEN {status} = 'ERROR' \
                              THEN COALESCE(NULLIF({errors}, ''), 'DHIS2 answered ERROR (recorded by the original dhis2gw)') \
                         WHEN {status} = 'QUEUED' \
                              THEN 'never delivered by the original dhis2gw (still queued when adopted); \
requeue it to send it' || {no_payload} \
                         ELSE format('status %L in the original dhis2gw', s.status) \
                              || COALESCE(': ' || NULLIF({errors}, ''), '') END \
               FROM {KEPT_SCHEMA}.submission_log s"
        ),
        &[],
    )
    .await?;
    let rows = db
        .query(
            &format!(
                "SELECT COALESCE(o.status, '(none)'), n.status, count(*) \
                   FROM {KEPT_SCHEMA}.submission_log o JOIN submission_log n ON n.id = o.id \
                  GROUP BY 1, 2 ORDER BY 1, 2"
            ),
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| StatusCount {
            original: r.get(0),
            adopted: r.get(1),
            count: r.get(2),
        })
        .collect())
}

/// Points each copied table's id sequence past the highest copied id.
pub async fn advance_sequences(db: &impl GenericClient) -> Result<(), tokio_postgres::Error> {
    for table in ["users", "user_apitoken", "dhis2_mappings", "submission_log"] {
        db.batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                           COALESCE((SELECT max(id) FROM {table}), 1), \
                           (SELECT max(id) FROM {table}) IS NOT NULL)"
        ))
        .await?;
    }
    Ok(())
}
