#!/usr/bin/env bash
# Benchmark of the submission pipeline (prints figures; not a test). See bench/README.md.
#
#   bench/run.sh            # everything, ~5 minutes
#
# Knobs (environment): BENCH_SECONDS (10) per load run, BENCH_MAX_CONCURRENT (32) workers for the
# instant DHIS2, BENCH_SLOW_CONCURRENT (20) workers for the 200 ms DHIS2, BENCH_SLOW_COUNT (3000),
# BENCH_DIR (target/bench), BENCH_DHIS2GW (the dhis2gw binary to measure, e.g. an older build to
# compare with; default: the release build of this tree), BENCH_PG_STATS (set: load
# pg_stat_statements and keep the delivery drain's statements in $BENCH_DIR/statements-delivery.txt),
# BENCH_PG_OPTS (more server settings, e.g. "-c wal_compression=lz4"; the default is stock),
# BENCH_PERF (set: `perf record -a -g` the whole machine during the drain to the minimal answerer,
# into $BENCH_DIR/perf-delivery.data; build with frame pointers and symbols to read dhis2gw's part),
# BENCH_IDLE_SECONDS (5) idle before the footprint's RSS is read.
#
# First lines of the output: the daemon's idle RSS and its ready time (a start with the schema
# current, under the benchmark's configuration), then the pipeline's figures.
#
# Runs its own PostgreSQL cluster with stock durability (fsync and synchronous_commit on; every
# autovacuum run logged, to show its CPU by table), its own Redis, the DHIS2 stand-ins
# (crates/dhis2-sim/examples/bench_sim.rs: a minimal answerer for the instant DHIS2, the full simulator at no and at 200 ms
# latency) and a release build of dhis2gw, all on this machine.
# Load from `oha` (cargo install oha --locked); pgbench runs one INSERT per transaction against
# the same PostgreSQL at the same client counts (two scripts: see "pgbench" below).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-$here/target/bench}
seconds=${BENCH_SECONDS:-10}
max_concurrent=${BENCH_MAX_CONCURRENT:-32}
slow_concurrent=${BENCH_SLOW_CONCURRENT:-20}
slow_count=${BENCH_SLOW_COUNT:-3000}
pg_port=55491 redis_port=56491 sim_port=18091 slow_port=18092 minimal_port=18093 gw_port=19091

say() { echo "bench: $*" >&2; }
command -v oha >/dev/null || { say "oha missing: cargo install oha --locked"; exit 1; }
command -v pgbench >/dev/null || { say "pgbench missing (apt install postgresql-contrib)"; exit 1; }
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

say "building release binaries"
(cd "$here" && cargo build --release --quiet -p dhis2gw --bin dhis2gw && cargo build --release --quiet -p dhis2-sim --example bench-sim)
gw=${BENCH_DHIS2GW:-$here/target/release/dhis2gw}
sim="$here/target/release/examples/bench-sim"

rm -rf "$work" && mkdir -p "$work"
pids=()
cleanup() {
  [ -z "${gw_pid:-}" ] || kill "$gw_pid" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
trap cleanup EXIT

say "PostgreSQL (fsync on) on $pg_port, Redis on $redis_port"
mkdir -p "$work/pg" && [ "$(id -u)" -ne 0 ] || chown postgres "$work/pg" "$work"
as_pg "$pg_bin/initdb" -D "$work/pg" -U bench --auth=trust >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start -o \
  "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work/pg -c max_connections=300 -c shared_buffers=256MB -c log_autovacuum_min_duration=0 ${BENCH_PG_OPTS:-}${BENCH_PG_STATS:+ -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on}" >/dev/null
psql() { command psql -q -h 127.0.0.1 -p "$pg_port" -U bench "$@"; }
psql -d postgres -c "CREATE DATABASE bench" && psql -d postgres -c "CREATE DATABASE pgb"
redis-server --daemonize yes --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$work" --logfile "$work/redis.log" >/dev/null

"$sim" --listen "127.0.0.1:$sim_port" --latency-ms 0 >"$work/sim.log" 2>&1 & pids+=($!)
"$sim" --listen "127.0.0.1:$slow_port" --latency-ms 200 >"$work/slow-sim.log" 2>&1 & pids+=($!)
"$sim" --listen "127.0.0.1:$minimal_port" --minimal >"$work/minimal-sim.log" 2>&1 & pids+=($!); minimal_pid=$!

config() { # $1 = DHIS2 port, $2 = max_concurrent, $3 = rate limit
  cat >"$work/dhis2gw.yml" <<EOF
database: {uri: "postgres://bench@127.0.0.1:$pg_port/bench", pool_size: 48}
server: {host: 127.0.0.1, http_port: $gw_port, redis_address: "redis://127.0.0.1:$redis_port",
  queue_prefix: bench, max_concurrent: $2, rate_limit_per_second: $3, shutdown_grace_secs: 2}
api: {dhis2_base_url: "http://127.0.0.1:$1", dhis2_user: admin, dhis2_password: district, save_response: true}
auth: {jwt_secret: bench-jwt-secret-0123456789abcdef, access_token_ttl_secs: 3600, initial_admin_password: bench-admin-pw}
http: {request_timeout_secs: 60}
log: {level: warn}
EOF
}
gw_pid=""
start_gw() {
  config "$@"
  [ -z "$gw_pid" ] || { kill "$gw_pid"; wait "$gw_pid" 2>/dev/null || true; }
  "$gw" --config-file "$work/dhis2gw.yml" serve >>"$work/dhis2gw.log" 2>&1 & gw_pid=$!
  for _ in $(seq 1 100); do
    kill -0 "$gw_pid" 2>/dev/null || { say "dhis2gw exited"; tail "$work/dhis2gw.log"; exit 1; }
    curl -sf "http://127.0.0.1:$gw_port/health" >/dev/null && return
    sleep 0.1
  done
  say "dhis2gw did not start"; tail "$work/dhis2gw.log"; exit 1
}
reload_rate() { # $1 = rate limit; SIGHUP applies it without a restart
  sed -i "s/rate_limit_per_second: [0-9]*/rate_limit_per_second: $1/" "$work/dhis2gw.yml"
  kill -HUP "$gw_pid"; sleep 0.5
}
sql() { psql -d bench -tAc "$1"; }
redis_pid=$(redis-cli -p "$redis_port" info server | tr -d '\r' | awk -F: '/^process_id/ {print $2}')
# Where a phase's work goes: CPU by process (bench/cpu.py), WAL written, Redis script calls,
# autovacuum and autoanalyze runs that ended in the phase (their CPU is in pg-background).
cpu_snapshot() {
  "$here/bench/cpu.py" snapshot "$gw_pid" "$work/pg" "$redis_pid" "$minimal_pid" >"$work/cpu-$1.json"
  sql "SELECT pg_current_wal_lsn()" >"$work/wal-$1"
  redis-cli -p "$redis_port" info all | tr -d '\r' >"$work/redis-info-$1"
  awk -F'[=,]' '/^cmdstat_evalsha:/ {print $2}' "$work/redis-info-$1" >"$work/redis-$1"
  sql "SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_user_tables" \
    >"$work/autovacuum-$1"
}
cpu_per() { # count, from, to
  local wal calls autovacuum
  autovacuum=$(( $(cat "$work/autovacuum-$3") - $(cat "$work/autovacuum-$2") ))
  wal=$(sql "SELECT pg_wal_lsn_diff('$(cat "$work/wal-$3")', '$(cat "$work/wal-$2")')")
  calls=$(( $(cat "$work/redis-$3") - $(cat "$work/redis-$2") ))
  echo "$("$here/bench/cpu.py" per "$1" "$work/cpu-$2.json" "$work/cpu-$3.json");" \
    "WAL $(( ${wal%.*} / $1 )) B, $(python3 -c "print('%.1f' % ($1 / max($calls, 1)))") per Redis script call, $autovacuum autovacuum runs"
}
# Lifts the rate limit, waits until nothing is open, and prints the delivery rate measured on the
# database's own timestamps: rows completed after the lift / (last completion - the lift). Rows
# claimed before the lift (held at 1/s) count too: they are delivered in the window.
drain_rate() {
  local since
  since=$(sql "SELECT now()")
  reload_rate 0
  # submission_open lists the ids of open rows: a cheap test, where any query on the log's
  # status scans the whole log (no status index) and takes a core from the deliveries.
  # One connection polls (each psql start is a Perl wrapper, a new backend and a few ms of CPU).
  sql "DO \$\$ BEGIN WHILE EXISTS (SELECT 1 FROM submission_open) LOOP PERFORM pg_sleep(0.5); END LOOP; END \$\$" >/dev/null
  sql "SELECT round((count(*) / extract(epoch FROM max(completed_at) - '$since'))::numeric, 1)
       FROM submission_log WHERE completed_at >= '$since'"
}

# The daemon's own weight, printed first: a restart with the schema current (the first start
# applied the migrations), ms from exec to the first 200 from /ready, then RSS after idling.
footprint() {
  local t0 t1 status
  kill "$gw_pid"; wait "$gw_pid" 2>/dev/null || true
  t0=$(date +%s%N)
  "$gw" --config-file "$work/dhis2gw.yml" serve >>"$work/dhis2gw.log" 2>&1 & gw_pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$gw_port/ready"; do
    kill -0 "$gw_pid" 2>/dev/null || { say "dhis2gw exited"; tail "$work/dhis2gw.log"; exit 1; }
    sleep 0.005
  done
  t1=$(date +%s%N)
  sleep "${BENCH_IDLE_SECONDS:-5}"
  status=$(cat "/proc/$gw_pid/status")
  kb() { awk -v k="$1:" '$1 == k {print $2}' <<<"$status"; }
  echo "idle RSS $(python3 -c "print('%.1f' % ($(kb VmRSS) / 1024))") MB (anonymous $(python3 -c "print('%.1f' % ($(kb RssAnon) / 1024))"), file $(python3 -c "print('%.1f' % ($(kb RssFile) / 1024))"); target <= 30 MB), $(kb Threads) threads"
  echo "ready $(( (t1 - t0) / 1000000 )) ms after start (target <= 1000 ms)"
}

# Workers held to 1 delivery/s while accept is measured alone.
start_gw "$minimal_port" "$max_concurrent" 1
say "footprint: ready time and idle RSS (${BENCH_IDLE_SECONDS:-5}s idle)"
footprint
sql "INSERT INTO dhis2_mappings (code, what, name, dataelement, category_option_combo) VALUES
  ('MAL_SUSP','de','MAL_SUSP','gLEO1XbX0ii',NULL), ('MAL_TESTED','de','MAL_TESTED','mxMvRmuC81k',NULL),
  ('MAL_CONF_F_LT5','de','MAL_CONF_F_LT5','rPRf4cXHEIx','uEnSlE7fIwv')" >/dev/null
echo "bench-submitter-pw" | "$gw" --config-file "$work/dhis2gw.yml" user add bench --role submitter >/dev/null
token=$(curl -sf "http://127.0.0.1:$gw_port/api/v2/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"bench-submitter-pw"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
body='{"orgUnit":"KFZHpp8BEUA","orgUnitName":"Moyamba Central CHC","period":"202401","dataSet":"S6zKJrYKAzR","dataValues":{"MAL_SUSP":1000000,"MAL_TESTED":12,"MAL_CONF_F_LT5":"7"}}'
url="http://127.0.0.1:$gw_port/api/v2/aggregate"

load() { # $1 clients, then extra oha args; prints "rps p50_ms p99_ms ok"
  oha --no-tui --output-format json -c "$1" "${@:2}" -m POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "$body" "$url" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
s, p = r["summary"], r["latencyPercentiles"]
codes = r["statusCodeDistribution"]
ok = codes.get("200", 0)
print("%.0f %.1f %.1f %d %.0f" % (s["requestsPerSec"], p["p50"] * 1000, p["p99"] * 1000, ok, ok / max(sum(codes.values()), 1)))'
}

# pgbench, two scripts of one INSERT per transaction:
# - "row shape" (the baseline of the earlier rounds): the same kind of row (uuid, jsonb request,
#   text payload, hash) into a table with a primary key and one unique key, in database pgb;
# - "log schema": the very row dhis2gw writes, into a copy of the submission log (same columns,
#   indexes, checks and fillfactor) plus its open list, as one statement — what dhis2gw's accept
#   costs PostgreSQL without HTTP and batching.
psql -d pgb -c "CREATE TABLE bench_log (id bigserial PRIMARY KEY, task_id uuid NOT NULL UNIQUE,
  kind text NOT NULL, status text NOT NULL DEFAULT 'queued', submitted_at timestamptz NOT NULL DEFAULT now(),
  user_id bigint, body_hash text NOT NULL, payload jsonb NOT NULL, dhis2_payload text NOT NULL)"
dhis2_payload='{"dataSet":"S6zKJrYKAzR","dataValues":[{"dataElement":"gLEO1XbX0ii","value":"1000000"}],"orgUnit":"KFZHpp8BEUA","period":"202401"}'
cat >"$work/insert.sql" <<EOF
INSERT INTO bench_log (task_id, kind, user_id, body_hash, payload, dhis2_payload)
VALUES (gen_random_uuid(), 'aggregate', 1, md5(random()::text), '$body'::jsonb, '$dhis2_payload');
EOF
fillfactor=$(sql "SELECT split_part(unnest(reloptions), '=', 2) FROM pg_class WHERE relname = 'submission_log'")
sql "CREATE SEQUENCE pgb_log_id; CREATE TABLE pgb_log (LIKE submission_log INCLUDING ALL);
  ALTER TABLE pgb_log ALTER id SET DEFAULT nextval('pgb_log_id');
  ALTER TABLE pgb_log SET (fillfactor = $fillfactor);
  CREATE TABLE pgb_open (LIKE submission_open INCLUDING ALL)" >/dev/null
cat >"$work/insert-log.sql" <<EOF
WITH new AS (INSERT INTO pgb_log (task_id, kind, user_id, source_ip, body_hash, source_name,
    instance_name, org_unit, period, data_set, payload, dhis2_payload, unmapped)
  VALUES (gen_random_uuid(), 'aggregate', 2, '127.0.0.1', md5(random()::text), 'default', 'default',
    'KFZHpp8BEUA', '202401', 'S6zKJrYKAzR', '$body'::jsonb, '$dhis2_payload', '[]') RETURNING id)
INSERT INTO pgb_open (id) SELECT id FROM new;
EOF
pgb() { # $1 clients, $2 script, $3 database
  pgbench -n -h 127.0.0.1 -p "$pg_port" -U bench -M prepared -c "$1" -j 2 -T "$seconds" -f "$2" "$3" 2>/dev/null \
  | awk '/^tps/ {printf "%.0f", $3}'; }

declare -A rps p50 p99 pg pglog accept_cpu
for c in 32 64; do
  say "accept at $c clients (${seconds}s), then pgbench (both scripts) at $c clients"
  load "$c" -z 3s >/dev/null   # warm-up
  cpu_snapshot "accept-$c-start"
  read -r rps[$c] p50[$c] p99[$c] ok share <<<"$(load "$c" -z "${seconds}s")"
  cpu_snapshot "accept-$c-end"
  accept_cpu[$c]=$(cpu_per "$ok" "accept-$c-start" "accept-$c-end")
  [ "$share" = "1" ] || say "warning: only $ok answers were 200"
  pg[$c]=$(pgb "$c" "$work/insert.sql" pgb)
  pglog[$c]=$(pgb "$c" "$work/insert-log.sql" bench)
  # Emptied after use, so that autovacuum has nothing of pgbench's to clean up in the phases
  # measured next (TRUNCATE leaves no dead rows, and resets the counts autovacuum goes by).
  psql -d pgb -c "TRUNCATE bench_log" && sql "TRUNCATE pgb_log, pgb_open" >/dev/null
done
half=$(( ${rps[32]} / 2 ))
say "accept at half of the 32-client maximum: $half req/s"
read -r half_rps half_p50 half_p99 _ _ <<<"$(load 32 -z "${seconds}s" -q "$half")"

say "delivery of the accepted backlog to an instant DHIS2, the minimal answerer (max_concurrent $max_concurrent)"
backlog=$(sql "SELECT count(*) FROM submission_open")
[ -z "${BENCH_PG_STATS:-}" ] || sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null
cpu_snapshot deliver-start
[ -z "${BENCH_PERF:-}" ] || { perf record -q -a -g -F 499 -o "$work/perf-delivery.data" 2>/dev/null & perf_pid=$!; }
deliver_rps=$(drain_rate)
[ -z "${BENCH_PERF:-}" ] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
cpu_snapshot deliver-end
[ -z "${BENCH_PG_STATS:-}" ] || sql "SELECT calls, rows, round(total_plan_time::numeric, 0) AS plan_ms,
    round(total_exec_time::numeric, 0) AS exec_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 90)
  FROM pg_stat_statements ORDER BY total_plan_time + total_exec_time DESC LIMIT 12" >"$work/statements-delivery.txt"
deliver_cpu=$(cpu_per "$backlog" deliver-start deliver-end)

say "sustained: accept at half load with deliveries running"
before=$(sql "SELECT count(*) FROM submission_log WHERE status = 'completed'")
read -r sus_rps _ sus_p99 sus_ok _ <<<"$(load 32 -z "${seconds}s" -q "$half")"
after=$(sql "SELECT count(*) FROM submission_log WHERE status = 'completed'")
sus_delivered=$(( after - before ))

say "delivery of a new backlog to the full simulator (max_concurrent $max_concurrent)"
start_gw "$sim_port" "$max_concurrent" 1
load 32 -z "${seconds}s" >/dev/null
full_backlog=$(sql "SELECT count(*) FROM submission_open")
full_rps=$(drain_rate)

say "delivery to a DHIS2 answering in 200 ms (max_concurrent $slow_concurrent), $slow_count submissions"
start_gw "$slow_port" "$slow_concurrent" 1
load 32 -n "$slow_count" >/dev/null
slow_rps=$(drain_rate)
bound=$(python3 -c "print('%.1f' % ($slow_concurrent / 0.2))")
lost=$(sql "SELECT count(*) FROM submission_log WHERE status <> 'completed'")
# Which tables autovacuum visited over the whole run, and its CPU (part of pg-background above):
# from the server log (log_autovacuum_min_duration = 0).
vacuums=$("$here/bench/cpu.py" vacuums "$work/pg.log")
# Updates of the log that wrote no index entry (HOT): every delivery updates its row.
hot=$(sql "SELECT n_tup_upd || ' updates, ' || round(100.0 * n_tup_hot_upd / greatest(n_tup_upd, 1)) || ' % HOT'
           FROM pg_stat_user_tables WHERE relname = 'submission_log'")

cat <<EOF

dhis2gw submission pipeline benchmark — $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') fsync on ${BENCH_PG_OPTS:-}
(release build; auth: Bearer JWT; one POST = validate + map + commit row + enqueue)

                                   32 clients        64 clients
durable accept (req/s)             ${rps[32]}             ${rps[64]}
  p50 / p99 latency (ms)           ${p50[32]} / ${p99[32]}       ${p50[64]} / ${p99[64]}
pgbench, row shape (tps)           ${pg[32]}             ${pg[64]}
accept / pgbench                   $(python3 -c "print('%.2f' % (${rps[32]}/${pg[32]}))")              $(python3 -c "print('%.2f' % (${rps[64]}/${pg[64]}))")
pgbench, log schema (tps)          ${pglog[32]}             ${pglog[64]}
accept / pgbench                   $(python3 -c "print('%.2f' % (${rps[32]}/${pglog[32]}))")              $(python3 -c "print('%.2f' % (${rps[64]}/${pglog[64]}))")

half load (32 clients, $half req/s target): achieved $half_rps req/s, p50 $half_p50 ms, p99 $half_p99 ms (target p99 <= 25 ms)

delivery to an instant DHIS2 ($max_concurrent workers), the minimal answerer: $backlog queued delivered at $deliver_rps/s = $(python3 -c "print('%.0f%%' % (100*$deliver_rps/${rps[32]}))") of the 32-client accept rate (target >= 90 %)
  the same to the full simulator (validates and stores every value, on the same 2 CPUs): $full_backlog at $full_rps/s = $(python3 -c "print('%.0f%%' % (100*$full_rps/${rps[32]}))")
CPU per submission (µs; answerer = the minimal DHIS2 stand-in; steal = the hypervisor; "rest" = the load generator and anything else running; irq = interrupt time, partly inside the others):
  accept, 32 clients:    ${accept_cpu[32]}
  accept, 64 clients:    ${accept_cpu[64]}
  delivery, minimal answerer: $deliver_cpu
sustained at half load: accepted $sus_ok in ${seconds}s ($sus_rps req/s, p99 $sus_p99 ms) while $sus_delivered were delivered = $(python3 -c "print('%.0f%%' % (100*$sus_delivered/max($sus_ok,1)))")
delivery to a 200 ms DHIS2 ($slow_concurrent workers): $slow_rps/s vs bound $bound/s = $(python3 -c "print('%.1f%%' % (100*$slow_rps/$bound))") (target >= 95 %)
submissions not completed at the end: $lost
log row updates: $hot
autovacuum by table, runs and CPU: $vacuums
EOF
