//! The scheduler (top floor: it calls services, like `http` and `commands`): cron schedules from
//! the config fire the jobs of the [`jobs`] registry inside `dhis2gw serve`, each firing on
//! exactly one instance and never overlapping the job's previous run, with PostgreSQL's
//! `job_runs` table as the arbiter ([`runs`]). `dhis2gw run-job` and the jobs API run jobs
//! through the same claim.

pub mod clock;
mod cron_loop;
mod error;
pub mod firings;
pub mod jobs;
pub mod runs;
pub mod status;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cron_loop::{Scheduler, next_firings};
pub use error::SchedulerError;
pub use jobs::{JobName, JobOptions, JobReport, JobRunner, Jobs};
pub use runs::{Claimed, Finished, Runs, instance_id};
