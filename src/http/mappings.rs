//! Mappings CRUD, CSV/Excel import and export (/api/v2/mappings…).

use poem_openapi::OpenApi;

use crate::http::Tag;
use crate::state::AppState;

pub struct MappingsApi {
    pub state: AppState,
}

#[OpenApi(tag = "Tag::Mappings")]
impl MappingsApi {}
