//! `ImportOptions` of a dataValueSets import: bound from query parameters (payload id schemes
//! win) and echoed back in every ImportSummary.

use serde_json::{Map, Value, json};

use super::catalog::IdScheme;
use super::request::ApiRequest;
use super::version::Dhis2Version;

/// The identifier families an import resolves, with their scheme parameter names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    DataElement,
    OrgUnit,
    CategoryOptionCombo,
    AttributeOptionCombo,
    DataSet,
}

impl IdKind {
    fn param(self) -> &'static str {
        match self {
            Self::DataElement => "dataElementIdScheme",
            Self::OrgUnit => "orgUnitIdScheme",
            Self::CategoryOptionCombo => "categoryOptionComboIdScheme",
            Self::AttributeOptionCombo => "attributeOptionComboIdScheme",
            Self::DataSet => "dataSetIdScheme",
        }
    }
}

/// The boolean flags DHIS2 echoes, in its order, with their defaults. The three strictDataSet*
/// flags only exist from 2.41.
const FLAGS: [(&str, bool); 24] = [
    ("skipExistingCheck", false),
    ("sharing", false),
    ("skipNotifications", false),
    ("skipAudit", false),
    ("datasetAllowsPeriods", false),
    ("strictPeriods", false),
    ("strictDataElements", false),
    ("strictCategoryOptionCombos", false),
    ("strictAttributeOptionCombos", false),
    ("strictOrganisationUnits", false),
    ("strictDataSetApproval", false),
    ("strictDataSetLocking", false),
    ("strictDataSetInputPeriods", false),
    ("requireCategoryOptionCombo", false),
    ("requireAttributeOptionCombo", false),
    ("skipPatternValidation", false),
    ("ignoreEmptyCollection", false),
    ("force", false),
    ("firstRowIsHeader", true),
    ("skipLastUpdated", false),
    ("mergeDataValues", false),
    ("skipCache", false),
    ("preheatCache", false),
    ("async", false),
];

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub dry_run: bool,
    pub is_async: bool,
    /// CREATE | UPDATE | CREATE_AND_UPDATE | DELETE.
    pub strategy: String,
    query_schemes: Vec<(&'static str, IdScheme)>,
    payload_schemes: Vec<(&'static str, IdScheme)>,
    flags: Vec<(&'static str, bool)>,
}

impl ImportOptions {
    pub fn from_request(req: &ApiRequest) -> Self {
        let strategy = req
            .param("importStrategy")
            .or_else(|| req.param("strategy"))
            .map(normalise_strategy)
            .unwrap_or_else(|| "CREATE_AND_UPDATE".to_owned());
        let flags = FLAGS
            .iter()
            .map(|&(name, default)| (name, req.flag(name).unwrap_or(default)))
            .collect();
        Self {
            dry_run: req.flag("dryRun").unwrap_or(false),
            is_async: req.flag("async").unwrap_or(false),
            strategy,
            query_schemes: schemes(|name| req.param(name).map(str::to_owned)),
            payload_schemes: Vec::new(),
            flags,
        }
    }

    /// Applies what the payload itself says (`dataElementIdScheme`, `dryRun`, `strategy`...).
    pub fn apply_payload(&mut self, payload: &Value) {
        self.payload_schemes = schemes(|name| payload.get(name)?.as_str().map(str::to_owned));
        if let Some(dry_run) = payload.get("dryRun").and_then(Value::as_bool) {
            self.dry_run = dry_run;
        }
        if let Some(strategy) = payload.get("strategy").and_then(Value::as_str) {
            self.strategy = normalise_strategy(strategy);
        }
    }

    /// Payload over query; the specific scheme over the general `idScheme`; UID by default.
    pub fn scheme(&self, kind: IdKind) -> IdScheme {
        [&self.payload_schemes, &self.query_schemes]
            .iter()
            .find_map(|schemes| {
                let specific = schemes.iter().find(|(name, _)| *name == kind.param());
                let general = schemes.iter().find(|(name, _)| *name == "idScheme");
                specific.or(general).map(|(_, scheme)| *scheme)
            })
            .unwrap_or(IdScheme::Uid)
    }

    pub fn is_delete(&self) -> bool {
        self.strategy == "DELETE"
    }

    pub fn to_json(&self, version: &Dhis2Version) -> Value {
        let mut id_schemes = Map::new();
        for (name, scheme) in &self.query_schemes {
            id_schemes.insert((*name).to_owned(), json!({ "type": scheme.as_str() }));
        }
        let mut out = Map::new();
        out.insert("idSchemes".into(), Value::Object(id_schemes));
        out.insert("dryRun".into(), json!(self.dry_run));
        out.insert("async".into(), json!(self.is_async));
        out.insert("importStrategy".into(), json!(self.strategy));
        out.insert("mergeMode".into(), json!("REPLACE"));
        out.insert("reportMode".into(), json!("FULL"));
        for (name, value) in &self.flags {
            let strict_data_set = name.starts_with("strictDataSet");
            let listed_elsewhere = matches!(*name, "async" | "preheatCache");
            if listed_elsewhere || (strict_data_set && !version.has_strict_data_set_options()) {
                continue;
            }
            out.insert((*name).to_owned(), json!(value));
        }
        Value::Object(out)
    }
}

fn schemes(lookup: impl Fn(&str) -> Option<String>) -> Vec<(&'static str, IdScheme)> {
    let kinds = [
        IdKind::DataElement,
        IdKind::OrgUnit,
        IdKind::CategoryOptionCombo,
        IdKind::AttributeOptionCombo,
        IdKind::DataSet,
    ];
    std::iter::once("idScheme")
        .chain(kinds.iter().map(|k| k.param()))
        .filter_map(|name| Some((name, IdScheme::parse(&lookup(name)?)?)))
        .collect()
}

/// Legacy strategy names are still bound by `ImportStrategy`.
fn normalise_strategy(raw: &str) -> String {
    match raw.to_ascii_uppercase().as_str() {
        "NEW" => "CREATE".to_owned(),
        "UPDATES" => "UPDATE".to_owned(),
        "NEW_AND_UPDATES" | "CREATE_AND_UPDATE" => "CREATE_AND_UPDATE".to_owned(),
        other => other.to_owned(),
    }
}
