//! `POST /api/v2/dataValueSets`: a DHIS2 dataValueSet passed through as it is (the shape of
//! DHIS2's own `POST /api/dataValueSets`, no mappings), validated, logged and queued by the same
//! service as `POST /api/v2/aggregate` (`submissions::data_value_set`); same answer.

use poem::Request;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::http::aggregate::{AcceptedBody, JsonBody, ScalarDoc, SubmitResponse};
use crate::http::auth::{ApiAuth, client_ip};
use crate::http::{ApiError, Tag};
use crate::state::AppState;
use crate::submissions::Submitter;

pub struct DataValueSetsApi {
    pub state: AppState,
}

/// One value of a DHIS2 dataValueSet; `period`, `orgUnit` and `attributeOptionCombo` complete
/// or override the set's (a value without them in a set without them is a 422).
#[derive(Debug, Object)]
#[oai(rename = "DataValue")]
pub struct DataValueDoc {
    /// Data element UID (or code etc. under the set's `dataElementIdScheme`/`idScheme`).
    #[oai(rename = "dataElement", validator(min_length = 1, max_length = 50000))]
    pub data_element: String,
    #[oai(
        nullable,
        validator(
            pattern = r"^[0-9]{4}([0-9]{2}|[0-9]{4}|-[0-9]{2}|-[0-9]{2}-[0-9]{2}|[0-9]{2}B|(W|WedW|ThuW|SatW|SunW|BiW)[0-9]{1,2}|(Q|NovQ|S|AprilS|NovS)[0-9]|April|July|Sep|Oct|Nov)?$"
        )
    )]
    pub period: Option<String>,
    #[oai(
        rename = "orgUnit",
        nullable,
        validator(min_length = 1, max_length = 50000)
    )]
    pub org_unit: Option<String>,
    #[oai(
        rename = "categoryOptionCombo",
        nullable,
        validator(min_length = 1, max_length = 50000)
    )]
    pub category_option_combo: Option<String>,
    #[oai(
        rename = "attributeOptionCombo",
        nullable,
        validator(min_length = 1, max_length = 50000)
    )]
    pub attribute_option_combo: Option<String>,
    /// A number, a non-empty string or a boolean; may be absent or null with `deleted: true`
    /// (otherwise a 422).
    #[oai(nullable)]
    pub value: Option<ScalarDoc>,
    #[oai(nullable, validator(min_length = 1, max_length = 50000))]
    pub comment: Option<String>,
    #[oai(nullable)]
    pub followup: Option<bool>,
    #[oai(nullable)]
    pub deleted: Option<bool>,
}

/// A DHIS2 dataValueSet, as DHIS2's `POST /api/dataValueSets` takes it. Other DHIS2 fields are
/// passed on. What this schema states is a 400 when broken; identifiers are UIDs unless
/// `idScheme`, `dataElementIdScheme` or `orgUnitIdScheme` names another scheme, so a bad UID
/// is a 422, like a period or date the calendar lacks or a blank text.
#[derive(Debug, Object)]
#[oai(rename = "DataValueSet")]
pub struct DataValueSetDoc {
    /// Data set UID.
    #[oai(
        rename = "dataSet",
        nullable,
        validator(min_length = 1, max_length = 50000)
    )]
    pub data_set: Option<String>,
    /// `YYYY-MM-DD`, or `true`/`false`.
    #[oai(
        rename = "completeDate",
        nullable,
        validator(pattern = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|true|false)$")
    )]
    pub complete_date: Option<String>,
    /// A DHIS2 period, for the values that name none.
    #[oai(
        nullable,
        validator(
            pattern = r"^[0-9]{4}([0-9]{2}|[0-9]{4}|-[0-9]{2}|-[0-9]{2}-[0-9]{2}|[0-9]{2}B|(W|WedW|ThuW|SatW|SunW|BiW)[0-9]{1,2}|(Q|NovQ|S|AprilS|NovS)[0-9]|April|July|Sep|Oct|Nov)?$"
        )
    )]
    pub period: Option<String>,
    /// Org unit UID, for the values that name none.
    #[oai(
        rename = "orgUnit",
        nullable,
        validator(min_length = 1, max_length = 50000)
    )]
    pub org_unit: Option<String>,
    #[oai(
        rename = "attributeOptionCombo",
        nullable,
        validator(min_length = 1, max_length = 50000)
    )]
    pub attribute_option_combo: Option<String>,
    #[oai(rename = "dataValues", validator(min_items = 1, max_items = 100000))]
    pub data_values: Vec<DataValueDoc>,
    #[oai(rename = "idScheme", nullable)]
    pub id_scheme: Option<String>,
    #[oai(rename = "dataElementIdScheme", nullable)]
    pub data_element_id_scheme: Option<String>,
    #[oai(rename = "orgUnitIdScheme", nullable)]
    pub org_unit_id_scheme: Option<String>,
    #[oai(rename = "dryRun", nullable)]
    pub dry_run: Option<bool>,
    #[oai(nullable)]
    pub strategy: Option<String>,
}

#[OpenApi(tag = "Tag::Submissions")]
impl DataValueSetsApi {
    /// Submit a DHIS2 dataValueSet as it is (no mappings): checked field by field (a 400 or 422
    /// names each bad field), logged (committed before the answer) and queued for DHIS2
    /// `POST /api/dataValueSets`, exactly like `POST /api/v2/aggregate`.
    #[oai(path = "/api/v2/dataValueSets", method = "post")]
    async fn submit_data_value_set(
        &self,
        auth: ApiAuth,
        request: &Request,
        /// 1 to 255 printable ASCII characters.
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = r"^[ -~]+$")
        )]
        idempotency_key: Header<Option<String>>,
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
