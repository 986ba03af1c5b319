-- V9: alert rules as data: which disease (a DHIS2 data element) is checked how.
--
-- rule_type is a method name the detection engine (crates/dhis2gw-detect) accepts and params its
-- parameters; the daemon validates both with the engine before writing, the CHECKs below hold
-- every writer to the shapes the daemon relies on. overrides maps a district org unit UID to the
-- parameters used there instead of params (the original's anthrax-in-endemic-districts case,
-- generalised). Optional columns are NULL when absent, never ''.
CREATE TABLE alert_rules (
    id             bigserial PRIMARY KEY,
    uid            text NOT NULL UNIQUE DEFAULT generate_uid()
                   CHECK (uid ~ '^[A-Za-z][A-Za-z0-9]{10}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    data_element   text NOT NULL CHECK (data_element ~ '^[A-Za-z][A-Za-z0-9]{10}$'),
    disease_code   text CHECK (btrim(disease_code) <> ''),
    rule_type      text NOT NULL CHECK (rule_type IN (
                       'one_case', 'cluster', 'doubling', 'ratio_to_mean', 'incidence',
                       'rolling_sum', 'c1', 'c2', 'c3', 'cusum', 'historical', 'p75',
                       'farrington', 'noufaily')),
    params         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(params) = 'object'),
    level          smallint NOT NULL DEFAULT 3 CHECK (level BETWEEN 1 AND 10),
    overrides      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(overrides) = 'object'),
    missing_policy text NOT NULL DEFAULT 'skip' CHECK (missing_policy IN ('skip', 'zero')),
    severity       text NOT NULL DEFAULT 'alert' CHECK (severity IN ('alert', 'action')),
    enabled        boolean NOT NULL DEFAULT true,
    created        timestamptz NOT NULL DEFAULT now(),
    updated        timestamptz NOT NULL DEFAULT now(),
    -- One rule of a kind per disease: an import run twice finds its rule and changes nothing.
    CONSTRAINT alert_rules_one_per_type UNIQUE (data_element, rule_type)
);

-- The alert run reads the enabled rules.
CREATE INDEX alert_rules_enabled ON alert_rules (data_element) WHERE enabled;
