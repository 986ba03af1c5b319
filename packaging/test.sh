#!/usr/bin/env bash
# Runs the whole test suite against private PostgreSQL and Redis (started here, on their own
# ports and data directory, and stopped at the end), after the formatting and lint checks; then
# the licence check, schemathesis against the live API and the fault suite under load.
#
#   packaging/test.sh                 # everything
#   packaging/test.sh -- config::     # extra arguments go to the test runner (a filter); the
#                                     # schemathesis and fault suites are then left out
set -euo pipefail
cd "$(dirname "$0")/.."

# The console's end-to-end tests (tests/it/console) drive Debian's Chromium through chromedriver.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "== apt-get install chromium chromium-driver (for the console tests)"
  as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium chromium-driver
fi

dir=${DHIS2GW_TEST_SERVICES_DIR:-target/test-services}
# Stop what an earlier run may have left, then start from empty data directories.
bash packaging/local-services.sh stop --dir "$dir" >/dev/null 2>&1 || true
rm -rf "$dir"
trap 'bash packaging/local-services.sh stop --dir "$dir" >/dev/null 2>&1 || true' EXIT
# Ports and the data directory may be moved (DHIS2GW_TEST_PG_PORT, DHIS2GW_TEST_REDIS_PORT,
# DHIS2GW_TEST_SERVICES_DIR) to run two suites at once.
eval "$(bash packaging/local-services.sh start --dir "$dir" \
  --pg-port "${DHIS2GW_TEST_PG_PORT:-55433}" --redis-port "${DHIS2GW_TEST_REDIS_PORT:-56380}")"
export DHIS2GW_TEST_DB="$DHIS2GW_DB" DHIS2GW_TEST_REDIS="$DHIS2GW_REDIS"
# The tests build their own configuration; nothing from this shell may leak into them.
unset DHIS2GW_DB DHIS2GW_REDIS

if [ "${1:-}" = "--" ]; then shift; fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --locked --workspace --all-targets -q -- -D warnings

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --workspace --no-fail-fast --final-status-level fail "$@"
else
  cargo test --locked --workspace --no-fail-fast -- "$@"
fi

echo "== cargo deny check licenses bans sources"
command -v cargo-deny >/dev/null 2>&1 || cargo install --locked cargo-deny
# cargo-deny reads the metadata of every platform's crates (windows-sys …), which the build did
# not download; fetch them once, then check without the network (no advisory database here).
cargo fetch --locked
cargo deny --offline check licenses bans sources

# The hostile-input and fault suites (docs/hostile-input.md, docs/reliability.md), each with its
# own PostgreSQL, Redis and daemon on its own ports; left out when a test filter was given.
if [ "$#" -eq 0 ]; then
  cargo build --locked -q -p dhis2gw --bin dhis2gw
  echo "== schemathesis: every check, as viewer, submitter and admin (packaging/schemathesis.sh)"
  SCHEMATHESIS_DHIS2GW=target/debug/dhis2gw bash packaging/schemathesis.sh
  echo "== faults under load: Redis, PostgreSQL, kill -9, SIGTERM, SIGHUP (packaging/faults.sh)"
  bash packaging/faults.sh
fi
