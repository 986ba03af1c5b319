//! How an import treats mappings that are already stored.

/// What happens to a row whose mapping is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// Left as stored (counted `skipped` when the row differs).
    Skip,
    /// Updated to the row (the default).
    #[default]
    Upsert,
    /// Updated, and the file's namespaces lose every stored mapping the file does not have.
    Replace,
}
