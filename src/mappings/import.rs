//! Importing a CSV or spreadsheet of mappings: read within the limits, validate every row, plan
//! against the stored mappings, check references against synced DHIS2 metadata, then apply the
//! plan in one transaction, or nothing at all when any row is invalid (or on a dry run).

use std::collections::BTreeSet;

use deadpool_postgres::{GenericClient, Pool};

use crate::db::mappings::{self as db, MappingRow};

use super::import_mode::ImportMode;
use super::plan::{self, Plan};
use super::references;
use super::row_problem::RowProblem;
use super::sheet::{Header, ImportLimits, RawSheet};
use super::validate::{Candidate, validate};
use super::{MappingError, csv_file, excel_read};

/// Which reader an upload goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Excel,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub mode: ImportMode,
    /// Check and count, change nothing.
    pub dry_run: bool,
    /// References DHIS2 does not have are errors, not warnings.
    pub strict: bool,
}

/// What an import did (or, on a dry run or with invalid rows, would have done).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    pub mode: ImportMode,
    pub dry_run: bool,
    /// True when the changes were committed.
    pub applied: bool,
    /// Data rows read (blank rows are not counted).
    pub total: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub deleted: usize,
    /// Rows with at least one error.
    pub invalid: usize,
    /// False when no DHIS2 metadata sync has run yet, so references were not checked.
    pub references_checked: bool,
    pub errors: Vec<RowProblem>,
    pub warnings: Vec<RowProblem>,
}

/// Reads, checks and (unless invalid or a dry run) applies an upload.
#[tracing::instrument(skip(pool, bytes), fields(bytes = bytes.len()))]
pub async fn import(
    pool: &Pool,
    kind: FileKind,
    bytes: Vec<u8>,
    options: ImportOptions,
    limits: ImportLimits,
) -> Result<ImportReport, MappingError> {
    let sheet = tokio::task::spawn_blocking(move || match kind {
        FileKind::Csv => csv_file::read(&bytes, &limits),
        FileKind::Excel => excel_read::read(&bytes, &limits),
    })
    .await??;
    let total = sheet.rows.len();
    // The sheet is dropped here: at the row limit it is tens of megabytes.
    let (candidates, mut errors, mut warnings) = read_rows(sheet)?;

    let mut client = crate::db::TxConn::new(pool.get().await?);
    let tx = client.transaction().await?;
    if !options.dry_run {
        // Two imports at once would plan against the same state; reads are not blocked.
        tx.batch_execute("LOCK TABLE dhis2_mappings IN SHARE ROW EXCLUSIVE MODE")
            .await?;
    }
    let existing = stored_mappings_for(&tx, &candidates).await?;
    let checked = references::check(&tx, &candidates).await?;
    let plan = plan::plan(candidates, &existing, options.mode);
    drop(existing);
    if options.strict {
        if !checked.metadata_synced {
            return Err(MappingError::MetadataNotSynced);
        }
        errors.extend(checked.problems);
    } else {
        warnings.extend(checked.problems);
    }
    let mut report = report(total, options, plan_counts(&plan), errors, warnings, &plan);
    report.references_checked = checked.metadata_synced;
    if report.invalid > 0 {
        return Err(MappingError::InvalidRows(Box::new(report)));
    }
    if options.dry_run {
        return Ok(report);
    }
    apply(&tx, &plan).await?;
    tx.commit().await?;
    client.transaction_ended();
    tracing::info!(
        inserted = report.inserted,
        updated = report.updated,
        deleted = report.deleted,
        "mappings imported"
    );
    Ok(ImportReport {
        applied: true,
        ..report
    })
}

/// Header and rows made into candidates; row problems and unknown headers reported.
type ReadRows = (Vec<(u32, Candidate)>, Vec<RowProblem>, Vec<RowProblem>);

fn read_rows(sheet: RawSheet) -> Result<ReadRows, MappingError> {
    let header = Header::parse(&sheet.header)?;
    if sheet.rows.is_empty() {
        return Err(MappingError::EmptyFile);
    }
    let warnings = header
        .unknown
        .iter()
        .map(|name| RowProblem {
            row: 1,
            column: name.clone(),
            reason: "unknown column, ignored".into(),
        })
        .collect();
    // Sized once: growing a vector of 100 000 candidates by doubling would briefly hold three.
    let mut candidates = Vec::with_capacity(sheet.rows.len());
    let mut errors = Vec::new();
    for row in &sheet.rows {
        let (values, mut problems) = header.values(row);
        match validate(&values) {
            Ok(candidate) if problems.is_empty() => candidates.push((row.number, candidate)),
            Ok(_) => {}
            Err(more) => problems.extend(more),
        }
        errors.extend(problems.into_iter().map(|p| RowProblem {
            row: row.number,
            column: p.column.to_owned(),
            reason: p.reason,
        }));
    }
    Ok((candidates, errors, warnings))
}

/// Every stored mapping of the rows' namespaces, plus those whose uid a row names.
async fn stored_mappings_for(
    db: &impl GenericClient,
    candidates: &[(u32, Candidate)],
) -> Result<Vec<MappingRow>, MappingError> {
    let mut rows = Vec::new();
    for (source, instance) in plan::namespaces(candidates) {
        rows.extend(db::for_namespace(db, &source, &instance).await?);
    }
    let known: BTreeSet<String> = rows.iter().map(|r| r.uid.clone()).collect();
    let wanted: Vec<String> = candidates
        .iter()
        .filter_map(|(_, c)| c.uid.as_ref().map(|u| u.to_string()))
        .filter(|u| !known.contains(u))
        .collect();
    if !wanted.is_empty() {
        rows.extend(db::by_uids(db, &wanted).await?);
    }
    Ok(rows)
}

/// (inserted, updated, unchanged, skipped, deleted)
type Counts = (usize, usize, usize, usize, usize);

fn plan_counts(plan: &Plan) -> Counts {
    (
        plan.inserts.len(),
        plan.updates.len(),
        plan.unchanged,
        plan.skipped,
        plan.deletes.len(),
    )
}

fn report(
    total: usize,
    options: ImportOptions,
    counts: Counts,
    mut errors: Vec<RowProblem>,
    mut warnings: Vec<RowProblem>,
    plan: &Plan,
) -> ImportReport {
    errors.extend(plan.errors.iter().cloned());
    warnings.extend(plan.warnings.iter().cloned());
    errors.sort_by_key(|e| e.row);
    warnings.sort_by_key(|w| w.row);
    let invalid = errors.iter().map(|e| e.row).collect::<BTreeSet<_>>().len();
    let (inserted, updated, unchanged, skipped, deleted) = counts;
    ImportReport {
        mode: options.mode,
        dry_run: options.dry_run,
        applied: false,
        total,
        inserted,
        updated,
        unchanged,
        skipped,
        deleted,
        invalid,
        references_checked: false,
        errors,
        warnings,
    }
}

async fn apply(db: &impl GenericClient, plan: &Plan) -> Result<(), MappingError> {
    let conflict = || {
        "two rows of the file would give the same key to two mappings at once; \
         import the key changes in two steps"
            .to_owned()
    };
    db::delete_ids(db, &plan.deletes).await?;
    db::update_many(db, &plan.updates)
        .await
        .map_err(|e| MappingError::from_write(e, conflict))?;
    db::insert_many(db, &plan.inserts)
        .await
        .map_err(|e| MappingError::from_write(e, conflict))?;
    Ok(())
}
