#!/usr/bin/env bash
# What the request audit log costs accept: one `dhis2gw serve` (release build), durable accept
# measured with `oha` as in bench/run.sh (32 clients, the same body, deliveries held at 1/s),
# alternately with the audit log on and off (`http.audit_keep_days` 30 and 0, applied by SIGHUP
# to the same process, so both meet the same database and the same minutes of the machine).
# For each run: req/s, CPU per accept by process group (bench/cpu.py), WAL per accept.
#
#   bench/audit-ab.sh
#
# Knobs: AB_PAIRS (3), AB_SECONDS (10), AB_CLIENTS (32), AB_DIR (target/audit-ab),
# AB_DHIS2GW (target/release/dhis2gw). Ports: PostgreSQL 55853, Redis 56853, dhis2gw 19855,
# the minimal answerer 19858 (packaging/scale-out.sh's: do not run both at once).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${AB_DIR:-$here/target/audit-ab}
pairs=${AB_PAIRS:-3}
seconds=${AB_SECONDS:-10}
clients=${AB_CLIENTS:-32}
gw=${AB_DHIS2GW:-$here/target/release/dhis2gw}
sim="$here/target/release/examples/bench-sim"
pg_port=55853 redis_port=56853 gw_port=19855 answerer_port=19858

say() { echo "audit-ab: $*" >&2; }
# shellcheck source=packaging/engines.sh
. "$here/packaging/engines.sh"
command -v oha >/dev/null || { say "oha missing: cargo install oha --locked"; exit 1; }
[ -x "$gw" ] || { say "no release build at $gw"; exit 1; }
[ -x "$sim" ] || (cd "$here" && cargo build --release --quiet -p dhis2-sim --example bench-sim)
sql() { command psql -qtA -h 127.0.0.1 -p "$pg_port" -U bench -d bench -c "$1"; }

pids=()
gw_pid=""
cleanup() {
  for pid in $gw_pid "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  redis_stop "$redis_port"
  pg_stop "$work/pg"
}
trap cleanup EXIT
cleanup
rm -rf "$work" && mkdir -p "$work"
pg_init "$work/pg" bench
# Stock durability, as bench/run.sh.
pg_start "$work/pg" "$pg_port" -c max_connections=300 -c shared_buffers=256MB
pg_new_database "$pg_port" bench
redis_start "$redis_port"
redis_pid=$(redis_pid "$redis_port")
"$sim" --listen "127.0.0.1:$answerer_port" --minimal >"$work/answerer.log" 2>&1 & pids+=($!)
answerer_pid=$!

cat >"$work/dhis2gw.yml" <<EOF
database: {uri: "postgres://bench@127.0.0.1:$pg_port/bench", pool_size: 48}
server: {host: 127.0.0.1, http_port: $gw_port, redis_address: "redis://127.0.0.1:$redis_port",
  queue_prefix: bench, max_concurrent: 32, rate_limit_per_second: 1, shutdown_grace_secs: 2}
api: {dhis2_base_url: "http://127.0.0.1:$answerer_port", dhis2_user: admin, dhis2_password: district}
auth: {jwt_secret: bench-jwt-secret-0123456789abcdef, access_token_ttl_secs: 3600}
http: {request_timeout_secs: 60, audit_keep_days: 30}
log: {level: warn}
EOF
"$gw" --config-file "$work/dhis2gw.yml" serve >>"$work/dhis2gw.log" 2>&1 & gw_pid=$!
gw_wait_ready "$gw_port" "$work/dhis2gw.log"
sql "INSERT INTO dhis2_mappings (code, what, name, dataelement, category_option_combo) VALUES
  ('MAL_SUSP','de','MAL_SUSP','gLEO1XbX0ii',NULL), ('MAL_TESTED','de','MAL_TESTED','mxMvRmuC81k',NULL),
  ('MAL_CONF_F_LT5','de','MAL_CONF_F_LT5','rPRf4cXHEIx','uEnSlE7fIwv')" >/dev/null
token=$(gw_submitter "$work/dhis2gw.yml" "$gw_port" bench-submitter-pw)
body='{"orgUnit":"KFZHpp8BEUA","orgUnitName":"Moyamba Central CHC","period":"202401","dataSet":"S6zKJrYKAzR","dataValues":{"MAL_SUSP":1000000,"MAL_TESTED":12,"MAL_CONF_F_LT5":"7"}}'

audit() { # $1 = days to keep (0: off); SIGHUP applies it to the running process
  sed -i "s/audit_keep_days: [0-9]*/audit_keep_days: $1/" "$work/dhis2gw.yml"
  kill -HUP "$gw_pid"; sleep 1
}
run() { # $1 = label; prints req/s, CPU per accept, WAL per accept, audit rows written
  local ok rps wal0 wal1 rows0 rows1
  rows0=$(sql "SELECT count(*) FROM request_audit")
  wal0=$(sql "SELECT pg_current_wal_lsn()")
  "$here/bench/cpu.py" snapshot "$gw_pid" "$work/pg" "$redis_pid" "$answerer_pid" >"$work/cpu-start.json"
  read -r rps ok <<<"$(oha --no-tui --output-format json -c "$clients" -z "${seconds}s" -m POST \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$body" \
    "http://127.0.0.1:$gw_port/api/v2/aggregate" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%.0f %d" % (r["summary"]["requestsPerSec"], r["statusCodeDistribution"].get("200", 0)))')"
  "$here/bench/cpu.py" snapshot "$gw_pid" "$work/pg" "$redis_pid" "$answerer_pid" >"$work/cpu-end.json"
  wal1=$(sql "SELECT pg_current_wal_lsn()")
  sleep 1 # the audit writer's last batch
  rows1=$(sql "SELECT count(*) FROM request_audit")
  echo "$1: $rps req/s ($ok accepted); audit rows $((rows1 - rows0));" \
    "WAL $(sql "SELECT round(pg_wal_lsn_diff('$wal1', '$wal0') / $ok)") B per accept"
  echo "    CPU per accept (µs): $("$here/bench/cpu.py" per "$ok" "$work/cpu-start.json" "$work/cpu-end.json")"
}

say "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
oha --no-tui -c "$clients" -z 3s -m POST -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$gw_port/api/v2/aggregate" >/dev/null
for i in $(seq 1 "$pairs"); do
  audit 30; run "audit on "
  audit 0; run "audit off"
done
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
