-- The request audit log: one row per /api/v2 request (route template, not the raw path), written
-- in batches off the request path and purged after http.audit_keep_days (docs/authentication.md,
-- "Request audit log"). No foreign keys: the history outlives users and submissions.
CREATE TABLE request_audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    method text NOT NULL,
    route text NOT NULL,
    user_id bigint,
    username text,
    status smallint NOT NULL,
    duration_us bigint NOT NULL,
    submission_id bigint
);
CREATE INDEX request_audit_at ON request_audit (at);
CREATE INDEX request_audit_user ON request_audit (username, id);
