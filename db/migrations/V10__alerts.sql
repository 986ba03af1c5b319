-- V10: the alert run's record: one alert per (data element, org unit, ISO week), and the weekly
-- values it pulled from DHIS2 analytics, kept so later runs fetch only recent weeks.
--
-- An alert row is claimed (inserted) before DHIS2 is written to; its unique key makes a second
-- run, an overlapping run or a retry find it instead of creating another. dhis2_state stays
-- 'pending_dhis2' until DHIS2 confirms the tracker import; the tracked entity, enrollment and
-- event UIDs are chosen at the claim, so a retried import updates the same objects.
-- status is the person's view of the alert (open, acknowledged, closed).
CREATE TABLE alerts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    data_element        text        NOT NULL,
    data_element_name   text,
    org_unit            text        NOT NULL,
    org_unit_name       text,
    week                text        NOT NULL CHECK (week ~ '^[0-9]{4}W[0-9]{1,2}$'),
    -- The week's Monday, for range filters and ordering.
    week_start          date        NOT NULL,
    rule_id             bigint      REFERENCES alert_rules (id) ON DELETE SET NULL,
    rule_uid            text        NOT NULL,
    rule_name           text        NOT NULL,
    disease_code        text,
    severity            text        NOT NULL,
    -- The evaluation, as the engine made it.
    method              text        NOT NULL,
    params              jsonb       NOT NULL,
    missing_policy      text        NOT NULL,
    series              jsonb       NOT NULL,
    count               double precision,
    expected            double precision,
    upper_bound         double precision,
    score               double precision,
    reason              text        NOT NULL,
    -- [{"uid","name","count"}] from the facility drill-down, largest first.
    facilities          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    status              text        NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'acknowledged', 'closed')),
    acknowledged_by     text,
    acknowledged_at     timestamptz,
    -- DHIS2's side.
    dhis2_state         text        NOT NULL DEFAULT 'pending_dhis2'
                        CHECK (dhis2_state IN ('pending_dhis2', 'in_dhis2')),
    tracked_entity      text        NOT NULL UNIQUE CHECK (tracked_entity ~ '^[A-Za-z][A-Za-z0-9]{10}$'),
    enrollment          text        NOT NULL UNIQUE CHECK (enrollment ~ '^[A-Za-z][A-Za-z0-9]{10}$'),
    event               text        NOT NULL UNIQUE CHECK (event ~ '^[A-Za-z][A-Za-z0-9]{10}$'),
    alert_number        text,
    capture_url         text        NOT NULL,
    dhis2_request       jsonb,
    dhis2_response      text,
    dhis2_http_status   integer,
    dhis2_attempts      integer     NOT NULL DEFAULT 0,
    dhis2_last_error    text,
    dhis2_next_attempt  timestamptz NOT NULL DEFAULT now(),
    dhis2_confirmed_at  timestamptz,
    created             timestamptz NOT NULL DEFAULT now(),
    updated             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT alerts_one_per_place_and_week UNIQUE (data_element, org_unit, week)
);

CREATE INDEX alerts_pending ON alerts (dhis2_next_attempt) WHERE dhis2_state = 'pending_dhis2';
CREATE INDEX alerts_by_week ON alerts (week_start DESC, id DESC);
CREATE INDEX alerts_by_status ON alerts (status, week_start DESC);

-- Alert numbers when the DHIS2 attribute has no generation pattern.
CREATE SEQUENCE alert_numbers;

-- The weekly values pulled from analytics, one row per series: scope is the analytics org unit
-- selection ("ROOT1;ROOT2;LEVEL-3"); counts[i] is week first_week + i, null when DHIS2 had no
-- value. alert_history_coverage says which weeks were fetched (a missing value is only
-- "missing" for a week that was asked for).
CREATE TABLE alert_history (
    scope         text    NOT NULL,
    data_element  text    NOT NULL,
    org_unit      text    NOT NULL,
    org_unit_name text,
    first_week    date    NOT NULL,
    counts        jsonb   NOT NULL CHECK (jsonb_typeof(counts) = 'array'),
    PRIMARY KEY (scope, data_element, org_unit)
);

CREATE TABLE alert_history_coverage (
    scope         text        NOT NULL,
    data_element  text        NOT NULL,
    first_week    date        NOT NULL,
    last_week     date        NOT NULL CHECK (last_week >= first_week),
    fetched_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, data_element)
);
