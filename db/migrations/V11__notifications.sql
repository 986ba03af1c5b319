-- Notifications (docs/notifications.md): the recipient directory, the facts of each alert that
-- is notified, and one delivery per (alert, address, channel) with each attempt's answer.
-- Deliveries are planned in the transaction that records the alert's DHIS2 confirmation, so the
-- alert's id is kept as a plain column: the alerts table is another migration's.

-- Who can be notified. `dhis2` rows are synced from DHIS2 user groups by the `directory` job;
-- `static` rows (per channel, optionally per disease) and `broadcast` rows (Telegram group
-- chats that get every alert) are rewritten from the configuration at start and on reload.
CREATE TABLE notify_recipients (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source         text NOT NULL CHECK (source IN ('dhis2', 'static', 'broadcast')),
    -- DHIS2 user id for `dhis2`; `<channel>:<address>` for the others.
    source_key     text NOT NULL,
    username       text,
    name           text NOT NULL,
    first_name     text,
    -- DHIS2 paths (`/root/…/ou`) of the user's org units; empty for static and broadcast rows,
    -- which match every org unit.
    org_unit_paths text[] NOT NULL DEFAULT '{}',
    -- Disease codes this recipient wants; NULL means every disease.
    diseases       text[],
    -- Each address as validated at sync time; an invalid one has a NULL address and a reason.
    email          text,
    email_skip     text,
    phone          text,
    phone_skip     text,
    telegram       text,
    telegram_skip  text,
    -- Set when Telegram answered 403 (the chat blocked the bot): no further messages are planned.
    telegram_blocked_at timestamptz,
    synced_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_key)
);

-- The matching settings, one row, written from the configuration at start and on reload so that
-- every instance plans with the same rule inside the alert's transaction.
CREATE TABLE notify_settings (
    id               boolean PRIMARY KEY DEFAULT true CHECK (id),
    max_level_above  integer NOT NULL DEFAULT 1 CHECK (max_level_above >= 0),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO notify_settings DEFAULT VALUES;

-- The facts of a notified alert, as the run handed them over; messages are rendered from it.
CREATE TABLE notify_notices (
    alert_id    bigint PRIMARY KEY,
    notice      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One message to one address on one channel for one alert; the unique key makes a second plan
-- of the same alert (or one person reached both from DHIS2 and from the configuration) a no-op.
CREATE TABLE notify_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id        bigint NOT NULL REFERENCES notify_notices (alert_id) ON DELETE CASCADE,
    recipient_id    bigint REFERENCES notify_recipients (id) ON DELETE SET NULL,
    recipient_name  text NOT NULL,
    -- The recipient's first name for the salutation (empty for broadcasts).
    first_name      text NOT NULL DEFAULT '',
    broadcast       boolean NOT NULL DEFAULT false,
    channel         text NOT NULL CHECK (channel IN ('email', 'sms', 'telegram')),
    address         text NOT NULL,
    -- queued: waiting or between attempts; sent: the provider accepted it; failed: permanent
    -- failure or attempts exhausted.
    status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (alert_id, channel, address)
);
CREATE INDEX notify_deliveries_open ON notify_deliveries (next_attempt_at) WHERE status = 'queued';
CREATE INDEX notify_deliveries_status ON notify_deliveries (status, id);

-- Each attempt and the provider's answer (status line, body or error), for the log and the API.
CREATE TABLE notify_attempts (
    delivery_id bigint NOT NULL REFERENCES notify_deliveries (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    outcome     text NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    answer      text NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
