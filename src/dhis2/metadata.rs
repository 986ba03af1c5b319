//! Metadata reads for the sync: one page of a collection (`/api/organisationUnits`, …) with the
//! fields the gateway keeps, optionally only objects updated since a time (`filter=lastUpdated:ge:`),
//! typed. DHIS2's list envelope: `{"pager":{"page","pageCount",…},"<collection>":[…]}`.

use chrono::NaiveDateTime;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::client::Dhis2Client;
use super::error::Dhis2Error;

/// `{"id": …}`, how DHIS2 writes a reference.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Ref {
    pub id: String,
}

/// The properties every synced object has.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identifiable {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// `2024-03-11T10:00:34.567`: server time without zone (some versions add one).
    #[serde(default)]
    pub last_updated: Option<String>,
}

impl Identifiable {
    pub fn name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.display_name.clone())
            .unwrap_or_default()
    }

    pub fn last_updated(&self) -> Option<NaiveDateTime> {
        self.last_updated.as_deref().and_then(parse_timestamp)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgUnit {
    #[serde(flatten)]
    pub common: Identifiable,
    #[serde(default)]
    pub level: Option<i32>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub parent: Option<Ref>,
}

/// A category combo, a category option combo (`category_combo` set), a data element
/// (`category_combo`, `value_type`) or a user group: the same few fields.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Object {
    #[serde(flatten)]
    pub common: Identifiable,
    #[serde(default)]
    pub category_combo: Option<Ref>,
    #[serde(default)]
    pub value_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSetElement {
    pub data_element: Ref,
    /// The data set's override of the element's combo; usually absent.
    #[serde(default)]
    pub category_combo: Option<Ref>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSet {
    #[serde(flatten)]
    pub common: Identifiable,
    #[serde(default)]
    pub period_type: Option<String>,
    #[serde(default)]
    pub category_combo: Option<Ref>,
    #[serde(default)]
    pub data_set_elements: Vec<DataSetElement>,
}

const IDENTIFIABLE_FIELDS: &str = "id,code,name,displayName,lastUpdated";

/// The `fields` asked for, per collection.
pub fn fields_for(collection: &str) -> String {
    let extra = match collection {
        "organisationUnits" => ",level,path,parent[id]",
        "categoryOptionCombos" => ",categoryCombo[id]",
        "dataElements" => ",valueType,categoryCombo[id]",
        "dataSets" => {
            ",periodType,categoryCombo[id],dataSetElements[dataElement[id],categoryCombo[id]]"
        }
        _ => "",
    };
    format!("{IDENTIFIABLE_FIELDS}{extra}")
}

/// One page of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub objects: Vec<T>,
    /// From the pager; 1 when DHIS2 sent none.
    pub page_count: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pager {
    #[serde(default)]
    page_count: Option<u32>,
}

/// `GET /api/<collection>?fields=…&paging=true&page=N&pageSize=M&order=id:asc`, plus
/// `filter=lastUpdated:ge:<since>` when given.
#[tracing::instrument(skip(client))]
pub async fn fetch_page<T: DeserializeOwned>(
    client: &Dhis2Client,
    collection: &str,
    since: Option<NaiveDateTime>,
    page: u32,
    page_size: u32,
) -> Result<Page<T>, Dhis2Error> {
    // Built in a block of its own: the serializer is not Send, and the future must be.
    let path = {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("fields", &fields_for(collection))
            .append_pair("paging", "true")
            .append_pair("page", &page.to_string())
            .append_pair("pageSize", &page_size.to_string())
            .append_pair("order", "id:asc");
        if let Some(since) = since {
            let since = since.format("%Y-%m-%dT%H:%M:%S%.3f");
            query.append_pair("filter", &format!("lastUpdated:ge:{since}"));
        }
        format!("{collection}?{}", query.finish())
    };
    let mut body = client.get_json(&path).await?;
    let unreadable = |reason: String| Dhis2Error::Unparsable {
        status: 200,
        body: String::new(),
        reason,
    };
    let page_count = body
        .get("pager")
        .cloned()
        .map(serde_json::from_value::<Pager>)
        .transpose()
        .map_err(|e| unreadable(format!("pager of {collection}: {e}")))?
        .and_then(|p| p.page_count)
        .unwrap_or(1);
    let list = body
        .get_mut(collection)
        .map(serde_json::Value::take)
        .ok_or_else(|| unreadable(format!("the answer has no {collection:?} list")))?;
    let objects =
        serde_json::from_value(list).map_err(|e| unreadable(format!("{collection}: {e}")))?;
    Ok(Page {
        objects,
        page_count,
    })
}

/// DHIS2's `lastUpdated`: `2024-03-11T10:00:34.567` (no zone), or with `Z`/an offset.
pub fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.naive_utc())
        })
        .or_else(|| {
            chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
                .ok()
                .map(|t| t.naive_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_timestamp_shape_dhis2_sends() {
        for text in [
            "2024-03-11T10:00:34.567",
            "2024-03-11T10:00:34",
            "2024-03-11T10:00:34.567Z",
            "2024-03-11T10:00:34.567+0000",
        ] {
            assert!(parse_timestamp(text).is_some(), "{text}");
        }
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn reads_a_data_set_with_its_elements() {
        let json = serde_json::json!({
            "id": "S6zKJrYKAzR", "name": "Malaria", "periodType": "Monthly",
            "lastUpdated": "2024-01-01T00:00:00.000",
            "dataSetElements": [{"dataElement": {"id": "rPRf4cXHEIx"}}]
        });
        let set: DataSet = serde_json::from_value(json).unwrap();
        assert_eq!(set.data_set_elements[0].data_element.id, "rPRf4cXHEIx");
        assert_eq!(set.common.name(), "Malaria");
        assert!(set.common.last_updated().is_some());
    }
}
