-- V15: one login throttle, per (username, client address) together.
-- Replaces the per-address table of V2 and the per-user columns on `users`: a stranger's failed
-- logins from one address could lock a user out everywhere, and every address of a shared user.
-- Now failures count against the name tried *from that address* only (see
-- docs/authentication.md, "Login throttle"); tokens and JWTs are never counted.

DROP TABLE login_throttle;

ALTER TABLE users
    DROP COLUMN failed_attempts,
    DROP COLUMN last_failed_at,
    DROP COLUMN locked_until;

CREATE TABLE login_throttle (
    -- The username as presented (it need not exist: guesses at unknown names count too).
    username       text NOT NULL,
    -- The client address (the TCP peer), or '' when the listener gives none.
    ip             text NOT NULL,
    -- Failed password logins in the current window; the window restarts when the last failure
    -- is older than `auth.login_window_secs`.
    failures       integer NOT NULL,
    last_failed_at timestamptz NOT NULL,
    -- Set when `failures` reaches `auth.login_max_failures`: refused until then.
    locked_until   timestamptz,
    PRIMARY KEY (username, ip)
);

-- Expired rows are deleted by age.
CREATE INDEX login_throttle_last_failed_idx ON login_throttle (last_failed_at);
