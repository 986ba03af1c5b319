//! What an adoption did (or, on a dry run, would do), printed for the operator.

use std::fmt;

/// A row of the original that cannot become a dhis2gw row as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    /// `user` or `mapping`.
    pub what: &'static str,
    /// The row's id in the original table.
    pub id: i64,
    pub reason: String,
}

impl Misfit {
    pub fn new(what: &'static str, id: i64, reason: String) -> Misfit {
        Misfit { what, id, reason }
    }
}

/// How many log rows of one original status became which dhis2gw status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    pub original: String,
    pub adopted: String,
    pub count: i64,
}

/// Everything the operator should know about one adoption.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub dry_run: bool,
    /// The original's schema as detected.
    pub schema: String,
    /// Tables moved into the kept schema.
    pub kept_tables: Vec<String>,
    /// dhis2gw migrations applied.
    pub migrations: Vec<String>,
    pub users: u64,
    pub admins: i64,
    /// Users whose original uid was empty, malformed or shared, given a new one.
    pub uids_replaced: u64,
    /// Users whose password hash dhis2gw cannot verify (not bcrypt): they need a new password.
    pub unusable_passwords: Vec<String>,
    /// The seeded `admin` still had the published password `@dm1n` and was disabled.
    pub default_admin_disabled: bool,
    /// Active admins left after the adoption.
    pub active_admins: i64,
    pub tokens_copied: u64,
    pub tokens_skipped: u64,
    pub tokens_renewed: u64,
    pub mappings: u64,
    /// Rows that do not fit; listed on refusal, left behind with `--skip-unfit`.
    pub misfits: Vec<Misfit>,
    pub logs: Vec<StatusCount>,
}

impl Report {
    /// Submission log rows copied.
    pub fn log_rows(&self) -> i64 {
        self.logs.iter().map(|s| s.count).sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = super::KEPT_SCHEMA;
        if self.dry_run {
            writeln!(f, "Dry run: nothing was changed. Adopting would:")?;
        } else {
            writeln!(f, "Adopted the original dhis2gw database:")?;
        }
        writeln!(f, "  original schema: {}", self.schema)?;
        writeln!(
            f,
            "  move its {} tables into the schema {kept} (kept as they are): {}",
            self.kept_tables.len(),
            self.kept_tables.join(", ")
        )?;
        writeln!(f, "  apply {} dhis2gw migrations", self.migrations.len())?;
        writeln!(
            f,
            "  users: {} ({} admins; bcrypt password hashes kept, upgraded at each user's next login)",
            self.users, self.admins
        )?;
        if self.uids_replaced > 0 {
            writeln!(
                f,
                "    {} users had an empty, malformed or shared uid and get a new one",
                self.uids_replaced
            )?;
        }
        if self.default_admin_disabled {
            writeln!(
                f,
                "    WARNING: 'admin' still had the published password '@dm1n': it is disabled \
                 (set a password with `dhis2gw user passwd admin`, then `dhis2gw user enable admin`)"
            )?;
        }
        for name in &self.unusable_passwords {
            writeln!(
                f,
                "    WARNING: user {name:?} has a password hash dhis2gw cannot check: \
                 set one with `dhis2gw user passwd {name}`"
            )?;
        }
        if self.active_admins == 0 {
            writeln!(
                f,
                "    WARNING: no active admin is left; create one with `dhis2gw user add NAME --role admin`"
            )?;
        }
        writeln!(
            f,
            "  API tokens: {} kept valid (stored as SHA-256 digests of the same tokens)",
            self.tokens_copied
        )?;
        if self.tokens_skipped > 0 {
            writeln!(
                f,
                "    {} rows left behind: empty tokens or repeats of a token another row carries",
                self.tokens_skipped
            )?;
        }
        if self.tokens_renewed > 0 {
            writeln!(
                f,
                "    {} active tokens had expired (the original never checked) and now expire in 365 days",
                self.tokens_renewed
            )?;
        }
        writeln!(f, "  mappings: {}", self.mappings)?;
        for misfit in &self.misfits {
            writeln!(
                f,
                "    left in {kept}: {} {}: {}",
                misfit.what, misfit.id, misfit.reason
            )?;
        }
        writeln!(
            f,
            "  submission log: {} rows, history kept; nothing is sent again unless requeued",
            self.log_rows()
        )?;
        for status in &self.logs {
            writeln!(
                f,
                "    {} × {} → {}",
                status.count, status.original, status.adopted
            )?;
        }
        Ok(())
    }
}

/// The refusal for rows that do not fit: one line per row.
pub fn misfit_list(misfits: &[Misfit]) -> String {
    misfits
        .iter()
        .map(|m| format!("  {} {}: {}", m.what, m.id, m.reason))
        .collect::<Vec<_>>()
        .join("\n")
}
