#!/usr/bin/env bash
# PostgreSQL failover under load (run by hand; about 2 minutes; prints figures, see
# docs/operations.md). A primary and a streaming standby made with pg_basebackup, both on
# loopback ports; dhis2gw given both hosts in database.uri with target_session_attrs=read-write;
# submissions POSTed for FAILOVER_SECONDS; the primary is stopped (immediate: as if it crashed)
# a third of the way in and the standby promoted FAILOVER_PROMOTE_AFTER seconds later. Then
# every accepted submission must reach the DHIS2 stand-in (packaging/failover_load.py), and
# accept must have answered only 200 or 503 (with Retry-After), never another 5xx.
#
#   packaging/failover-pg.sh
#
# Knobs: FAILOVER_SECONDS (30), FAILOVER_CLIENTS (8), FAILOVER_PROMOTE_AFTER (3),
# FAILOVER_DIR (target/failover-pg). Ports: PostgreSQL 55850 (primary) and 55851 (standby),
# Redis 56850, DHIS2 stand-in 19850, dhis2gw 19851.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${FAILOVER_DIR:-$here/target/failover-pg}
seconds=${FAILOVER_SECONDS:-30}
clients=${FAILOVER_CLIENTS:-8}
promote_after=${FAILOVER_PROMOTE_AFTER:-3}
primary=55850 standby=55851 redis_port=56850 dhis2_port=19850 gw_port=19851
load="$here/packaging/failover_load.py"

say() { echo "failover-pg: $*" >&2; }
# shellcheck source=packaging/engines.sh
. "$here/packaging/engines.sh"
psql_at() { local port=$1; shift; command psql -qtA -h 127.0.0.1 -p "$port" -U dhis2gw "$@"; }

say "building dhis2gw"
(cd "$here" && cargo build --quiet -p dhis2gw --bin dhis2gw)
gw="$here/target/debug/dhis2gw"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  redis_stop "$redis_port"
  pg_stop "$work/primary" "$work/standby"
}
trap cleanup EXIT
cleanup
rm -rf "$work" && mkdir -p "$work"

say "primary on $primary, streaming standby on $standby (pg_basebackup)"
pg_init "$work/primary" dhis2gw
opts=(-c wal_level=replica -c max_wal_senders=4 -c hot_standby=on)
pg_start "$work/primary" "$primary" "${opts[@]}"
pg_new_database "$primary" dhis2gw
as_pg "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$primary" -U dhis2gw -D "$work/standby" -R -X stream
pg_start "$work/standby" "$standby" "${opts[@]}"
[ "$(psql_at "$standby" -d dhis2gw -c 'SELECT pg_is_in_recovery()')" = t ] || { say "standby is not in recovery"; exit 1; }

redis_start "$redis_port"
python3 "$load" dhis2 "$dhis2_port" & pids+=($!)

cat >"$work/dhis2gw.yml" <<EOF
database:
  uri: "postgres://dhis2gw@127.0.0.1:$primary,127.0.0.1:$standby/dhis2gw?target_session_attrs=read-write"
  connect_timeout_secs: 2
server: {host: 127.0.0.1, http_port: $gw_port, redis_address: "redis://127.0.0.1:$redis_port",
  queue_prefix: failover, shutdown_grace_secs: 2, retry_backoff_base_ms: 200, retry_backoff_cap_ms: 2000}
api: {dhis2_base_url: "http://127.0.0.1:$dhis2_port", dhis2_user: admin, dhis2_password: district}
auth: {jwt_secret: failover-jwt-secret-0123456789abcdef, access_token_ttl_secs: 3600}
log: {level: warn}
EOF
"$gw" --config-file "$work/dhis2gw.yml" serve >>"$work/dhis2gw.log" 2>&1 & pids+=($!)
gw_wait_ready "$gw_port" "$work/dhis2gw.log"
psql_at "$primary" -d dhis2gw -c "INSERT INTO dhis2_mappings (code, what, name, dataelement) VALUES ('MAL_SUSP','de','MAL_SUSP','gLEO1XbX0ii')"
token=$(gw_submitter "$work/dhis2gw.yml" "$gw_port" failover-pw)

say "load: $clients clients for $seconds s; primary stopped at $((seconds / 3)) s, standby promoted $promote_after s later"
python3 "$load" load "$work/results.json" "http://127.0.0.1:$gw_port" "$token" "$seconds" "$clients" & load_pid=$!
sleep $((seconds / 3))
as_pg "$pg_bin/pg_ctl" -D "$work/primary" -m immediate -w stop >/dev/null
stopped=$(date +%s.%N)
sleep "$promote_after"
as_pg "$pg_bin/pg_ctl" -D "$work/standby" -w promote >/dev/null
promoted=$(date +%s.%N)
wait "$load_pid"

say "waiting for the deliveries (at most 120 s)"
for _ in $(seq 1 240); do
  [ "$(psql_at "$standby" -d dhis2gw -c 'SELECT count(*) FROM submission_open')" = 0 ] && break
  sleep 0.5
done
echo "primary stopped at $stopped, standby promoted $(python3 -c "print('%.1f' % ($promoted - $stopped))") s later"
echo "log: $(psql_at "$standby" -d dhis2gw -c "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM submission_log GROUP BY 1 ORDER BY 1) s")"
python3 "$load" report "$work/results.json" "$dhis2_port"
