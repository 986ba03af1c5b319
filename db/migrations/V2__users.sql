-- V2: users, API tokens, JWT refresh tokens and the login throttle.
-- Secrets are never stored: passwords as argon2id PHC strings (or the bcrypt `$2a$`/`$2b$`
-- hashes an older database carried, upgraded on the next successful login), tokens as the
-- SHA-256 hex digest of the token.

CREATE TABLE users (
    id              bigserial PRIMARY KEY,
    uid             text NOT NULL UNIQUE DEFAULT generate_uid(),
    username        text NOT NULL UNIQUE,
    password        text NOT NULL,
    firstname       text NOT NULL DEFAULT '',
    lastname        text NOT NULL DEFAULT '',
    email           text,
    telephone       text NOT NULL DEFAULT '',
    role            text NOT NULL CHECK (role IN ('admin', 'submitter', 'viewer')),
    is_active       boolean NOT NULL DEFAULT true,
    -- Consecutive failed password logins inside the throttle window; reset by a success.
    failed_attempts integer NOT NULL DEFAULT 0,
    last_failed_at  timestamptz,
    locked_until    timestamptz,
    last_login      timestamptz,
    created         timestamptz NOT NULL DEFAULT now(),
    updated         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_uid_format CHECK (uid ~ '^[A-Za-z][A-Za-z0-9]{10}$'),
    CONSTRAINT users_username_not_blank CHECK (length(btrim(username)) > 0)
);

CREATE INDEX users_created_idx ON users (created DESC);

-- `Authorization: Token <hex>` credentials (POST /api/v2/users/getToken, `dhis2gw token create`).
CREATE TABLE user_apitoken (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_sha256 text NOT NULL UNIQUE,
    is_active    boolean NOT NULL DEFAULT true,
    -- NULL means the token never expires (only the CLI can make such a token).
    expires_at   timestamptz,
    last_used_at timestamptz,
    created      timestamptz NOT NULL DEFAULT now(),
    updated      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX user_apitoken_user_idx ON user_apitoken (user_id) WHERE is_active;

-- Refresh tokens of JWT sessions. Each refresh marks the presented token used and issues a new
-- one in the same family; presenting a used token again revokes the whole family.
CREATE TABLE refresh_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family       uuid NOT NULL,
    token_sha256 text NOT NULL UNIQUE,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    revoked_at   timestamptz,
    created      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Failed password logins per client IP (per-user failures live on `users`).
CREATE TABLE login_throttle (
    ip             text PRIMARY KEY,
    failures       integer NOT NULL DEFAULT 0,
    window_started timestamptz NOT NULL DEFAULT now(),
    locked_until   timestamptz
);
