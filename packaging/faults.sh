#!/usr/bin/env bash
# Faults under load, each with figures (docs/reliability.md). One PostgreSQL, one Redis, a
# counting DHIS2 stand-in (packaging/faults_load.py) and `dhis2gw serve`, all private to this
# script; then, per scenario, FAULTS_SECONDS of aggregate submissions from FAULTS_CLIENTS clients
# with the fault a third of the way in, 2 s more of load once the fault is over, a wait until
# every accepted submission is settled, and one line: requests, accepted, delivered, lost,
# duplicated, the answers other than 200 and how long they lasted. The script fails if a
# scenario loses a submission, delivers one twice (beyond the jobs a kill -9 cuts short),
# answers anything but what its fault explains (see `rules`), refuses a request once the fault
# is over, if the daemon panics, or if a SIGTERM drain outlasts server.shutdown_grace_secs.
#
#   packaging/faults.sh                       # every scenario (about 5 minutes)
#   packaging/faults.sh redis_flushall pg_restart   # some of them
#
# Knobs: FAULTS_SECONDS (12), FAULTS_CLIENTS (4), FAULTS_DIR (target/faults), and the ports:
# FAULTS_PG_PORT (25842), FAULTS_REDIS_PORT (26842), FAULTS_DHIS2_PORT (19842), FAULTS_GW_PORT
# (19843), for a second run beside another (with another FAULTS_DIR). The ports are below the
# kernel's ephemeral range (32768-60999), so no port 0 listener (the test suite's, schemathesis's
# daemon) or outgoing connection can hold them, and apart from packaging/test.sh's (55433,
# 56380) and packaging/schemathesis.sh's (56533, 57480). Installs postgresql, redis-server,
# curl and python3 with apt-get when missing. Needs root for the size-limited tmpfs of the
# disk-full scenario (skipped, and said so, without it).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=$(realpath -m "${FAULTS_DIR:-$here/target/faults}")
seconds=${FAULTS_SECONDS:-12}
clients=${FAULTS_CLIENTS:-4}
pg_port=${FAULTS_PG_PORT:-25842} redis_port=${FAULTS_REDIS_PORT:-26842}
dhis2_port=${FAULTS_DHIS2_PORT:-19842} gw_port=${FAULTS_GW_PORT:-19843}
load="$here/packaging/faults_load.py"
all="redis_restart redis_flushall redis_client_kill redis_full pg_restart pg_connection_limit
pg_statement_timeout pg_disk_full daemon_kill9_loop daemon_sigterm_long_call daemon_sigterm_redis_away
daemon_sighup_under_load"
scenarios=${*:-$all}
for name in $scenarios; do
  case " $(echo $all) " in *" $name "*) ;; *) echo "faults: no scenario $name (one of: $(echo $all))" >&2; exit 2 ;; esac
done

# The daemon's settings that the rules below depend on.
grace=5 max_concurrent=5 kills=5
# Jobs one instance leases at once: server.max_concurrent times JOBS_PER_CALL.
jobs_per_call=$(sed -n 's/^pub const JOBS_PER_CALL: usize = \([0-9]*\);/\1/p' "$here/src/submissions/mod.rs")
[ -n "$jobs_per_call" ] || { echo "faults: JOBS_PER_CALL not found in src/submissions/mod.rs" >&2; exit 2; }

# How many duplicated deliveries each scenario may make, and what it may answer besides 200
# (503: with Retry-After; conn: no HTTP answer at all). Everything else is a defect.
# - Redis is not on the accept path (a submission is committed to PostgreSQL before the answer),
#   and a reload must not fail a request: nothing but 200, nothing twice.
# - PostgreSQL away is a 503 with Retry-After; nothing is delivered twice, since every record
#   of a delivery waits out the outage (RECORD_PATIENCE, 60 s) before it gives the job back.
# - kill -9: no answer while the daemon is down, 503 while the next one starts. A duplicate is
#   a delivery DHIS2 received whose record the kill cut off: only a leased job can be one, so
#   at most the jobs leased at once (max_concurrent x JOBS_PER_CALL) per kill.
# - SIGTERM: no answer while the daemon is stopped; the drain lets the calls in flight end and
#   gives back the jobs that have not started theirs, so nothing is delivered twice. With Redis
#   away the jobs cannot be given back: their leases expire and the next daemon finds them
#   recorded in PostgreSQL, so nothing is delivered twice either.
rules() {
  case "$1" in
    redis_*|daemon_sighup_under_load) echo "0" ;;
    pg_*) echo "0 503" ;;
    daemon_kill9_loop) echo "$((kills * max_concurrent * jobs_per_call)) 503,conn" ;;
    daemon_sigterm_*) echo "0 503,conn" ;;
  esac
}

say() { echo "faults: $*" >&2; }

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing $* with apt-get"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 \
    || { $sudo apt-get update -q >&2 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2; }
}
find_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true; }
pg_bin=$(find_pg_bin)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then apt_install postgresql; pg_bin=$(find_pg_bin); fi
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || apt_install redis-server
command -v curl >/dev/null || apt_install curl
command -v python3 >/dev/null || apt_install python3

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@" 9>&-; else "$@" 9>&-; fi; }
psql_as() { "$pg_bin/psql" -qtA -h 127.0.0.1 -p "$pg_port" -U dhis2gw "$@"; }
sql() { psql_as -d dhis2gw -c "$1"; }
rcli() { redis-cli -p "$redis_port" "$@"; }

gw="$here/target/debug/dhis2gw"
[ -x "$gw" ] || (cd "$here" && cargo build --quiet -p dhis2gw --bin dhis2gw)

# One run per FAULTS_DIR at a time. The lock's descriptor (9) is closed for every service
# started below, so that what a run killed outright leaves behind does not hold the lock.
mkdir -p "$(dirname "$work")"
exec 9>"$work.lock"
flock -n 9 || { say "another run is using $work"; exit 1; }

# Everything this script starts is stopped on any exit (a failed scenario, an error, Ctrl-C, a
# CI timeout's SIGTERM), including what a run killed outright left behind: only processes whose
# command line names $work, the Redis whose directory is $work, the PostgreSQL of $work/pg.
gw_pid="" dhis2_pid="" load_pid=""
ours() { [ -n "$1" ] && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF "$work/"; }
stop_ours() {
  local pid
  for pid in "$@"; do
    if ours "$pid"; then kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi
  done
}
our_redis() { [ "$(rcli config get dir 2>/dev/null | sed -n 2p)" = "$work" ]; }
cleanup() {
  stop_ours "$load_pid" "$gw_pid" "$dhis2_pid" $(cat "$work"/*.pid 2>/dev/null || true)
  if our_redis; then rcli shutdown nosave >/dev/null 2>&1 || true; fi
  if [ -f "$work/pg/PG_VERSION" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if mountpoint -q "$work/tiny" 2>/dev/null; then umount "$work/tiny" 2>/dev/null || umount -l "$work/tiny" || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cleanup

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$pg_port" "$redis_port" "$dhis2_port" "$gw_port"; do
  if listening "$port"; then
    say "port $port is taken by another program; choose others with FAULTS_*_PORT"
    exit 1
  fi
done

rm -rf "$work" && mkdir -p "$work/pg"
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL runs as `postgres`, which must be able to reach $work.
  d=""
  for part in $(echo "${work#/}" | tr / ' '); do
    d="$d/$part"
    runuser -u postgres -- test -x "$d" 2>/dev/null || { chmod o+x "$d"; say "gave others search permission (o+x) on $d"; }
  done
  chown postgres "$work" "$work/pg"
fi

as_pg "$pg_bin/initdb" -D "$work/pg" -U dhis2gw --auth=trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log"
start_pg() {
  as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" >/dev/null
}
start_pg
psql_as -d postgres -c "CREATE ROLE gw LOGIN" -c "CREATE DATABASE dhis2gw OWNER gw"
start_redis() {
  redis-server --daemonize yes --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$work" --logfile "$work/redis.log" --pidfile "$work/redis.pid" >/dev/null 9>&-
  for _ in $(seq 1 50); do rcli ping >/dev/null 2>&1 && return; sleep 0.1; done
  say "Redis did not start"; exit 1
}
start_redis

# The daemon connects as `gw`, not a superuser, so that a role's connection limit and settings
# apply to it.
write_config() {
  cat >"$work/dhis2gw.yml" <<EOF
database: {uri: "postgres://gw@127.0.0.1:$pg_port/dhis2gw", connect_timeout_secs: 2}
server: {host: 127.0.0.1, http_port: $gw_port, redis_address: "redis://127.0.0.1:$redis_port",
  queue_prefix: faults, shutdown_grace_secs: $grace, max_concurrent: $max_concurrent,
  retry_backoff_base_ms: 200, retry_backoff_cap_ms: 2000}
api: {dhis2_base_url: "http://127.0.0.1:$dhis2_port", dhis2_user: admin, dhis2_password: district}
auth: {jwt_secret: faults-jwt-secret-0123456789abcdef, access_token_ttl_secs: 3600}
log: {level: $1}
EOF
}
write_config warn
start_gw() {
  "$gw" --config-file "$work/dhis2gw.yml" serve >>"$work/dhis2gw.log" 2>&1 9>&- &
  gw_pid=$!
  echo "$gw_pid" >"$work/gw.pid"
  for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$gw_port/ready" && return; sleep 0.1; done
  say "dhis2gw not ready after 30 s"; tail -20 "$work/dhis2gw.log"; exit 1
}
# Waits at most $1 seconds for the daemon to exit (kills it then) and reaps it.
wait_gw_exit() {
  for _ in $(seq 1 $(($1 * 10))); do
    [ "$(cut -d' ' -f3 "/proc/$gw_pid/stat" 2>/dev/null || echo Z)" = Z ] && break
    sleep 0.1
  done
  kill -9 "$gw_pid" 2>/dev/null || true
  wait "$gw_pid" 2>/dev/null || true
}
start_gw
sql "INSERT INTO dhis2_mappings (code, what, name, dataelement) VALUES ('MAL_SUSP','de','MAL_SUSP','gLEO1XbX0ii')" >/dev/null
echo "faults-pw-0123" | "$gw" --config-file "$work/dhis2gw.yml" user add loader --role submitter >/dev/null
token=$(curl -sf "http://127.0.0.1:$gw_port/api/v2/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"loader","password":"faults-pw-0123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# Disk full: every table and index of the database on a 64 MB tmpfs tablespace, filled up
# during the fault.
tiny=""
if [ "$(id -u)" -eq 0 ] && mkdir -p "$work/tiny" && mount -t tmpfs -o size=64m tmpfs "$work/tiny" 2>/dev/null; then
  tiny="$work/tiny"
  mkdir "$tiny/ts" && chown postgres "$tiny/ts"
  psql_as -d postgres -c "CREATE TABLESPACE tiny LOCATION '$tiny/ts'"
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
  for _ in $(seq 1 "$kills"); do
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 1.2), 2))')"
    kill -9 "$gw_pid"; wait "$gw_pid" 2>/dev/null || true
    start_gw
  done
  extra="$kills kills"
}
# SIGTERM, then waits for the daemon to exit; the seconds it took are left in $took. Fails the
# run ($1 names the scenario) unless it exited in less than $2 seconds.
sigterm_within() {
  local t0 t1; t0=$(date +%s.%N)
  kill -TERM "$gw_pid"
  wait_gw_exit $((grace * 3))
  t1=$(date +%s.%N)
  took=$(python3 -c "print('%.1f' % ($t1 - $t0))")
  if ! python3 -c "import sys; sys.exit(0 if $t1 - $t0 < $2 else 1)"; then
    say "$1: stopping took $took s, not less than $2 s"
    status=1
  fi
}
# The calls in flight take 3 s: a drain that reaches the grace deadline cut something short.
daemon_sigterm_long_call() {
  echo 3 >"$work/dhis2-delay"
  sleep 1
  sigterm_within daemon_sigterm_long_call "$grace"
  echo 0 >"$work/dhis2-delay"
  extra="stopped $took s after SIGTERM (server.shutdown_grace_secs $grace)"
  start_gw
}
# Redis gone, then SIGTERM: the daemon must still stop in time (it once retried its last
# settles for 12 s past the grace, then waited for ever for the QUIT it sends last): the grace,
# which counts from the SIGTERM, plus the QUIT's 1 s and 1 s of scheduling.
daemon_sigterm_redis_away() {
  rcli shutdown nosave >/dev/null 2>&1 || true
  sleep 1
  sigterm_within daemon_sigterm_redis_away $((grace + 2))
  extra="stopped $took s after SIGTERM with Redis away (server.shutdown_grace_secs $grace)"
  start_redis
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
  python3 "$load" dhis2 "$dhis2_port" "$work/dhis2-delay" 9>&- & dhis2_pid=$!
  echo "$dhis2_pid" >"$work/dhis2.pid"
  for _ in $(seq 1 50); do listening "$dhis2_port" && break; sleep 0.1; done
  extra=""
  python3 "$load" load "$work/$name.json" "http://127.0.0.1:$gw_port" "$token" "$seconds" "$clients" 9>&- &
  load_pid=$!
  echo "$load_pid" >"$work/load.pid"
  sleep $((seconds / 3))
  "$name"
  wait "$load_pid"
  # The fault is over: 2 s more of load, every request of which must be accepted.
  python3 "$load" load "$work/$name.after.json" "http://127.0.0.1:$gw_port" "$token" 2 "$clients" 10000000
  settled=""
  for _ in $(seq 1 240); do
    [ "$(sql 'SELECT count(*) FROM submission_open' 2>/dev/null)" = 0 ] && { settled=1; break; }
    sleep 0.5
  done
  [ -n "$settled" ] || { say "$name: submissions still open after 120 s"; status=1; }
  read -r max_duplicated allowed <<<"$(rules "$name")"
  python3 "$load" check "$name" "$work/$name.json" "$work/$name.after.json" "$dhis2_port" \
    "$allowed" "$max_duplicated" | sed "1s|\$|${extra:+  ($extra)}|" || status=1
  kill "$dhis2_pid" 2>/dev/null; wait "$dhis2_pid" 2>/dev/null || true; dhis2_pid=""
  # Every submission is settled: start the next scenario from empty tables (the disk-full one
  # needs room on its 64 MB tablespace).
  sql "TRUNCATE submission_log CASCADE" >/dev/null
done
if grep -q "panicked" "$work/dhis2gw.log"; then say "the daemon panicked:"; grep "panicked" "$work/dhis2gw.log"; status=1; fi
exit $status
