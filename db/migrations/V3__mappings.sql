-- V3: mappings from a submitter's keys to DHIS2 identifiers.
--   what = 'de': a data-value key (code) → data element (+ category option combo, attribute option combo)
--   what = 'ou': a source org unit → a DHIS2 org unit
-- Each mapping lives in a namespace (source_name, instance_name); the aggregate pipeline reads the
-- namespace of the submission. Optional columns are NULL when absent, never '' (the CHECKs hold
-- every writer to that, so "absent" has one spelling).

CREATE TABLE dhis2_mappings (
    id                     bigserial PRIMARY KEY,
    uid                    text NOT NULL UNIQUE DEFAULT generate_uid(),
    code                   text NOT NULL CHECK (code <> ''),
    what                   text NOT NULL CHECK (what IN ('de', 'ou')),
    name                   text NOT NULL,
    description            text CHECK (description <> ''),
    dataset                text CHECK (dataset <> ''),
    dataelement            text CHECK (dataelement <> ''),
    category_option_combo  text CHECK (category_option_combo <> ''),
    category_option        text CHECK (category_option <> ''),
    category_combo         text CHECK (category_combo <> ''),
    attribute_option_combo text CHECK (attribute_option_combo <> ''),
    instance_name          text NOT NULL DEFAULT 'default' CHECK (instance_name <> ''),
    source_name            text NOT NULL DEFAULT 'default' CHECK (source_name <> ''),
    source_orgunit         text CHECK (source_orgunit <> ''),
    dest_orgunit           text CHECK (dest_orgunit <> ''),
    dimension_type         text CHECK (dimension_type <> ''),
    created                timestamptz NOT NULL DEFAULT now(),
    updated                timestamptz NOT NULL DEFAULT now(),
    -- A data-element mapping without a data element can never map anything.
    CONSTRAINT dhis2_mappings_de_complete
        CHECK (what <> 'de' OR dataelement IS NOT NULL),
    -- An org-unit mapping needs both ends.
    CONSTRAINT dhis2_mappings_ou_complete
        CHECK (what <> 'ou' OR (source_orgunit IS NOT NULL AND dest_orgunit IS NOT NULL))
);

-- One data-element mapping per key, one org-unit mapping per source org unit, in each namespace.
CREATE UNIQUE INDEX dhis2_mappings_de_key
    ON dhis2_mappings (source_name, instance_name, code) WHERE what = 'de';
CREATE UNIQUE INDEX dhis2_mappings_ou_key
    ON dhis2_mappings (source_name, instance_name, source_orgunit) WHERE what = 'ou';

-- The pipeline loads a whole namespace per submission; list filters add equality on these.
CREATE INDEX dhis2_mappings_namespace ON dhis2_mappings (source_name, instance_name, what);
CREATE INDEX dhis2_mappings_updated ON dhis2_mappings (updated);
