-- V5: the DHIS2 metadata `dhis2gw run-job sync` pulls, used to check mappings before they are
-- used. One DHIS2 instance (api.dhis2_base_url). `last_updated` is DHIS2's own timestamp
-- (server local time, no zone), kept as sent so incremental syncs can ask for newer objects;
-- `synced_at` is when this gateway last saw the object (a full sync removes the unseen).

CREATE TABLE dhis2_org_units (
    uid          text PRIMARY KEY,
    code         text,
    name         text NOT NULL,
    level        integer,
    path         text,
    parent_uid   text,
    last_updated timestamp,
    synced_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dhis2_org_units_code ON dhis2_org_units (code);

CREATE TABLE dhis2_category_combos (
    uid          text PRIMARY KEY,
    code         text,
    name         text NOT NULL,
    last_updated timestamp,
    synced_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dhis2_category_option_combos (
    uid                text PRIMARY KEY,
    code               text,
    name               text NOT NULL,
    category_combo_uid text,
    last_updated       timestamp,
    synced_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dhis2_category_option_combos_combo ON dhis2_category_option_combos (category_combo_uid);

CREATE TABLE dhis2_data_elements (
    uid                text PRIMARY KEY,
    code               text,
    name               text NOT NULL,
    value_type         text,
    category_combo_uid text,
    last_updated       timestamp,
    synced_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dhis2_data_sets (
    uid                text PRIMARY KEY,
    code               text,
    name               text NOT NULL,
    period_type        text,
    category_combo_uid text,
    last_updated       timestamp,
    synced_at          timestamptz NOT NULL DEFAULT now()
);

-- A data set's elements, replaced whenever the data set is synced. `category_combo_uid` is the
-- optional per-data-set override of the element's own combo (DataSetElement.categoryCombo).
CREATE TABLE dhis2_data_set_elements (
    data_set_uid       text NOT NULL REFERENCES dhis2_data_sets (uid) ON DELETE CASCADE,
    data_element_uid   text NOT NULL,
    category_combo_uid text,
    PRIMARY KEY (data_set_uid, data_element_uid)
);
CREATE INDEX dhis2_data_set_elements_element ON dhis2_data_set_elements (data_element_uid);

CREATE TABLE dhis2_user_groups (
    uid          text PRIMARY KEY,
    code         text,
    name         text NOT NULL,
    last_updated timestamp,
    synced_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per collection: the newest lastUpdated seen (the next incremental sync asks for
-- objects updated since) and when it last ran.
CREATE TABLE dhis2_metadata_sync (
    collection    text PRIMARY KEY,
    watermark     timestamp,
    last_run_at   timestamptz NOT NULL,
    last_full_at  timestamptz,
    last_fetched  integer NOT NULL DEFAULT 0
);
