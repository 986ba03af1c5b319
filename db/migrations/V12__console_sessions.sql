-- V12: sessions of the browser console at /admin.
--
-- The browser holds the session token in an HttpOnly cookie; only its SHA-256 hex digest is
-- stored here. csrf_token is the per-session secret the console sends back in the
-- X-CSRF-Token header on every write (synchronizer token): a page on another origin can make
-- the browser send the cookie but can never read this value.
CREATE TABLE console_sessions (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_sha256 text NOT NULL UNIQUE,
    csrf_token   text NOT NULL,
    created      timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

CREATE INDEX console_sessions_user_idx ON console_sessions (user_id);
CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);
