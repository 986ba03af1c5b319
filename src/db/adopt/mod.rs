//! `dhis2gw migrate --adopt`: takes over the original dhis2gw's database in place, in one
//! transaction.
//!
//! The original's tables (and its functions and sequences) are moved, untouched, into the
//! schema [`KEPT_SCHEMA`]; dhis2gw's migrations then build its own tables in `public`, and the
//! users, API tokens, mappings and submission log are copied across, ids kept. A dry run does
//! all of it and rolls back, so its report is exactly what adopting would do. Anything that
//! does not fit refuses the whole adoption with a list of the rows, unless the operator chooses
//! to leave those rows behind (`--skip-unfit`; they stay in [`KEPT_SCHEMA`]).

mod convert;
pub mod detect;
mod report;

use deadpool_postgres::{GenericClient, Pool};

pub use convert::KEPT_SCHEMA;
pub use report::{Misfit, Report, StatusCount};

use crate::auth::password;

/// The seeded account of the original and its published password.
const SEEDED_ADMIN: (&str, &str) = ("admin", "@dm1n");

/// What the operator asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Do everything, report, and roll back.
    pub dry_run: bool,
    /// Leave rows that do not fit in [`KEPT_SCHEMA`] instead of refusing.
    pub skip_unfit: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error("this database already carries dhis2gw's migration history: there is nothing to adopt")]
    AlreadyDhis2gw,
    #[error("this is not the original dhis2gw's database: {0}")]
    NotOriginal(String),
    #[error(
        "golang-migrate marks version {0} dirty: the original's last migration failed halfway; \
         repair it (fix the schema, then clear the flag with the original's migrate tool) first"
    )]
    Dirty(i64),
    #[error("the original's schema lacks what adoption reads: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    #[error("the schema {KEPT_SCHEMA} already exists; drop or rename it first")]
    KeptSchemaExists,
    #[error(
        "{} rows do not fit dhis2gw; nothing was changed. Fix them in the original tables, or \
         adopt with --skip-unfit to leave them in the schema {KEPT_SCHEMA}:\n{}",
        .0.len(),
        report::misfit_list(.0)
    )]
    Misfits(Vec<Misfit>),
    #[error("applying dhis2gw migration {name}: {source}")]
    Migration {
        name: String,
        source: tokio_postgres::Error,
    },
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Pool(#[from] deadpool_postgres::PoolError),
}

/// The message `serve` and `migrate` stop with on an original database that is not adopted.
pub const NOT_ADOPTED: &str = "this database belongs to the original dhis2gw (it has golang-migrate's \
schema_migrations table and no dhis2gw migration history). dhis2gw does not change it on its own: \
see what adopting it would do with `dhis2gw migrate --adopt --dry-run`, then run \
`dhis2gw migrate --adopt` (docs/migrating.md)";

/// Adopts the original's database, or on a dry run reports what adopting would do.
pub async fn adopt(pool: &Pool, options: Options) -> Result<Report, AdoptError> {
    let mut conn = crate::db::TxConn::new(pool.get().await?);
    let tx = conn.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&crate::db::migrate::MIGRATION_LOCK],
    )
    .await?;
    let schema = detect::detect(&tx).await?;
    let kept_exists: bool = tx
        .query_one("SELECT to_regnamespace($1) IS NOT NULL", &[&KEPT_SCHEMA])
        .await?
        .get(0);
    if kept_exists {
        return Err(AdoptError::KeptSchemaExists);
    }
    let mut report = Report {
        dry_run: options.dry_run,
        schema: schema.describe(),
        ..Report::default()
    };
    report.kept_tables = convert::set_aside(&tx).await?;
    report.migrations = apply_migrations(&tx).await?;

    let mut misfits = convert::user_misfits(&tx).await?;
    misfits.extend(convert::stage_mappings(&tx, &schema).await?);
    if !misfits.is_empty() && !options.skip_unfit {
        return Err(AdoptError::Misfits(misfits));
    }
    if misfits.iter().any(|m| m.what == "user") {
        // A user cannot be left behind alone: their tokens and log rows point at them.
        return Err(AdoptError::Misfits(
            misfits.into_iter().filter(|m| m.what == "user").collect(),
        ));
    }
    let skipped: Vec<i64> = misfits.iter().map(|m| m.id).collect();
    report.misfits = misfits;

    let (users, uids_replaced) = convert::users(&tx).await?;
    report.users = users;
    report.uids_replaced = uids_replaced;
    let tokens = convert::tokens(&tx, &schema).await?;
    report.tokens_copied = tokens.copied;
    report.tokens_skipped = tokens.skipped;
    report.tokens_renewed = tokens.renewed;
    report.mappings = convert::mappings(&tx, &skipped).await?;
    report.logs = convert::submission_log(&tx, &schema).await?;
    convert::advance_sequences(&tx).await?;
    check_passwords(&tx, &mut report).await?;

    if options.dry_run {
        tx.rollback().await?;
        conn.transaction_ended();
    } else {
        tx.commit().await?;
        conn.transaction_ended();
        if report.default_admin_disabled {
            tracing::warn!(
                "adoption disabled the original's seeded user 'admin': it still had the published \
                 password '@dm1n'. Set a password with `dhis2gw user passwd admin`, then \
                 `dhis2gw user enable admin`"
            );
        }
        tracing::info!(
            users = report.users,
            tokens = report.tokens_copied,
            mappings = report.mappings,
            logs = report.log_rows(),
            "adopted the original dhis2gw database"
        );
    }
    Ok(report)
}

/// Disables the seeded `admin` if it still has the published password, and lists users whose
/// hash dhis2gw cannot verify.
async fn check_passwords(db: &impl GenericClient, report: &mut Report) -> Result<(), AdoptError> {
    for row in db
        .query(
            "SELECT id, username, password, is_active FROM users ORDER BY id",
            &[],
        )
        .await?
    {
        let (id, username, hash, active): (i64, String, String, bool) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if !password::is_bcrypt(&hash) && !hash.starts_with("$argon2") {
            report.unusable_passwords.push(username);
            continue;
        }
        if username == SEEDED_ADMIN.0 && active {
            let published = SEEDED_ADMIN.1.to_owned();
            let verified = tokio::task::spawn_blocking(move || password::verify(&published, &hash))
                .await
                .map(|v| v != password::Verified::No)
                .unwrap_or(false);
            if verified {
                db.execute("UPDATE users SET is_active = false WHERE id = $1", &[&id])
                    .await?;
                report.default_admin_disabled = true;
            }
        }
    }
    let row = db
        .query_one(
            "SELECT count(*) FILTER (WHERE role = 'admin'), \
                    count(*) FILTER (WHERE role = 'admin' AND is_active) FROM users",
            &[],
        )
        .await?;
    report.admins = row.get(0);
    report.active_admins = row.get(1);
    Ok(())
}

/// Runs every embedded dhis2gw migration inside the adoption's transaction and records each
/// in `refinery_schema_history` exactly as refinery's runner does, so later runs see them
/// applied.
async fn apply_migrations(db: &impl GenericClient) -> Result<Vec<String>, AdoptError> {
    db.batch_execute(
        "CREATE TABLE refinery_schema_history ( \
             version INT4 PRIMARY KEY, name VARCHAR(255), \
             applied_on VARCHAR(255), checksum VARCHAR(255))",
    )
    .await?;
    let applied_on = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut migrations = crate::db::migrate::embedded_migrations();
    migrations.sort_by_key(|m| i64::from(m.version()));
    let mut names = Vec::new();
    for migration in migrations {
        let name = migration.to_string();
        let sql = migration.sql().unwrap_or_default();
        db.batch_execute(sql)
            .await
            .map_err(|source| AdoptError::Migration {
                name: name.clone(),
                source,
            })?;
        let version = i32::try_from(i64::from(migration.version())).unwrap_or(i32::MAX);
        db.execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
             VALUES ($1, $2, $3, $4)",
            &[
                &version,
                &migration.name(),
                &applied_on,
                &migration.checksum().to_string(),
            ],
        )
        .await?;
        names.push(name);
    }
    Ok(names)
}
