//! Mappings from submitters' keys to DHIS2 data elements, option combos and org units: CRUD, CSV/Excel import and export, DHIS2 metadata sync.
