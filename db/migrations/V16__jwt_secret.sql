-- The HS256 secret of access tokens when auth.jwt_secret is empty: made once by the first
-- instance that starts, then read by every instance, so a JWT issued by one is accepted by all
-- (docs/authentication.md, "JWT secret"). Stored as it is: see that section for why.
CREATE TABLE jwt_signing_key (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    secret bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
