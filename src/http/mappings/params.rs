//! Query parameters of the mappings list turned into a filter, every bad one named in the 400.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::db::mappings::MappingFilter;
use crate::http::{ApiError, FieldError};

/// The raw list filters, as the query string gave them.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub uid: Option<String>,
    pub code: Option<String>,
    pub what: Option<String>,
    pub name: Option<String>,
    pub data_set: Option<String>,
    pub data_element: Option<String>,
    pub category_option_combo: Option<String>,
    pub category_option: Option<String>,
    pub category_combo: Option<String>,
    pub source: Option<String>,
    pub instance_name: Option<String>,
    pub source_orgunit: Option<String>,
    pub destination_orgunit: Option<String>,
    /// (parameter name, value, is upper bound)
    pub times: Vec<(&'static str, Option<String>, bool)>,
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// RFC 3339, or a date: from its first instant (lower bounds) or to its last (upper bounds).
fn parse_time(text: &str, upper: bool) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let time = if upper {
        NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999)?
    } else {
        NaiveTime::MIN
    };
    Some(date.and_time(time).and_utc())
}

impl ListQuery {
    pub fn into_filter(self) -> Result<MappingFilter, ApiError> {
        let mut details = Vec::new();
        let what = non_blank(self.what).map(|w| w.to_ascii_lowercase());
        if let Some(w) = &what
            && w != "de"
            && w != "ou"
        {
            details.push(FieldError {
                field: "what".into(),
                message: format!("{w:?} is neither de nor ou"),
            });
        }
        let mut filter = MappingFilter {
            uid: non_blank(self.uid),
            code: non_blank(self.code),
            what,
            name: non_blank(self.name),
            dataset: non_blank(self.data_set),
            dataelement: non_blank(self.data_element),
            category_option_combo: non_blank(self.category_option_combo),
            category_option: non_blank(self.category_option),
            category_combo: non_blank(self.category_combo),
            source_name: non_blank(self.source),
            instance_name: non_blank(self.instance_name),
            source_orgunit: non_blank(self.source_orgunit),
            dest_orgunit: non_blank(self.destination_orgunit),
            ..MappingFilter::default()
        };
        for (name, value, upper) in self.times {
            let Some(value) = non_blank(value) else {
                continue;
            };
            let Some(time) = parse_time(&value, upper) else {
                details.push(FieldError {
                    field: name.into(),
                    message: format!(
                        "{value:?} is not a date (2024-03-01) or an RFC 3339 time (2024-03-01T10:00:00Z)"
                    ),
                });
                continue;
            };
            let slot = match (name.starts_with("created"), upper) {
                (true, false) => &mut filter.created_from,
                (true, true) => &mut filter.created_to,
                (false, false) => &mut filter.updated_from,
                (false, true) => &mut filter.updated_to,
            };
            *slot = Some(time);
        }
        if details.is_empty() {
            Ok(filter)
        } else {
            Err(ApiError::bad_request("invalid filter", details))
        }
    }
}

/// `page` ≥ 1 and 1 ≤ `page_size` ≤ max, or a 400 naming the bad one.
pub fn pagination(
    page: Option<i64>,
    page_size: Option<i64>,
    default: i64,
    max: i64,
) -> Result<(i64, i64), ApiError> {
    let page = page.unwrap_or(1);
    let page_size = page_size.unwrap_or(default);
    let mut details = Vec::new();
    if page < 1 {
        details.push(FieldError {
            field: "page".into(),
            message: "must be 1 or more".into(),
        });
    }
    if !(1..=max).contains(&page_size) {
        details.push(FieldError {
            field: "page_size".into(),
            message: format!("must be between 1 and {max}"),
        });
    }
    if details.is_empty() {
        Ok((page, page_size))
    } else {
        Err(ApiError::bad_request("invalid pagination", details))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_bound_whole_days_and_times_are_exact() {
        let from = parse_time("2024-03-01", false).unwrap();
        let to = parse_time("2024-03-01", true).unwrap();
        assert_eq!(from.to_rfc3339(), "2024-03-01T00:00:00+00:00");
        assert!(to > from && to < parse_time("2024-03-02", false).unwrap());
        let exact = parse_time("2024-03-01T10:00:00+03:00", false).unwrap();
        assert_eq!(exact.to_rfc3339(), "2024-03-01T07:00:00+00:00");
        assert_eq!(parse_time("01/03/2024", false), None);
    }
}
