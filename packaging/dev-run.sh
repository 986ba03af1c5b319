#!/usr/bin/env bash
# Builds and runs dhis2gw for a first look: private PostgreSQL and Redis, the DHIS2 simulator,
# and the daemon in the foreground. Ctrl-C stops everything.
#
#   packaging/dev-run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

port=${DHIS2GW_DEV_PORT:-9090}
sim_port=${DHIS2GW_DEV_SIM_PORT:-18080}
dev=target/dev
mkdir -p "$dev"

echo "== building"
cargo build --locked --workspace --bins -q

echo "== starting PostgreSQL and Redis (target/local-services)"
eval "$(bash packaging/local-services.sh start)"

echo "== starting the DHIS2 simulator on 127.0.0.1:$sim_port"
target/debug/dhis2-sim --listen "127.0.0.1:$sim_port" >"$dev/dhis2-sim.log" 2>&1 &
sim_pid=$!
cleanup() {
  kill "$sim_pid" 2>/dev/null || true
  bash packaging/local-services.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# A development configuration: the shipped defaults, pointed at the local services.
cat >"$dev/dhis2gw.yml" <<YAML
database:
  uri: $DHIS2GW_DB
server:
  host: 127.0.0.1
  http_port: $port
  redis_address: $DHIS2GW_REDIS
  docs_dir: $PWD/docs
api:
  dhis2_base_url: http://127.0.0.1:$sim_port
  dhis2_user: admin
  dhis2_password: district
auth:
  initial_admin_password: admin
log:
  level: info
YAML
unset DHIS2GW_DB DHIS2GW_REDIS

cat <<TXT

  dhis2gw          http://127.0.0.1:$port
  console          http://127.0.0.1:$port/admin/
  docs             http://127.0.0.1:$port/docs/
  Swagger UI       http://127.0.0.1:$port/swagger
  readiness        http://127.0.0.1:$port/ready
  DHIS2 simulator  http://127.0.0.1:$sim_port  (admin / district)
  first login      admin / admin  (dev only: set in $dev/dhis2gw.yml)

  Ctrl-C stops dhis2gw, the simulator, PostgreSQL and Redis.

TXT
target/debug/dhis2gw serve --config-file "$dev/dhis2gw.yml"
