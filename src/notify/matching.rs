//! Who is told of an alert in org unit O: a DHIS2 user any of whose org units is O or an ancestor
//! of O (by DHIS2 path), at most `notifications.max_level_above` levels above O; static and
//! broadcast recipients hear of every org unit. A disease filter, when set, must name the alert's
//! disease (its code or its data element).

/// Depth of a DHIS2 path: `/root` is 1, `/root/province` 2, and so on.
pub fn level(path: &str) -> usize {
    path.split('/').filter(|s| !s.is_empty()).count()
}

/// Whether a user assigned to `user_path` is told of an alert at `alert_path`.
pub fn path_matches(user_path: &str, alert_path: &str, max_level_above: u32) -> bool {
    let user_path = user_path.trim_end_matches('/');
    let alert_path = alert_path.trim_end_matches('/');
    if user_path.is_empty() {
        return false;
    }
    let is_self_or_ancestor = alert_path == user_path
        || alert_path
            .strip_prefix(user_path)
            .is_some_and(|rest| rest.starts_with('/'));
    is_self_or_ancestor && level(alert_path) - level(user_path) <= max_level_above as usize
}

/// Whether any of a user's org units matches (an empty list matches nothing).
pub fn any_path_matches(user_paths: &[String], alert_path: &str, max_level_above: u32) -> bool {
    user_paths
        .iter()
        .any(|p| path_matches(p, alert_path, max_level_above))
}

/// Whether a recipient's disease filter lets the alert through (`None`: every disease).
pub fn disease_matches(filter: Option<&[String]>, code: Option<&str>, data_element: &str) -> bool {
    match filter {
        None => true,
        Some(list) => list
            .iter()
            .any(|d| Some(d.as_str()) == code || d == data_element),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISTRICT: &str = "/ZM/LusakaP/LusakaD";

    #[test]
    fn the_district_itself_and_ancestors_within_the_limit_match() {
        assert!(path_matches("/ZM/LusakaP/LusakaD", DISTRICT, 0));
        assert!(path_matches("/ZM/LusakaP", DISTRICT, 1));
        assert!(!path_matches("/ZM/LusakaP", DISTRICT, 0));
        assert!(!path_matches("/ZM", DISTRICT, 1));
        assert!(path_matches("/ZM", DISTRICT, 2));
    }

    #[test]
    fn facilities_siblings_and_name_prefixes_do_not_match() {
        assert!(!path_matches("/ZM/LusakaP/LusakaD/Clinic1", DISTRICT, 5));
        assert!(!path_matches("/ZM/LusakaP/Chongwe", DISTRICT, 5));
        // A sibling whose id starts with the district's id is not a descendant.
        assert!(!path_matches("/ZM/LusakaP/Lusaka", DISTRICT, 5));
        assert!(!path_matches("", DISTRICT, 5));
    }

    #[test]
    fn any_of_the_users_org_units_counts() {
        let paths = vec!["/ZM/Copperbelt".to_string(), DISTRICT.to_string()];
        assert!(any_path_matches(&paths, DISTRICT, 0));
        assert!(!any_path_matches(&[], DISTRICT, 3));
    }

    #[test]
    fn a_disease_filter_names_the_code_or_the_data_element() {
        let filter = vec!["MEASLES".to_string()];
        assert!(disease_matches(None, None, "de1"));
        assert!(disease_matches(Some(&filter), Some("MEASLES"), "de1"));
        assert!(disease_matches(Some(&filter), None, "MEASLES"));
        assert!(!disease_matches(Some(&filter), Some("CHOLERA"), "de1"));
    }
}
