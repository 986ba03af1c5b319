//! `POST /api/v2/dataValueSets`: a DHIS2 dataValueSet passed through as it is (the shape of
//! DHIS2's own `POST /api/dataValueSets`, no mappings), validated, logged and queued by the same
//! service as `POST /api/v2/aggregate` (`submissions::data_value_set`); same answer.

use poem::Request;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::Value;

use crate::http::aggregate::{AcceptedBody, JsonBody, SubmitResponse};
use crate::http::auth::{ApiAuth, client_ip};
use crate::http::{ApiError, Tag};
use crate::state::AppState;
use crate::submissions::Submitter;

pub struct DataValueSetsApi {
    pub state: AppState,
}

/// One value of a DHIS2 dataValueSet; `period`, `orgUnit` and `attributeOptionCombo` complete
/// or override the set's.
#[derive(Debug, Object)]
#[oai(rename = "DataValue")]
pub struct DataValueDoc {
    /// Data element UID (or code etc. under the set's `dataElementIdScheme`/`idScheme`).
    #[oai(rename = "dataElement")]
    pub data_element: String,
    pub period: Option<String>,
    #[oai(rename = "orgUnit")]
    pub org_unit: Option<String>,
    #[oai(rename = "categoryOptionCombo")]
    pub category_option_combo: Option<String>,
    #[oai(rename = "attributeOptionCombo")]
    pub attribute_option_combo: Option<String>,
    /// A string, number or boolean; may be absent with `deleted: true`.
    pub value: Option<Value>,
    pub comment: Option<String>,
    pub followup: Option<bool>,
    pub deleted: Option<bool>,
}

/// A DHIS2 dataValueSet, as DHIS2's `POST /api/dataValueSets` takes it. Other DHIS2 fields
/// (`idScheme`, `dataElementIdScheme`, `orgUnitIdScheme`, `dryRun`, `strategy`, …) are passed on.
#[derive(Debug, Object)]
#[oai(rename = "DataValueSet")]
pub struct DataValueSetDoc {
    /// Data set UID.
    #[oai(rename = "dataSet")]
    pub data_set: Option<String>,
    /// `YYYY-MM-DD`, or `true`/`false`.
    #[oai(rename = "completeDate")]
    pub complete_date: Option<String>,
    /// A DHIS2 period, for the values that name none.
    pub period: Option<String>,
    /// Org unit UID, for the values that name none.
    #[oai(rename = "orgUnit")]
    pub org_unit: Option<String>,
    #[oai(rename = "attributeOptionCombo")]
    pub attribute_option_combo: Option<String>,
    #[oai(rename = "dataValues")]
    pub data_values: Vec<DataValueDoc>,
    #[oai(rename = "idScheme")]
    pub id_scheme: Option<String>,
    #[oai(rename = "dataElementIdScheme")]
    pub data_element_id_scheme: Option<String>,
    #[oai(rename = "orgUnitIdScheme")]
    pub org_unit_id_scheme: Option<String>,
    #[oai(rename = "dryRun")]
    pub dry_run: Option<bool>,
    pub strategy: Option<String>,
}

#[OpenApi(tag = "Tag::Submissions")]
impl DataValueSetsApi {
    /// Submit a DHIS2 dataValueSet as it is (no mappings): checked field by field (400 names
    /// each bad field), logged (committed before the answer) and queued for DHIS2
    /// `POST /api/dataValueSets`, exactly like `POST /api/v2/aggregate`.
    #[oai(path = "/api/v2/dataValueSets", method = "post")]
    async fn submit_data_value_set(
        &self,
        auth: ApiAuth,
        request: &Request,
        #[oai(name = "Idempotency-Key")] idempotency_key: Header<Option<String>>,
        body: JsonBody<DataValueSetDoc>,
    ) -> Result<SubmitResponse, ApiError> {
        let who = Submitter {
            user_id: Some(auth.0.user_id),
            ip: client_ip(request),
            idempotency_key: idempotency_key.0,
        };
        let accepted = self
            .state
            .submissions()
            .accept_data_value_set(&who, &body.value)
            .await?;
        let message = if accepted.replayed {
            "dataValueSet already received with this Idempotency-Key; this is the first submission"
        } else {
            "dataValueSet queued for processing"
        };
        Ok(SubmitResponse::Accepted(
            Json(AcceptedBody {
                message: message.to_owned(),
                payload: accepted.payload,
                submission_id: accepted.submission_id,
                task_id: accepted.task_id.to_string(),
                unmapped: accepted.unmapped,
                status: accepted.status.as_str().to_owned(),
                status_url: format!("/api/v2/logs/{}", accepted.submission_id),
            }),
            accepted.replayed.then(|| "true".to_owned()),
        ))
    }
}
