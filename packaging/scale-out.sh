#!/usr/bin/env bash
# Several dhis2gw on one PostgreSQL and one Redis (run by hand; about 5 minutes; prints figures,
# see docs/operations.md).
#
# 1. Cost of a second instance at fixed rates: for each rate of SCALE_RATES (submissions per
#    second, below saturation), SCALE_FIXED_SECONDS against one instance, two (round robin),
#    two again and one again (so that what drifts, the tables growing and the machine's other
#    work, weighs on both sides alike), delivering to the DHIS2 simulator (crates/dhis2-sim, release build). For
#    each: the CPU time per accepted submission, accept and delivery together (snapshots from
#    /proc, bench/cpu.py, before the load and after the last delivery), of dhis2gw (the
#    instances summed), PostgreSQL (its backends, and its background processes), Redis; then
#    the cost of two against one (per submission with two / with one - 1) by group and for the
#    stack (dhis2gw + PostgreSQL + Redis). With them, what explains a difference: statements
#    per submission and rows per statement (pg_stat_statements), WAL bytes, Redis commands per
#    submission.
# 2. Saturated throughput with two and with one instance: SCALE_CLIENTS clients POST round
#    robin for SCALE_SECONDS as fast as they are answered; accepted per second (client side),
#    delivered per second (the log's own timestamps: rows of the run / (last completed_at -
#    first submitted_at), so a backlog left at the end of the load counts against it), with the
#    same CPU and statement figures; then two / one - 1, over two phases each: two, one, one,
#    two instances.
#
# Both share the machine's budget out (SCALE_SPLIT, see `instances` below): two instances run
# with one worker thread each on a 2-core machine, and half the DHIS2 concurrency each.
# 3. Three instances under load, the second killed with -9 a third of the way in and restarted
#    five seconds later: every accepted submission delivered, duplicates counted by the DHIS2
#    stand-in (packaging/failover_load.py) and bounded by what the killed instance had in flight.
#
#   packaging/scale-out.sh
#
# Knobs: SCALE_RATES ("400 800 1200"; "" skips part 1), SCALE_FIXED_SECONDS (10), SCALE_FIXED_CLIENTS (48: more
# than rate x latency, or the rate is not held; the script prints how many requests left late),
# SCALE_SECONDS (10), SCALE_CLIENTS (64), SCALE_SPLIT (1), SCALE_DHIS2_CONCURRENCY (10: in all,
# shared out between the instances), SCALE_KILL (1; 0 skips part 3), SCALE_PROFILE (0; 1 records
# each saturated phase with `perf record -a -g` into perf-<phase>.data),
# SCALE_SIM (target/release/dhis2-sim), SCALE_DHIS2GW (the binary; default the release build when
# there is one, else a debug build), SCALE_DIR (target/scale-out). Ports: PostgreSQL 55853, Redis
# 56853, DHIS2 stand-in 19854, simulator 19858, dhis2gw 19855-19857. The load generator and the
# DHIS2 stand-in are Python on the same machine: on a small machine they take a good part of the
# CPU, so saturated figures compare one and two instances, they are not the daemon's ceiling
# (bench/run.sh measures that), and they mix the cost of coordination with the contention for
# the two cores; the fixed-rate CPU per submission separates the first.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${SCALE_DIR:-$here/target/scale-out}
seconds=${SCALE_SECONDS:-10}
clients=${SCALE_CLIENTS:-64}
split=${SCALE_SPLIT:-1}
dhis2_concurrency=${SCALE_DHIS2_CONCURRENCY:-10}
kill_phase=${SCALE_KILL:-1}
profile=${SCALE_PROFILE:-0}
rates=${SCALE_RATES-400 800 1200}
fixed_seconds=${SCALE_FIXED_SECONDS:-10}
# Enough clients to hold the rate: each waits for its answer (20-30 ms on a busy machine).
fixed_clients=${SCALE_FIXED_CLIENTS:-48}
pg_port=55853 redis_port=56853 dhis2_port=19854 sim_port=19858 gw_ports=(19855 19856 19857)
load="$here/packaging/failover_load.py"

say() { echo "scale-out: $*" >&2; }
# shellcheck source=packaging/engines.sh
. "$here/packaging/engines.sh"
sql() { command psql -qtA -h 127.0.0.1 -p "$pg_port" -U dhis2gw -d dhis2gw -c "$1"; }

gw=${SCALE_DHIS2GW:-}
if [ -z "$gw" ]; then
  if [ -x "$here/target/release/dhis2gw" ]; then gw="$here/target/release/dhis2gw"; else
    say "building dhis2gw (debug)"; (cd "$here" && cargo build --quiet -p dhis2gw --bin dhis2gw)
    gw="$here/target/debug/dhis2gw"
  fi
fi
sim=${SCALE_SIM:-$here/target/release/dhis2-sim}
[ -x "$sim" ] || { say "building the DHIS2 simulator (release)"; (cd "$here" && cargo build --release --quiet -p dhis2-sim); }
say "binary: $gw"

declare -A gw_pid=()
pids=()
cleanup() {
  for pid in "${gw_pid[@]}" "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  redis_stop "$redis_port"
  pg_stop "$work/pg"
}
trap cleanup EXIT
cleanup
rm -rf "$work" && mkdir -p "$work"
pg_init "$work/pg" dhis2gw
pg_start "$work/pg" "$pg_port" -c max_connections=200 -c shared_preload_libraries=pg_stat_statements
pg_new_database "$pg_port" dhis2gw
redis_start "$redis_port"
python3 "$load" dhis2 "$dhis2_port" & pids+=($!)
"$sim" --listen "127.0.0.1:$sim_port" >"$work/sim.log" 2>&1 & pids+=($!); sim_pid=$!
redis_pid=$(redis_pid "$redis_port")

for i in 0 1 2; do
  cat >"$work/dhis2gw-$i.yml" <<EOF
database: {uri: "postgres://dhis2gw@127.0.0.1:$pg_port/dhis2gw", pool_size: 16, connect_timeout_secs: 2}
server: {host: 127.0.0.1, http_port: ${gw_ports[$i]}, redis_address: "redis://127.0.0.1:$redis_port",
  queue_prefix: scale, shutdown_grace_secs: 2, job_lease_secs: 5, retry_backoff_base_ms: 200, retry_backoff_cap_ms: 2000}
api: {dhis2_base_url: "http://127.0.0.1:$sim_port", dhis2_user: admin, dhis2_password: district}
auth: {jwt_secret: scale-out-jwt-secret-0123456789abcdef, access_token_ttl_secs: 3600}
log: {level: warn}
EOF
done
start() { # $1 = instance 0..2, $2 = worker threads (empty: the runtime's default, one per core), $3 = DHIS2 concurrency (empty: the config's)
  env ${2:+TOKIO_WORKER_THREADS=$2} ${3:+DHIS2GW_MAX_CONCURRENT=$3} "$gw" --config-file "$work/dhis2gw-$1.yml" serve >>"$work/dhis2gw-$1.log" 2>&1 & gw_pid[$1]=$!
  gw_wait_ready "${gw_ports[$1]}" "$work/dhis2gw-$1.log"
}
stop() { kill "${gw_pid[$1]}" 2>/dev/null || true; wait "${gw_pid[$1]}" 2>/dev/null || true; unset "gw_pid[$1]"; }
# Exactly the first $1 instances running (for the fixed and saturated phases). With SCALE_SPLIT=1
# (the default) every phase starts its instances afresh with the machine's budget shared out
# between them, as an operator running several on one box would: worker threads = cores /
# instances (TOKIO_WORKER_THREADS), DHIS2 concurrency = SCALE_DHIS2_CONCURRENCY / instances
# (DHIS2GW_MAX_CONCURRENT); so two instances get what one gets, neither more threads nor more
# requests to DHIS2 at once. SCALE_SPLIT=0 keeps each instance's defaults (one thread per core,
# server.max_concurrent 5 each) and the running instances.
instances() {
  local n=$1 i threads=""
  if [ "$split" = 1 ]; then
    threads=$(( $(nproc) / n )); [ "$threads" -ge 1 ] || threads=1
    for i in 0 1; do [ -z "${gw_pid[$i]:-}" ] || stop "$i"; done
    for i in $(seq 0 $((n - 1))); do start "$i" "$threads" $(( dhis2_concurrency / n )); done
  else
    for i in 0 1; do
      if [ "$i" -lt "$n" ]; then [ -n "${gw_pid[$i]:-}" ] || start "$i"; else [ -z "${gw_pid[$i]:-}" ] || stop "$i"; fi
    done
  fi
}
urls() { local out="" i; for i in $(seq 0 $(($1 - 1))); do out+="${out:+,}http://127.0.0.1:${gw_ports[$i]}"; done; echo "$out"; }
drain() { for _ in $(seq 1 240); do [ "$(sql 'SELECT count(*) FROM submission_open')" = 0 ] && return; sleep 0.5; done; say "still open after 120 s"; }

start 0
sql "CREATE EXTENSION pg_stat_statements"
sql "INSERT INTO dhis2_mappings (code, what, name, dataelement) VALUES ('MAL_SUSP','de','MAL_SUSP','gLEO1XbX0ii')"
token=$(gw_submitter "$work/dhis2gw-0.yml" "${gw_ports[0]}" scale-out-pw)

# A phase's counters: CPU by process group (bench/cpu.py; the simulator is the "answerer"),
# the WAL position, Redis's calls by command. pg_stat_statements is emptied at the start.
snapshot() { # $1 = name
  local gw_pids="" i
  for i in "${!gw_pid[@]}"; do gw_pids+="${gw_pids:+,}${gw_pid[$i]}"; done
  "$here/bench/cpu.py" snapshot "$gw_pids" "$work/pg" "$redis_pid" "$sim_pid" >"$work/cpu-$1.json"
  sql "SELECT pg_current_wal_lsn()" >"$work/wal-$1"
  redis-cli -p "$redis_port" info commandstats | tr -d '\r' >"$work/redis-$1"
}
# What a phase did per submission: statements (calls and rows per call, the top ones), WAL bytes,
# Redis commands.
explain() { # $1 = accepted, $2 = from, $3 = to
  local wal
  wal=$(sql "SELECT pg_wal_lsn_diff('$(cat "$work/wal-$3")', '$(cat "$work/wal-$2")')")
  echo "    WAL $(( ${wal%.*} / $1 )) B per submission"
  sql "SELECT round(1000.0 * calls / $1) || ' per 1000, ' || round(rows::numeric / calls, 1) || ' rows per call, ' ||
         round((1000 * (total_exec_time + total_plan_time) / $1)::numeric, 1) || ' µs per submission: ' ||
         left(regexp_replace(query, '\s+', ' ', 'g'), 70)
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'dhis2gw')
       ORDER BY calls DESC LIMIT 12" | sed 's/^/    pg: /'
  python3 - "$1" "$work/redis-$2" "$work/redis-$3" <<'PY'
import re, sys
def calls(path):
    return {m[1]: int(m[2]) for m in re.finditer(r"^cmdstat_(\S+?):calls=(\d+)", open(path).read(), re.M)}
count, a, b = int(sys.argv[1]), calls(sys.argv[2]), calls(sys.argv[3])
diff = {k: v - a.get(k, 0) for k, v in b.items() if v - a.get(k, 0) > 0}
total = sum(diff.values())
print("    redis: %.2f commands per submission (%s)" % (total / count, ", ".join(
    "%s %.3f" % (k, v / count) for k, v in sorted(diff.items(), key=lambda kv: -kv[1])[:8])))
PY
}
# One phase against the first $2 instances; $1 = fixed or saturated, $3 = a or b (each kind
# runs one, two, two, one instances, or two, one, one, two, so that what drifts during the run,
# the tables growing and the machine's other work, weighs on both sides alike). Fixed:
# SCALE_FIXED_CLIENTS clients at $rate per second for SCALE_FIXED_SECONDS; saturated:
# SCALE_CLIENTS clients as fast as answered for SCALE_SECONDS. Prints what it got and, for an
# "a" phase, its statements; leaves the CPU snapshots <name>-start and <name>-end (after the last
# delivery), the accepted count in accepted[<name>] and, saturated, the delivered rate in
# delivered[<name>], <name> being $1-$2-$3.
phase() {
  local kind=$1 n=$2 label=$3 name="$1-$2-$3" out="$work/$1-$2-$3.json" since
  since=$(sql "SELECT coalesce(max(id), 0) FROM submission_log")
  sql "SELECT pg_stat_statements_reset()" >/dev/null
  snapshot "$name-start"
  if [ "$kind" = fixed ]; then
    python3 "$load" load "$out" "$(urls "$n")" "$token" "$fixed_seconds" "$fixed_clients" "${n}100000" "$rate"
  else
    # SCALE_PROFILE=1: the whole machine sampled while the load runs (perf report -i <file>).
    local perf_pid=""
    if [ "$profile" = 1 ]; then
      perf record -a -g -F 499 -o "$work/perf-$name.data" -- sleep "$seconds" 2>/dev/null & perf_pid=$!
    fi
    python3 "$load" load "$out" "$(urls "$n")" "$token" "$seconds" "$clients" "${n}000000"
    [ -z "$perf_pid" ] || wait "$perf_pid"
  fi
  drain
  snapshot "$name-end"
  accepted[$name]=$(python3 -c "import json; print(sum(1 for r in json.load(open('$out')) if r['status'] == 200))")
  if [ "$kind" = fixed ]; then
    echo "$n instance(s) at $rate/s for $fixed_seconds s ($label): $(python3 "$load" latency "$out" "$fixed_seconds")"
  else
    delivered[$name]=$(sql "SELECT round((count(*) / extract(epoch FROM max(completed_at) - min(submitted_at)))::numeric, 1) FROM submission_log WHERE id > $since")
    echo "$n instance(s), $clients clients for $seconds s ($label): accepted ${accepted[$name]} = $(python3 -c "print('%.1f' % (${accepted[$name]} / $seconds))")/s, delivered ${delivered[$name]}/s"
  fi
  "$here/bench/cpu.py" per "${accepted[$name]}" "$work/cpu-$name-start.json" "$work/cpu-$name-end.json" \
    | sed 's/^/    CPU per submission (µs): /'
  [ "$label" != a ] || explain "${accepted[$name]}" "$name-start" "$name-end"
}
# Two instances against one over both phases of each: CPU per accepted submission by group.
versus() { # $1 = kind
  local k=$1 one two
  one="${accepted[$k-1-a]},${accepted[$k-1-b]} $work/cpu-$k-1-a-start.json,$work/cpu-$k-1-b-start.json $work/cpu-$k-1-a-end.json,$work/cpu-$k-1-b-end.json"
  two="${accepted[$k-2-a]},${accepted[$k-2-b]} $work/cpu-$k-2-a-start.json,$work/cpu-$k-2-b-start.json $work/cpu-$k-2-a-end.json,$work/cpu-$k-2-b-end.json"
  # shellcheck disable=SC2086 # three words each
  "$here/bench/cpu.py" compare $one $two
}

say "load average before the measurements: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A accepted=() delivered=()
for rate in $rates; do
  say "fixed rate: $rate/s for $fixed_seconds s, one, two, two, one instances (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  instances 1; phase fixed 1 a
  instances 2; phase fixed 2 a
  phase fixed 2 b
  instances 1; phase fixed 1 b
  echo "two instances against one at $rate/s, CPU per accepted submission (one, two, two / one - 1):"
  versus fixed
done

say "saturated: $clients clients for $seconds s, two, one, one, two instances (load average $(cut -d' ' -f1-3 /proc/loadavg))"
instances 2; phase saturated 2 a
instances 1; phase saturated 1 a
phase saturated 1 b
instances 2; phase saturated 2 b
# "<one> and <two>: <two / one - 1>" for per-second rates; $1 and $2 are each side's two phases
# as a Python sum, $3 divides them into one rate.
rates_versus() {
  python3 -c "one, two = ($1) / ($3), ($2) / ($3); print('%.1f and %.1f: %+.1f %%' % (one, two, 100 * (two / one - 1)))"
}
echo "saturated, two instances against one: accepted per second $(rates_versus \
  "${accepted[saturated-1-a]} + ${accepted[saturated-1-b]}" "${accepted[saturated-2-a]} + ${accepted[saturated-2-b]}" "2 * $seconds"\
); delivered per second (first accepted to last delivered) $(rates_versus \
  "${delivered[saturated-1-a]} + ${delivered[saturated-1-b]}" "${delivered[saturated-2-a]} + ${delivered[saturated-2-b]}" 2\
); CPU per accepted submission (one, two, two / one - 1):"
versus saturated

[ "$kill_phase" = 1 ] || exit 0
# The kill phase delivers to the counting stand-in (reloaded with SIGHUP by the running two).
sed -i "s/127.0.0.1:$sim_port/127.0.0.1:$dhis2_port/" "$work"/dhis2gw-*.yml
kill -HUP "${gw_pid[0]}" "${gw_pid[1]}"
start 2
say "three instances: load $seconds s x 2; instance 1 killed (-9) at $((2 * seconds / 3)) s, restarted 5 s later"
since=$(sql "SELECT max(id) FROM submission_log")
python3 "$load" load "$work/results.json" "$(urls 3)" "$token" "$((2 * seconds))" "$clients" 9000000 & load_pid=$!
sleep $((2 * seconds / 3))
kill -9 "${gw_pid[1]}"
in_flight_at_kill=$(redis-cli -p "$redis_port" zcard "scale:queue:{submissions}:lease" 2>/dev/null || echo "?")
echo "instance 1 killed; jobs leased (all instances) at that moment: $in_flight_at_kill"
sleep 5
start 1
wait "$load_pid"
drain
echo "log: $(sql "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM submission_log WHERE id > $since GROUP BY 1 ORDER BY 1) s")"
python3 "$load" report "$work/results.json" "$dhis2_port" 9000000
