//! Tests of the DHIS2 simulator against the documented wire format.
