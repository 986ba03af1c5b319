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
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
load="$here/packaging/failover_load.py"

say() { echo "failover-pg: $*" >&2; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
psql_at() { local port=$1; shift; command psql -qtA -h 127.0.0.1 -p "$port" -U dhis2gw "$@"; }

say "building dhis2gw"
(cd "$here" && cargo build --quiet -p dhis2gw --bin dhis2gw)
gw="$here/target/debug/dhis2gw"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  for d in primary standby; do
    as_pg "$pg_bin/pg_ctl" -D "$work/$d" -m immediate -w stop >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
cleanup
rm -rf "$work" && mkdir -p "$work/primary"
[ "$(id -u)" -ne 0 ] || chown postgres "$work" "$work/primary"

say "primary on $primary, streaming standby on $standby (pg_basebackup)"
as_pg "$pg_bin/initdb" -D "$work/primary" -U dhis2gw --auth=trust >/dev/null
opts="-c listen_addresses=127.0.0.1 -c wal_level=replica -c max_wal_senders=4 -c hot_standby=on"
as_pg "$pg_bin/pg_ctl" -D "$work/primary" -l "$work/primary.log" -w start \
  -o "-p $primary -c unix_socket_directories=$work $opts" >/dev/null
psql_at "$primary" -d postgres -c "CREATE DATABASE dhis2gw"
as_pg "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$primary" -U dhis2gw -D "$work/standby" -R -X stream
as_pg "$pg_bin/pg_ctl" -D "$work/standby" -l "$work/standby.log" -w start \
  -o "-p $standby -c unix_socket_directories=$work $opts" >/dev/null
[ "$(psql_at "$standby" -d dhis2gw -c 'SELECT pg_is_in_recovery()')" = t ] || { say "standby is not in recovery"; exit 1; }

redis-server --daemonize yes --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$work" --logfile "$work/redis.log" >/dev/null
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
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$gw_port/ready" && break; sleep 0.2; done
curl -sf -o /dev/null "http://127.0.0.1:$gw_port/ready" || { say "dhis2gw not ready"; tail "$work/dhis2gw.log"; exit 1; }
psql_at "$primary" -d dhis2gw -c "INSERT INTO dhis2_mappings (code, what, name, dataelement) VALUES ('MAL_SUSP','de','MAL_SUSP','gLEO1XbX0ii')"
echo "failover-pw" | "$gw" --config-file "$work/dhis2gw.yml" user add loader --role submitter >/dev/null
token=$(curl -sf "http://127.0.0.1:$gw_port/api/v2/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"loader","password":"failover-pw"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

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
