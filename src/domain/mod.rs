//! Domain newtypes parsed at the boundary: past `parse`, code only sees valid values.
//!
//! - [`uid::Uid`]: a DHIS2 identifier.
//! - [`period::Period`]: a DHIS2 period of any period type, with its real calendar dates.
//! - [`value::DataValue`]: a client's JSON value as the exact text DHIS2 should receive.
//! - [`alert::Alert`]: one recorded outbreak alert, its evaluation and its DHIS2 write.
//! - [`job_run::JobRun`]: one run of a scheduled job, with its `Trigger` and `Outcome`.
//! - [`submission::Submission`]: one submission as the log records it, with its `Status` and `Kind`.

pub mod alert;
pub mod job_run;
pub mod period;
pub mod submission;
pub mod uid;
pub mod value;

/// Longest piece of client input quoted back in an error message.
const EXCERPT_CHARS: usize = 40;

/// Client input cut to a length that is safe to echo in an error message.
fn excerpt(input: &str) -> String {
    match input.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &input[..cut]),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_keeps_short_input_whole() {
        assert_eq!(excerpt("2024W54"), "2024W54");
        assert_eq!(excerpt(""), "");
    }

    #[test]
    fn excerpt_cuts_long_input_on_a_char_boundary() {
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
