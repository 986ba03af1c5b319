#!/usr/bin/env bash
# Redis Sentinel failover under load (run by hand; about 2 minutes; prints figures, see
# docs/operations.md). One master and one replica, three sentinels (quorum 2), all on loopback
# ports; dhis2gw finds the master through the sentinels (server.redis_sentinels). Submissions are
# POSTed for FAILOVER_SECONDS; a quarter of the way in `SENTINEL FAILOVER` swaps master and
# replica, at half way the master of the moment is killed with -9 and the sentinels promote the
# other. Then every accepted submission must reach the DHIS2 stand-in (packaging/failover_load.py).
# Redis replication is asynchronous, so the kill can lose the last writes: the reconciler rebuilds
# the queue from the PostgreSQL log (the script says how many rows waited for it, and wakes it
# with NOTIFY dhis2gw_reconcile if some are still open after FAILOVER_SETTLE seconds).
#
#   packaging/failover-redis-sentinel.sh
#
# Knobs: FAILOVER_SECONDS (40), FAILOVER_CLIENTS (8), FAILOVER_SETTLE (30),
# FAILOVER_DIR (target/failover-redis). Ports: Redis 56851 and 56852, sentinels 26850-26852,
# PostgreSQL 55852, DHIS2 stand-in 19852, dhis2gw 19853.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${FAILOVER_DIR:-$here/target/failover-redis}
seconds=${FAILOVER_SECONDS:-40}
clients=${FAILOVER_CLIENTS:-8}
settle=${FAILOVER_SETTLE:-30}
redis_a=56851 redis_b=56852 sentinels=(26850 26851 26852) pg_port=55852 dhis2_port=19852 gw_port=19853
load="$here/packaging/failover_load.py"

say() { echo "failover-redis-sentinel: $*" >&2; }
# shellcheck source=packaging/engines.sh
. "$here/packaging/engines.sh"
sql() { command psql -qtA -h 127.0.0.1 -p "$pg_port" -U dhis2gw -d dhis2gw -c "$1"; }
master_port() { redis-cli -p "${sentinels[0]}" SENTINEL get-master-addr-by-name gw | tail -n 1; }

say "building dhis2gw"
(cd "$here" && cargo build --quiet -p dhis2gw --bin dhis2gw)
gw="$here/target/debug/dhis2gw"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  redis_stop "$redis_a" "$redis_b" "${sentinels[@]}"
  pg_stop "$work/pg"
}
trap cleanup EXIT
cleanup
rm -rf "$work" && mkdir -p "$work"

say "PostgreSQL on $pg_port; Redis master $redis_a, replica $redis_b; sentinels ${sentinels[*]}"
pg_init "$work/pg" dhis2gw
pg_start "$work/pg" "$pg_port"
pg_new_database "$pg_port" dhis2gw
redis_start "$redis_a"
redis_start "$redis_b" --replicaof 127.0.0.1 "$redis_a"
for port in "${sentinels[@]}"; do
  cat >"$work/sentinel-$port.conf" <<EOF
port $port
bind 127.0.0.1
daemonize yes
logfile $work/sentinel-$port.log
dir $work
sentinel monitor gw 127.0.0.1 $redis_a 2
sentinel down-after-milliseconds gw 2000
sentinel failover-timeout gw 10000
sentinel parallel-syncs gw 1
EOF
  redis-server "$work/sentinel-$port.conf" --sentinel >/dev/null
done
for _ in $(seq 1 50); do
  [ "$(redis-cli -p "${sentinels[0]}" SENTINEL sentinels gw 2>/dev/null | grep -c '^ip$')" -ge 2 ] && break
  sleep 0.2
done
python3 "$load" dhis2 "$dhis2_port" & pids+=($!)

cat >"$work/dhis2gw.yml" <<EOF
database: {uri: "postgres://dhis2gw@127.0.0.1:$pg_port/dhis2gw", connect_timeout_secs: 2}
server:
  host: 127.0.0.1
  http_port: $gw_port
  redis_address: "redis://127.0.0.1:$redis_a"
  redis_sentinels: ["127.0.0.1:${sentinels[0]}", "127.0.0.1:${sentinels[1]}", "127.0.0.1:${sentinels[2]}"]
  redis_sentinel_master: gw
  queue_prefix: failover
  shutdown_grace_secs: 2
  retry_backoff_base_ms: 200
  retry_backoff_cap_ms: 2000
api: {dhis2_base_url: "http://127.0.0.1:$dhis2_port", dhis2_user: admin, dhis2_password: district}
auth: {jwt_secret: failover-jwt-secret-0123456789abcdef, access_token_ttl_secs: 3600}
log: {level: warn}
EOF
"$gw" --config-file "$work/dhis2gw.yml" serve >>"$work/dhis2gw.log" 2>&1 & pids+=($!)
gw_wait_ready "$gw_port" "$work/dhis2gw.log"
sql "INSERT INTO dhis2_mappings (code, what, name, dataelement) VALUES ('MAL_SUSP','de','MAL_SUSP','gLEO1XbX0ii')"
token=$(gw_submitter "$work/dhis2gw.yml" "$gw_port" failover-pw)

say "load: $clients clients for $seconds s; SENTINEL FAILOVER at $((seconds / 4)) s, master killed at $((seconds / 2)) s"
python3 "$load" load "$work/results.json" "http://127.0.0.1:$gw_port" "$token" "$seconds" "$clients" & load_pid=$!
sleep $((seconds / 4))
echo "master before: $(master_port); SENTINEL FAILOVER: $(redis-cli -p "${sentinels[0]}" SENTINEL FAILOVER gw)"
sleep $((seconds / 4))
victim=$(master_port)
victim_pid=$(redis-cli -p "$victim" info server | tr -d '\r' | awk -F: '/^process_id/ {print $2}')
kill -9 "$victim_pid"
echo "master after the failover: $victim, killed (-9)"
wait "$load_pid"
echo "master at the end: $(master_port)"

say "waiting for the deliveries (at most $settle s)"
for _ in $(seq 1 $((settle * 2))); do [ "$(sql 'SELECT count(*) FROM submission_open')" = 0 ] && break; sleep 0.5; done
open=$(sql 'SELECT count(*) FROM submission_open')
echo "open after $settle s: $open"
if [ "$open" != 0 ]; then
  say "waking the reconciler (NOTIFY dhis2gw_reconcile) for the $open rows Redis lost"
  sql "NOTIFY dhis2gw_reconcile"
  for _ in $(seq 1 120); do [ "$(sql 'SELECT count(*) FROM submission_open')" = 0 ] && break; sleep 0.5; done
  echo "open after the reconciler: $(sql 'SELECT count(*) FROM submission_open')"
fi
echo "log: $(sql "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM submission_log GROUP BY 1 ORDER BY 1) s")"
python3 "$load" report "$work/results.json" "$dhis2_port"
