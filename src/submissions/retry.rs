//! What one delivery attempt means for the log and the queue: record DHIS2's answer, retry
//! transient failures with exponential backoff and jitter up to `server.max_retries`, fail the
//! rest. Pure, so every branch is unit-tested.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::Value;

use crate::db::submissions::{AttemptRecord, Status};
use crate::dhis2::{Dhis2Error, ImportOutcome, ImportStatus};

/// The retry knobs of `server.*` in force for this attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base: Duration,
    pub cap: Duration,
    pub save_response: bool,
}

impl RetryPolicy {
    /// Delay before retry number `retry` (1-based): `base · 2^(retry-1)`, capped, of which the
    /// upper half is random ("equal jitter": never less than half the step, so retries of many
    /// submissions spread out without collapsing to zero).
    pub fn backoff(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let step = self
            .base
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.cap);
        let half = step / 2;
        let jitter_ms = rng.random_range(0..=half.as_millis().min(u128::from(u64::MAX)) as u64);
        half + Duration::from_millis(jitter_ms)
    }
}

/// What to do after recording an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Done,
    RetryAt(DateTime<Utc>),
}

/// Turns DHIS2's answer (or the failure to get one) into the log record and the next step.
/// `retry_count` is the number of retries already used in this round.
pub fn decide(
    result: &Result<ImportOutcome, Dhis2Error>,
    retry_count: i32,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
    rng: &mut impl Rng,
) -> (AttemptRecord, Next) {
    let response_of = |body: Option<&str>| body.filter(|_| policy.save_response).map(str::to_owned);
    match result {
        Ok(outcome) => {
            let status = match outcome.status {
                ImportStatus::Success if outcome.has_conflicts() => Status::CompletedWithConflicts,
                ImportStatus::Success => Status::Completed,
                ImportStatus::Warning => Status::CompletedWithConflicts,
                ImportStatus::Error => Status::Failed,
            };
            let c = outcome.counts;
            let clamp = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
            let errors = match outcome.status {
                ImportStatus::Success => None,
                // The specific cause (first conflict, aborted import), not DHIS2's generic
                // "One more conflicts encountered…" sentence.
                _ => outcome.error_text(),
            };
            let record = AttemptRecord {
                status,
                response: response_of(Some(&outcome.raw_body)),
                response_status: Some(i32::from(outcome.http_status)),
                counts: Some([
                    clamp(c.imported),
                    clamp(c.updated),
                    clamp(c.ignored),
                    clamp(c.deleted),
                ]),
                conflicts: outcome.conflicts_json(),
                errors,
                retry_count,
                next_attempt_at: None,
                exhausted: false,
            };
            (record, Next::Done)
        }
        Err(error) => {
            let mut record = AttemptRecord {
                status: Status::Failed,
                response: response_of(error.raw_body()),
                response_status: error.http_status().map(i32::from),
                counts: None,
                conflicts: Value::Array(Vec::new()),
                errors: Some(error.to_string()),
                retry_count,
                next_attempt_at: None,
                exhausted: false,
            };
            if !error.is_retryable() {
                return (record, Next::Done);
            }
            let used = u32::try_from(retry_count).unwrap_or(0);
            if used >= policy.max_retries {
                record.exhausted = true;
                return (record, Next::Done);
            }
            let mut delay = policy.backoff(used + 1, rng);
            if let Some(asked) = error.retry_after() {
                // DHIS2's own Retry-After wins over a shorter backoff (up to an hour).
                delay = delay.max(asked.min(Duration::from_secs(3600)));
            }
            let due = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::zero());
            record.status = Status::Retrying;
            record.retry_count = retry_count + 1;
            record.next_attempt_at = Some(due);
            (record, Next::RetryAt(due))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dhis2::{Conflict, ImportCounts};

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base: Duration::from_millis(1000),
            cap: Duration::from_millis(5000),
            save_response: true,
        }
    }

    fn outcome(status: ImportStatus, conflicts: Vec<Conflict>) -> ImportOutcome {
        ImportOutcome {
            http_status: if status == ImportStatus::Success {
                200
            } else {
                409
            },
            raw_body: "{\"status\":\"x\"}".into(),
            status,
            counts: ImportCounts {
                imported: 2,
                updated: 1,
                ignored: 1,
                deleted: 0,
            },
            conflicts,
            rejected_indexes: vec![],
            description: Some("Import process completed successfully".into()),
            message: Some("One more conflicts encountered, please check import summary.".into()),
        }
    }

    fn conflict() -> Conflict {
        Conflict {
            object: Some("deUnknown01".into()),
            objects: None,
            value: "Data element not found or not accessible".into(),
            error_code: Some("E7610".into()),
            property: Some("dataElement".into()),
            indexes: Some(vec![1]),
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let mut rng = rand::rng();
        for _ in 0..200 {
            let first = policy().backoff(1, &mut rng);
            assert!(first >= Duration::from_millis(500) && first <= Duration::from_millis(1000));
            let third = policy().backoff(3, &mut rng);
            assert!(third >= Duration::from_millis(2000) && third <= Duration::from_millis(4000));
            let tenth = policy().backoff(10, &mut rng);
            assert!(tenth >= Duration::from_millis(2500) && tenth <= Duration::from_millis(5000));
            let huge = policy().backoff(u32::MAX, &mut rng);
            assert!(huge <= Duration::from_millis(5000));
        }
    }

    #[test]
    fn success_completes_with_counts_and_response() {
        let (record, next) = decide(
            &Ok(outcome(ImportStatus::Success, vec![])),
            0,
            &policy(),
            Utc::now(),
            &mut rand::rng(),
        );
        assert_eq!(next, Next::Done);
        assert_eq!(record.status, Status::Completed);
        assert_eq!(record.counts, Some([2, 1, 1, 0]));
        assert_eq!(record.response_status, Some(200));
        assert!(record.response.is_some());
        assert_eq!(record.errors, None);
    }

    #[test]
    fn conflicts_are_recorded_not_retried() {
        let (record, next) = decide(
            &Ok(outcome(ImportStatus::Warning, vec![conflict()])),
            0,
            &policy(),
            Utc::now(),
            &mut rand::rng(),
        );
        assert_eq!(next, Next::Done);
        assert_eq!(record.status, Status::CompletedWithConflicts);
        assert_eq!(record.conflicts[0]["errorCode"], "E7610");
        assert_eq!(record.response_status, Some(409));
        // The log names the cause, not DHIS2's generic "One more conflicts…" sentence.
        assert_eq!(
            record.errors.as_deref(),
            Some("Data element not found or not accessible")
        );
        let (record, next) = decide(
            &Ok(outcome(ImportStatus::Error, vec![conflict()])),
            0,
            &policy(),
            Utc::now(),
            &mut rand::rng(),
        );
        assert_eq!((record.status, next), (Status::Failed, Next::Done));
        assert!(!record.exhausted);
    }

    #[test]
    fn transient_errors_retry_until_exhausted() {
        let now = Utc::now();
        let error = Err(Dhis2Error::Server {
            status: 503,
            body: "down".into(),
        });
        for used in 0..3 {
            let (record, next) = decide(&error, used, &policy(), now, &mut rand::rng());
            assert_eq!(record.status, Status::Retrying);
            assert_eq!(record.retry_count, used + 1);
            let Next::RetryAt(due) = next else {
                panic!("{next:?}")
            };
            assert!(due > now);
            assert_eq!(record.next_attempt_at, Some(due));
            assert_eq!(record.response.as_deref(), Some("down"));
        }
        let (record, next) = decide(&error, 3, &policy(), now, &mut rand::rng());
        assert_eq!((record.status, next), (Status::Failed, Next::Done));
        assert!(record.exhausted);
        assert_eq!(record.retry_count, 3);
    }

    #[test]
    fn retry_after_is_honoured() {
        let now = Utc::now();
        let error = Err(Dhis2Error::TooManyRequests {
            retry_after: Some(Duration::from_secs(30)),
            body: String::new(),
        });
        let (_, next) = decide(&error, 0, &policy(), now, &mut rand::rng());
        let Next::RetryAt(due) = next else { panic!() };
        assert!(due >= now + chrono::Duration::seconds(30));
    }

    #[test]
    fn client_errors_fail_at_once_and_response_is_kept_only_when_asked() {
        let error = Err(Dhis2Error::Unauthorized {
            status: 401,
            message: "Unauthorized".into(),
            body: "{}".into(),
        });
        let mut quiet = policy();
        quiet.save_response = false;
        let (record, next) = decide(&error, 0, &quiet, Utc::now(), &mut rand::rng());
        assert_eq!((record.status, next), (Status::Failed, Next::Done));
        assert_eq!(record.response, None);
        assert_eq!(record.response_status, Some(401));
        assert!(record.errors.unwrap().contains("401"));
    }
}
