#!/usr/bin/env bash
# Faults under load, each with figures (docs/reliability.md). One PostgreSQL, one Redis, a
# counting DHIS2 stand-in (packaging/faults_load.py) and `dhis2gw serve`, all private to this
# script; then, per scenario, FAULTS_SECONDS of aggregate submissions from FAULTS_CLIENTS clients
# with the fault a third of the way in, a wait until every accepted submission is settled, and
# one line: requests, accepted, delivered, lost, duplicated, the answers other than 200 and how
# long they lasted. The script fails if any scenario lost a submission, delivered one twice
# beyond the calls in flight at a kill, or answered a 5xx other than 503.
#
#   packaging/faults.sh                       # every scenario (about 5 minutes)
#   packaging/faults.sh redis_flushall pg_restart   # some of them
#
# Knobs: FAULTS_SECONDS (12), FAULTS_CLIENTS (4), FAULTS_DIR (target/faults). Ports: PostgreSQL
# 55842, Redis 56842, DHIS2 stand-in 19842, dhis2gw 19843 (FAULTS_PG_PORT, FAULTS_REDIS_PORT,
# FAULTS_DHIS2_PORT, FAULTS_GW_PORT, for a second run beside another). Needs root for the size-limited tmpfs
# of the disk-full scenario (skipped, and said so, without it).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${FAULTS_DIR:-$here/target/faults}
seconds=${FAULTS_SECONDS:-12}
clients=${FAULTS_CLIENTS:-4}
pg_port=${FAULTS_PG_PORT:-55842} redis_port=${FAULTS_REDIS_PORT:-56842}
dhis2_port=${FAULTS_DHIS2_PORT:-19842} gw_port=${FAULTS_GW_PORT:-19843}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
load="$here/packaging/faults_load.py"
all="redis_restart redis_flushall redis_client_kill redis_full pg_restart pg_connection_limit
pg_statement_timeout pg_disk_full daemon_kill9_loop daemon_sigterm_long_call daemon_sighup_under_load"
scenarios=${*:-$all}

say() { echo "faults: $*" >&2; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
sql() { command psql -qtA -h 127.0.0.1 -p "$pg_port" -U dhis2gw -d dhis2gw -c "$1"; }
rcli() { redis-cli -p "$redis_port" "$@"; }

gw="$here/target/debug/dhis2gw"
[ -x "$gw" ] || (cd "$here" && cargo build --quiet -p dhis2gw --bin dhis2gw)

gw_pid="" dhis2_pid="" tiny=""
cleanup() {
  [ -n "$gw_pid" ] && kill -9 "$gw_pid" 2>/dev/null || true
  [ -n "$dhis2_pid" ] && kill "$dhis2_pid" 2>/dev/null || true
  rcli shutdown nosave >/dev/null 2>&1 || true
  as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m immediate -w stop >/dev/null 2>&1 || true
  if [ -n "$tiny" ] && mountpoint -q "$tiny"; then umount "$tiny" || true; fi
}
trap cleanup EXIT
cleanup
rm -rf "$work" && mkdir -p "$work/pg"
[ "$(id -u)" -ne 0 ] || chown postgres "$work" "$work/pg"

as_pg "$pg_bin/initdb" -D "$work/pg" -U dhis2gw --auth=trust >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" >/dev/null
command psql -qtA -h 127.0.0.1 -p "$pg_port" -U dhis2gw -d postgres \
  -c "CREATE ROLE gw LOGIN" -c "CREATE DATABASE dhis2gw OWNER gw"
start_redis() {
  redis-server --daemonize yes --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$work" --logfile "$work/redis.log" >/dev/null
  for _ in $(seq 1 50); do rcli ping >/dev/null 2>&1 && return; sleep 0.1; done
}
start_redis

# The daemon connects as `gw`, not a superuser, so that a role's connection limit and settings
# apply to it.
write_config() {
  cat >"$work/dhis2gw.yml" <<EOF
database: {uri: "postgres://gw@127.0.0.1:$pg_port/dhis2gw", connect_timeout_secs: 2}
server: {host: 127.0.0.1, http_port: $gw_port, redis_address: "redis://127.0.0.1:$redis_port",
  queue_prefix: faults, shutdown_grace_secs: 5, retry_backoff_base_ms: 200, retry_backoff_cap_ms: 2000}
api: {dhis2_base_url: "http://127.0.0.1:$dhis2_port", dhis2_user: admin, dhis2_password: district}
auth: {jwt_secret: faults-jwt-secret-0123456789abcdef, access_token_ttl_secs: 3600}
log: {level: $1}
EOF
}
write_config warn
start_gw() {
  "$gw" --config-file "$work/dhis2gw.yml" serve >>"$work/dhis2gw.log" 2>&1 &
  gw_pid=$!
  for _ in $(seq 1 150); do curl -sf -o /dev/null "http://127.0.0.1:$gw_port/ready" && return; sleep 0.1; done
  say "dhis2gw not ready"; tail -20 "$work/dhis2gw.log"; exit 1
}
start_gw
sql "INSERT INTO dhis2_mappings (code, what, name, dataelement) VALUES ('MAL_SUSP','de','MAL_SUSP','gLEO1XbX0ii')"
echo "faults-pw-0123" | "$gw" --config-file "$work/dhis2gw.yml" user add loader --role submitter >/dev/null
token=$(curl -sf "http://127.0.0.1:$gw_port/api/v2/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"loader","password":"faults-pw-0123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# Disk full: every table and index of the database on a 64 MB tmpfs tablespace, filled up
# during the fault.
if [ "$(id -u)" -eq 0 ] && mkdir -p "$work/tiny" && mount -t tmpfs -o size=64m tmpfs "$work/tiny" 2>/dev/null; then
  tiny="$work/tiny"
  mkdir "$tiny/ts" && chown postgres "$tiny/ts"
  command psql -qtA -h 127.0.0.1 -p "$pg_port" -U dhis2gw -d postgres -c "CREATE TABLESPACE tiny LOCATION '$tiny/ts'"
  sql "ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE tiny"
  sql "ALTER INDEX ALL IN TABLESPACE pg_default SET TABLESPACE tiny"
fi

terminate_gw_sessions() { sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'gw'" >/dev/null; }

redis_restart() { rcli shutdown nosave >/dev/null 2>&1 || true; sleep 2; start_redis; }
redis_flushall() { rcli flushall >/dev/null; }
redis_client_kill() { rcli client kill type normal >/dev/null; rcli client kill type pubsub >/dev/null; }
redis_full() {
  local used; used=$(rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
  rcli config set maxmemory-policy noeviction >/dev/null
  rcli config set maxmemory "$used" >/dev/null
  sleep 4
  rcli config set maxmemory 0 >/dev/null
}
start_pg() {
  as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" >/dev/null
}
pg_restart() { as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null; start_pg; }
pg_connection_limit() {
  sql "ALTER ROLE gw CONNECTION LIMIT 1" >/dev/null; terminate_gw_sessions
  sleep 4
  sql "ALTER ROLE gw CONNECTION LIMIT -1" >/dev/null
}
pg_statement_timeout() {
  sql "ALTER ROLE gw SET statement_timeout = '1ms'" >/dev/null; terminate_gw_sessions
  sleep 4
  sql "ALTER ROLE gw RESET statement_timeout" >/dev/null; terminate_gw_sessions
}
pg_disk_full() {
  dd if=/dev/zero of="$tiny/filler" bs=1M status=none 2>/dev/null || true
  sleep 4
  rm -f "$tiny/filler"
}
daemon_kill9_loop() {
  for _ in 1 2 3 4 5; do
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 1.2), 2))')"
    kill -9 "$gw_pid"; wait "$gw_pid" 2>/dev/null || true
    start_gw
  done
}
daemon_sigterm_long_call() {
  echo 3 >"$work/dhis2-delay"
  sleep 1
  local t0 t1; t0=$(date +%s.%N)
  kill -TERM "$gw_pid"; wait "$gw_pid" 2>/dev/null || true
  t1=$(date +%s.%N)
  echo 0 >"$work/dhis2-delay"
  extra="stopped $(python3 -c "print('%.1f' % ($t1 - $t0))") s after SIGTERM (server.shutdown_grace_secs 5)"
  start_gw
}
daemon_sighup_under_load() {
  for level in info warn info warn info; do
    write_config "$level"; kill -HUP "$gw_pid"; sleep 1
  done
  extra="5 reloads, log level switched each time"
}

status=0
for name in $scenarios; do
  if [ "$name" = pg_disk_full ] && [ -z "$tiny" ]; then
    echo "$name: skipped (no size-limited tmpfs: needs root and mount)"; continue
  fi
  echo 0 >"$work/dhis2-delay"
  python3 "$load" dhis2 "$dhis2_port" "$work/dhis2-delay" & dhis2_pid=$!
  sleep 0.3
  extra=""
  python3 "$load" load "$work/$name.json" "http://127.0.0.1:$gw_port" "$token" "$seconds" "$clients" & load_pid=$!
  sleep $((seconds / 3))
  "$name"
  wait "$load_pid"
  for _ in $(seq 1 240); do
    [ "$(sql 'SELECT count(*) FROM submission_open' 2>/dev/null)" = 0 ] && break
    sleep 0.5
  done
  line=$(python3 "$load" report "$name" "$work/$name.json" "$dhis2_port")
  echo "$line${extra:+  ($extra)}"
  kill "$dhis2_pid" 2>/dev/null; wait "$dhis2_pid" 2>/dev/null || true; dhis2_pid=""
  case "$line" in *" lost 0 "*) ;; *) status=1 ;; esac
  # Every submission is settled: start the next scenario from empty tables (the disk-full one
  # needs room on its 64 MB tablespace).
  sql "TRUNCATE submission_log CASCADE" >/dev/null
  # A 5xx other than 503 is a defect; a duplicate is allowed only where a kill cut a call short.
  if echo "$line" | grep -Eq '"5(0[0-24-9]|[1-9][0-9])"'; then status=1; fi
  if [ "$name" != daemon_kill9_loop ] && [ "$name" != daemon_sigterm_long_call ] && ! echo "$line" | grep -q "duplicated 0 "; then status=1; fi
done
if grep -q "panicked" "$work/dhis2gw.log"; then say "the daemon panicked:"; grep "panicked" "$work/dhis2gw.log"; status=1; fi
exit $status
