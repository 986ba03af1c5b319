//! A faithful fake DHIS2 server (see `docs/simulator.md`).
