//! Typed DHIS2 Web API client (reqwest) and the parsers of every response shape DHIS2 2.36-2.41+ sends.
