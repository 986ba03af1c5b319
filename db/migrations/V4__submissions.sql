-- V4: the submission log, PostgreSQL's record of every aggregate and tracker submission. Redis only
-- holds the ids of submissions being worked on; everything needed to deliver (again) is here.
--
-- Life of a row (status):
--   queued ──► processing ──► completed | completed_with_conflicts | failed
--                  │  ▲
--                  ▼  │
--               retrying      (transport error, timeout, 5xx, 429: next_attempt_at set)
-- A requeue (API, CLI, `run-job retry`) puts any row back to queued.

CREATE TABLE submission_log (
    id                bigserial PRIMARY KEY,
    -- Public handle of the submission (the original's asynq task id); stable across requeues.
    task_id           uuid NOT NULL UNIQUE,
    kind              text NOT NULL CHECK (kind IN ('aggregate', 'tracker')),
    status            text NOT NULL DEFAULT 'queued' CHECK (status IN (
                          'queued', 'processing', 'retrying', 'completed',
                          'completed_with_conflicts', 'failed')),
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- Who sent it and from where. A deleted user keeps their submissions, unattributed.
    user_id           bigint REFERENCES users (id) ON DELETE SET NULL,
    source_ip         inet,
    -- Idempotency-Key header and the SHA-256 of the canonical request JSON it was first used with.
    idempotency_key   text CHECK (idempotency_key <> ''),
    body_hash         text NOT NULL,
    -- Mapping namespace and, for aggregate data, what the data is about (for filters and search).
    source_name       text NOT NULL DEFAULT 'default',
    instance_name     text NOT NULL DEFAULT 'default',
    org_unit          text,
    period            text,
    data_set          text,
    -- The request as received, the exact DHIS2 payload (text: the bytes that are sent), and the
    -- dataValues keys no mapping knew.
    payload           jsonb NOT NULL,
    dhis2_payload     text NOT NULL,
    unmapped          jsonb NOT NULL DEFAULT '[]',
    -- Delivery: attempts made, retries used in the current round (reset by a requeue), requeues.
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    retry_count       integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    requeue_count     integer NOT NULL DEFAULT 0 CHECK (requeue_count >= 0),
    -- Failed because transient errors (no answer, 5xx, 429) outlasted the retries: the `retry`
    -- job may send it again. A failure DHIS2 meant (4xx, bad credentials) is not exhausted.
    exhausted         boolean NOT NULL DEFAULT false,
    last_attempt_at   timestamptz,
    next_attempt_at   timestamptz,
    completed_at      timestamptz,
    -- What DHIS2 answered last: raw body and HTTP status (api.save_response), parsed counts and
    -- conflicts, and our own one-line account of a failure.
    response          text,
    response_status   integer,
    imported          integer,
    updated           integer,
    ignored           integer,
    deleted           integer,
    conflicts         jsonb NOT NULL DEFAULT '[]',
    errors            text
);

-- An idempotency key is scoped to the user who sent it.
CREATE UNIQUE INDEX submission_log_idempotency
    ON submission_log (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- The log list: newest first, optionally by status or by user.
CREATE INDEX submission_log_submitted_at ON submission_log (submitted_at DESC, id DESC);
CREATE INDEX submission_log_status ON submission_log (status, submitted_at DESC);
CREATE INDEX submission_log_user ON submission_log (user_id, submitted_at DESC);
-- The reconciler and `run-job retry` scan the rows still owed a delivery.
CREATE INDEX submission_log_open ON submission_log (id)
    WHERE status IN ('queued', 'processing', 'retrying');

-- The pipeline keeps each namespace's mappings in memory; every change to dhis2_mappings tells the
-- instances (LISTEN dhis2gw_mappings) to drop that copy. NOTIFY is sent at commit.
CREATE FUNCTION dhis2gw_notify_mappings_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('dhis2gw_mappings', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER dhis2_mappings_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON dhis2_mappings
    FOR EACH STATEMENT EXECUTE FUNCTION dhis2gw_notify_mappings_changed();
