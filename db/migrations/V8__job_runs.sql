-- V8: the scheduler's record of every job run, and its arbiter across instances.
--
-- A firing is claimed by inserting its row: the unique (job, scheduled_for) lets exactly one
-- instance win it. A run in progress has no outcome yet; the partial unique index allows one
-- such row per job, so a run can never start while the previous one of the same job is still
-- going, whichever instance holds it. The holder renews lease_until; a run whose lease lapsed
-- (its instance died) is closed as failed by the next instance that looks.
CREATE TABLE job_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job           text        NOT NULL,
    scheduled_for timestamptz NOT NULL,
    trigger       text        NOT NULL CHECK (trigger IN ('schedule', 'manual', 'catch_up')),
    instance      text        NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    lease_until   timestamptz,
    outcome       text        CHECK (outcome IN ('ok', 'failed', 'skipped')),
    counts        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    error         text,
    UNIQUE (job, scheduled_for)
);

CREATE UNIQUE INDEX job_runs_one_running ON job_runs (job) WHERE outcome IS NULL;
CREATE INDEX job_runs_by_job_newest ON job_runs (job, started_at DESC);
CREATE INDEX job_runs_started ON job_runs (started_at);
