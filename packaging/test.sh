#!/usr/bin/env bash
# Runs the whole test suite against private PostgreSQL and Redis (started here, on their own
# ports and data directory, and stopped at the end), after the formatting and lint checks.
#
#   packaging/test.sh                 # everything
#   packaging/test.sh -- config::     # extra arguments go to the test runner (a filter)
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
cargo deny --offline check licenses bans sources

# packaging/faults.sh (Redis, PostgreSQL, kill -9, SIGTERM, SIGHUP under load; its own services
# and daemon, about 5 minutes) is not run here yet either: its statement-timeout scenario still
# gets some 500s ("current transaction is aborted", docs/reliability.md), which fail it. It
# joins this script once that is fixed.

# packaging/schemathesis.sh (property-based API testing against /openapi.json) is not run here
# yet: it still finds the schema-valid requests refused and the string coercions listed under
# "Still failing" in docs/hostile-input.md, and the suite must pass. It joins this script once
# they are fixed (it takes about 90 seconds for the three roles).
