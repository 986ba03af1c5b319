//! Mappings CRUD, CSV/Excel import and export (/api/v2/mappings…): the original's routes, with
//! its list filters working, pagination, single and bulk CRUD, and imports that report per row.

mod params;
mod views;

pub use views::invalid;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, OpenApi};

use crate::db::mappings::MappingFilter;
use crate::http::auth::ApiAuth;
use crate::http::params::{self as query_types, DateOrTime, MappingWhat};
use crate::http::{ApiError, Tag};
use crate::mappings::{
    FileKind, ImportLimits, ImportOptions, MappingError, export, import, service,
};
use crate::state::AppState;

use params::{ListQuery, pagination};
pub use views::{
    Deleted, ImportRejected, ImportReportView, MappingBody, MappingPage, MappingView, Mode,
    RowProblemView,
};

pub struct MappingsApi {
    pub state: AppState,
}

/// A mappings file upload.
#[derive(Debug, Multipart)]
#[oai(deny_unknown_fields)]
pub struct ImportUpload {
    /// The CSV (`import/csv`) or .xlsx/.xls/.ods spreadsheet (`import/excel`).
    pub file: Upload,
}

#[derive(ApiResponse)]
pub enum CreatedResponse {
    #[oai(status = 201)]
    Created(Json<MappingView>),
}

#[derive(ApiResponse)]
pub enum ImportResponse {
    /// Imported (or checked, with `dry_run`): the counts, warnings included.
    #[oai(status = 200)]
    Done(Json<ImportReportView>),
    /// Some rows are invalid; nothing was changed. The report lists each row, column and reason.
    #[oai(status = 422)]
    InvalidRows(Json<ImportRejected>),
}

#[derive(ApiResponse)]
pub enum CsvFile {
    /// UTF-8 CSV with a BOM, every column the importer reads.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

#[derive(ApiResponse)]
pub enum XlsxFile {
    /// An .xlsx workbook whose `Mappings` sheet the importer reads back unchanged.
    #[oai(
        status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

fn attachment(name: &str) -> String {
    format!("attachment; filename=\"{name}\"")
}

impl MappingsApi {
    fn limits(&self) -> ImportLimits {
        ImportLimits::from_settings(&self.state.settings())
    }

    async fn import(
        &self,
        kind: FileKind,
        upload: ImportUpload,
        mode: Option<Mode>,
        dry_run: Option<bool>,
        strict: Option<bool>,
    ) -> Result<ImportResponse, ApiError> {
        let bytes = upload.file.into_vec().await.map_err(|e| {
            ApiError::bad_request(format!("the upload cannot be read: {e}"), vec![])
        })?;
        let options = ImportOptions {
            mode: mode.map(Into::into).unwrap_or_default(),
            dry_run: dry_run.unwrap_or(false),
            strict: strict.unwrap_or(false),
        };
        match import::import(self.state.db(), kind, bytes, options, self.limits()).await {
            Ok(report) => {
                self.state.submissions().mappings_changed();
                Ok(ImportResponse::Done(Json(report.into())))
            }
            Err(MappingError::InvalidRows(report)) => {
                Ok(ImportResponse::InvalidRows(Json((*report).into())))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Only the namespace and kind filter exports.
    async fn export_rows(
        &self,
        source: Option<String>,
        instance_name: Option<String>,
        what: Option<String>,
    ) -> Result<Vec<crate::db::mappings::MappingRow>, ApiError> {
        let filter = ListQuery {
            source,
            instance_name,
            what,
            ..ListQuery::default()
        }
        .into_filter()?;
        Ok(service::matching(self.state.db(), &filter).await?)
    }
}

#[OpenApi(tag = "Tag::Mappings")]
impl MappingsApi {
    /// List mappings, filtered and paginated (ordered by source, instance, kind, code). `name`
    /// matches a case-insensitive substring, the other filters exactly; `created_*`/`updated_*`
    /// take a date or an RFC 3339 time (`created`/`updated`: the original's "since").
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/api/v2/mappings", method = "get")]
    async fn list_mappings(
        &self,
        _auth: ApiAuth,
        uid: Query<Option<String>>,
        code: Query<Option<String>>,
        what: Query<Option<MappingWhat>>,
        name: Query<Option<String>>,
        #[oai(name = "dataSet")] data_set: Query<Option<String>>,
        #[oai(name = "dataElement")] data_element: Query<Option<String>>,
        #[oai(name = "categoryOptionCombo")] category_option_combo: Query<Option<String>>,
        #[oai(name = "categoryOption")] category_option: Query<Option<String>>,
        #[oai(name = "categoryCombo")] category_combo: Query<Option<String>>,
        source: Query<Option<String>>,
        instance_name: Query<Option<String>>,
        source_orgunit: Query<Option<String>>,
        destination_orgunit: Query<Option<String>>,
        created: Query<Option<DateOrTime>>,
        created_from: Query<Option<DateOrTime>>,
        created_to: Query<Option<DateOrTime>>,
        updated: Query<Option<DateOrTime>>,
        updated_from: Query<Option<DateOrTime>>,
        updated_to: Query<Option<DateOrTime>>,
        /// 1-based; default 1.
        #[oai(validator(minimum(value = "1")))]
        page: Query<Option<i64>>,
        /// 1 to 1000.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
        page_size: Query<Option<i64>>,
    ) -> Result<Json<MappingPage>, ApiError> {
        let (page, page_size) = pagination(
            page.0,
            page_size.0,
            service::DEFAULT_PAGE_SIZE,
            service::MAX_PAGE_SIZE,
        )?;
        let filter: MappingFilter = ListQuery {
            uid: uid.0,
            code: code.0,
            what: what.0.map(|w| w.0),
            name: name.0,
            data_set: data_set.0,
            data_element: data_element.0,
            category_option_combo: category_option_combo.0,
            category_option: category_option.0,
            category_combo: category_combo.0,
            source: source.0,
            instance_name: instance_name.0,
            source_orgunit: source_orgunit.0,
            destination_orgunit: destination_orgunit.0,
            times: vec![
                ("created", query_types::text(created.0), false),
                ("created_from", query_types::text(created_from.0), false),
                ("created_to", query_types::text(created_to.0), true),
                ("updated", query_types::text(updated.0), false),
                ("updated_from", query_types::text(updated_from.0), false),
                ("updated_to", query_types::text(updated_to.0), true),
            ],
        }
        .into_filter()?;
        let found = service::list(self.state.db(), &filter, page, page_size).await?;
        Ok(Json(MappingPage {
            items: found.items.into_iter().map(Into::into).collect(),
            total: found.total,
            page: found.page,
            total_pages: found.total_pages,
            page_size: found.page_size,
        }))
    }

    /// Create a mapping (admin). 409 when its key (or uid) is already mapped.
    #[oai(path = "/api/v2/mappings", method = "post")]
    async fn create_mapping(
        &self,
        _auth: ApiAuth,
        body: Json<MappingBody>,
    ) -> Result<CreatedResponse, ApiError> {
        let row = service::create(self.state.db(), &body.0.values()).await?;
        self.state.submissions().mappings_changed();
        Ok(CreatedResponse::Created(Json(row.into())))
    }

    /// Delete the mappings of a source and/or instance (admin); `all=true` without either
    /// deletes every mapping.
    #[oai(path = "/api/v2/mappings", method = "delete")]
    async fn delete_mappings(
        &self,
        _auth: ApiAuth,
        source: Query<Option<String>>,
        instance: Query<Option<String>>,
        all: Query<Option<bool>>,
    ) -> Result<Json<Deleted>, ApiError> {
        let blank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let (source, instance) = (blank(source.0), blank(instance.0));
        let deleted = service::delete_namespace(
            self.state.db(),
            source.as_deref(),
            instance.as_deref(),
            all.0.unwrap_or(false),
        )
        .await?;
        self.state.submissions().mappings_changed();
        Ok(Json(Deleted { deleted }))
    }

    /// One mapping by uid.
    #[oai(path = "/api/v2/mappings/:uid", method = "get")]
    async fn get_mapping(
        &self,
        _auth: ApiAuth,
        uid: Path<String>,
    ) -> Result<Json<MappingView>, ApiError> {
        Ok(Json(service::get(self.state.db(), &uid.0).await?.into()))
    }

    /// Replace a mapping (admin): every field from the body; absent ones become empty/defaults.
    #[oai(path = "/api/v2/mappings/:uid", method = "put")]
    async fn replace_mapping(
        &self,
        _auth: ApiAuth,
        uid: Path<String>,
        body: Json<MappingBody>,
    ) -> Result<Json<MappingView>, ApiError> {
        let row = service::replace(self.state.db(), &uid.0, &body.0.values()).await?;
        self.state.submissions().mappings_changed();
        Ok(Json(row.into()))
    }

    /// Delete a mapping (admin).
    #[oai(path = "/api/v2/mappings/:uid", method = "delete")]
    async fn delete_mapping(
        &self,
        _auth: ApiAuth,
        uid: Path<String>,
    ) -> Result<Json<Deleted>, ApiError> {
        service::delete(self.state.db(), &uid.0).await?;
        self.state.submissions().mappings_changed();
        Ok(Json(Deleted { deleted: 1 }))
    }

    /// Import mappings from CSV (admin): multipart field `file`; see docs/mappings.md. An
    /// invalid file changes nothing (422 with each row's problems); a valid one is applied in
    /// one transaction.
    #[oai(path = "/api/v2/mappings/import/csv", method = "post")]
    async fn import_csv(
        &self,
        _auth: ApiAuth,
        upload: ImportUpload,
        mode: Query<Option<Mode>>,
        dry_run: Query<Option<bool>>,
        strict: Query<Option<bool>>,
    ) -> Result<ImportResponse, ApiError> {
        self.import(FileKind::Csv, upload, mode.0, dry_run.0, strict.0)
            .await
    }

    /// Import mappings from .xlsx, .xls or .ods (admin): the sheet `Mappings`, else the first
    /// sheet with a value. Same modes and answers as `import/csv`.
    #[oai(path = "/api/v2/mappings/import/excel", method = "post")]
    async fn import_excel(
        &self,
        _auth: ApiAuth,
        upload: ImportUpload,
        mode: Query<Option<Mode>>,
        dry_run: Query<Option<bool>>,
        strict: Query<Option<bool>>,
    ) -> Result<ImportResponse, ApiError> {
        self.import(FileKind::Excel, upload, mode.0, dry_run.0, strict.0)
            .await
    }

    /// Every mapping (or one namespace/kind) as `dhis2_mappings.xlsx`; importing it back
    /// changes nothing.
    #[oai(path = "/api/v2/mappings/export/excel", method = "get")]
    async fn export_excel(
        &self,
        _auth: ApiAuth,
        source: Query<Option<String>>,
        instance_name: Query<Option<String>>,
        what: Query<Option<MappingWhat>>,
    ) -> Result<XlsxFile, ApiError> {
        let rows = self
            .export_rows(source.0, instance_name.0, what.0.map(|w| w.0))
            .await?;
        let bytes = tokio::task::spawn_blocking(move || export::to_xlsx(&rows))
            .await
            .map_err(MappingError::from)??;
        Ok(XlsxFile::Ok(
            Binary(bytes),
            attachment("dhis2_mappings.xlsx"),
        ))
    }

    /// Every mapping (or one namespace/kind) as `dhis2_mappings.csv`.
    #[oai(path = "/api/v2/mappings/export/csv", method = "get")]
    async fn export_csv(
        &self,
        _auth: ApiAuth,
        source: Query<Option<String>>,
        instance_name: Query<Option<String>>,
        what: Query<Option<MappingWhat>>,
    ) -> Result<CsvFile, ApiError> {
        let rows = self
            .export_rows(source.0, instance_name.0, what.0.map(|w| w.0))
            .await?;
        let bytes = export::to_csv(&rows)?;
        Ok(CsvFile::Ok(Binary(bytes), attachment("dhis2_mappings.csv")))
    }

    /// `dhis2_mappings_template.xlsx`: the headers, an example of each kind, and a help sheet.
    #[oai(path = "/api/v2/mappings/export/excel-template", method = "get")]
    async fn export_template(&self, _auth: ApiAuth) -> Result<XlsxFile, ApiError> {
        let bytes = export::template_xlsx()?;
        Ok(XlsxFile::Ok(
            Binary(bytes),
            attachment("dhis2_mappings_template.xlsx"),
        ))
    }
}
