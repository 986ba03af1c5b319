#!/usr/bin/env bash
# Benchmark of the alert run (prints figures; not a test). See bench/README.md, "Alert run".
#
#   bench/alerts.sh                 # sizes a, b, c at 0 and 20 ms per request, ~5 minutes
#
# Each measured run is the real release binary, `dhis2gw run-job threshold --week 2026W47`, on a
# fresh database (rules in place, no history, no alerts) against a fresh `dhis2-sim` process
# (release build) serving seeded surveillance data with a fixed latency per request; then the
# same command again (a second run: history kept, nothing new). Time is the process's wall time
# and peak RSS its maximum resident set (getrusage of the child, via /usr/bin/time), start-up,
# configuration, connections and migrations check included.
#
# Sizes (the simulator's flags; the same flags serve the same data to another program):
#   a  10 diseases x   116 districts x 25 facilities x   5 weeks: the original's measured size;
#      the original's four rules (one_case, doubling, ratio_to_mean, cluster; a week with no
#      report judged as the original did: never an alert), ~100 alerts (the original's run had
#      90), facility drill-downs for the one_case and cluster ones
#   b  10 diseases x 2 000 districts x 25 facilities x   5 weeks, the same rules
#   c  (b) with 165 weeks (3 years and more) and a statistical rule per disease besides
#      (c1, c2, c3, cusum, historical and p75 over 2 earlier years, farrington with b = 2)
#
# Knobs (environment): BENCH_SIZES ("a b c"), BENCH_LATENCIES ("0 20"), BENCH_SEED (20),
# BENCH_DIR (target/bench-alerts), DHIS2GW_BENCH_DB and DHIS2GW_BENCH_REDIS (a PostgreSQL whose
# user may create databases, and a Redis; otherwise private ones are started with
# packaging/local-services.sh on 55821/56821), BENCH_SIM_PORT (18121), BENCH_NO_BUILD (set: measure
# the release binaries already in target/release).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${BENCH_DIR:-$here/target/bench-alerts}
sizes=${BENCH_SIZES:-a b c}
latencies=${BENCH_LATENCIES:-0 20}
seed=${BENCH_SEED:-20}
sim_port=${BENCH_SIM_PORT:-18121}
say() { echo "bench: $*" >&2; }

if [ -z "${BENCH_NO_BUILD:-}" ]; then
  say "building release binaries"
  (cd "$here" && cargo build --release --quiet -p dhis2gw --bin dhis2gw -p dhis2-sim --bin dhis2-sim)
fi
gw="$here/target/release/dhis2gw"
sim="$here/target/release/dhis2-sim"
mkdir -p "$work"

if [ -z "${DHIS2GW_BENCH_DB:-}" ]; then
  eval "$(bash "$here/packaging/local-services.sh" start --dir "$work/svc" --pg-port 55821 --redis-port 56821)"
  DHIS2GW_BENCH_DB=$DHIS2GW_DB DHIS2GW_BENCH_REDIS=$DHIS2GW_REDIS
  own_services=1
fi
admin_db=$DHIS2GW_BENCH_DB
base=${admin_db%/*}
psql() { command psql -qAtX -v ON_ERROR_STOP=1 "$@"; }

sim_pid=""
stop_sim() { [ -z "$sim_pid" ] || { kill -INT "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; sim_pid=""; }; }
cleanup() {
  stop_sim
  [ -z "${own_services:-}" ] || bash "$here/packaging/local-services.sh" stop --dir "$work/svc" >/dev/null 2>&1 || true
}
trap cleanup EXIT

start_sim() { # $1 size, $2 latency ms
  local weeks=5 districts=116
  case $1 in b) districts=2000 ;; c) districts=2000 weeks=165 ;; esac
  "$sim" --listen "127.0.0.1:$sim_port" --latency-ms "$2" --surveillance-seed "$seed" \
    --diseases 10 --districts "$districts" --facilities 25 --weeks "$weeks" --last-week 2026W47 \
    >"$work/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 1 1200); do
    curl -sf -u admin:district "http://127.0.0.1:$sim_port/api/system/info" >/dev/null && return 0
    sleep 0.05
  done
  say "the simulator did not start"; cat "$work/sim.log" >&2; exit 1
}

rules_sql() { # $1 size
  cat <<'EOF'
INSERT INTO alert_rules (name, data_element, rule_type, params, level, missing_policy, disease_code) VALUES
 ('one case 0', 'Dis00000000', 'one_case', '{}', 3, 'skip', 'D0'),
 ('one case 1', 'Dis00000001', 'one_case', '{}', 3, 'skip', 'D1'),
 ('one case 2', 'Dis00000002', 'one_case', '{}', 3, 'skip', 'D2'),
 ('doubling 3', 'Dis00000003', 'doubling', '{}', 3, 'skip', 'D3'),
 ('doubling 4', 'Dis00000004', 'doubling', '{}', 3, 'skip', 'D4'),
 ('1.5x mean 5', 'Dis00000005', 'ratio_to_mean', '{}', 3, 'skip', 'D5'),
 ('1.5x mean 6', 'Dis00000006', 'ratio_to_mean', '{}', 3, 'skip', 'D6'),
 ('cluster 7', 'Dis00000007', 'cluster', '{"threshold": 5}', 3, 'skip', 'D7'),
 ('cluster 8', 'Dis00000008', 'cluster', '{"threshold": 5}', 3, 'skip', 'D8'),
 ('cluster 9', 'Dis00000009', 'cluster', '{"threshold": 5}', 3, 'skip', 'D9');
EOF
  [ "$1" = c ] && cat <<'EOF'
INSERT INTO alert_rules (name, data_element, rule_type, params, level, missing_policy, disease_code) VALUES
 ('c1 0', 'Dis00000000', 'c1', '{}', 3, 'skip', 'D0'),
 ('c2 1', 'Dis00000001', 'c2', '{}', 3, 'skip', 'D1'),
 ('c3 2', 'Dis00000002', 'c3', '{}', 3, 'skip', 'D2'),
 ('cusum 3', 'Dis00000003', 'cusum', '{}', 3, 'zero', 'D3'),
 ('historical 4', 'Dis00000004', 'historical', '{"years": 2, "window": 1}', 3, 'zero', 'D4'),
 ('p75 5', 'Dis00000005', 'p75', '{"years": 2, "window": 1}', 3, 'zero', 'D5'),
 ('farrington 6', 'Dis00000006', 'farrington', '{"b": 2}', 3, 'zero', 'D6'),
 ('c2 7', 'Dis00000007', 'c2', '{}', 3, 'skip', 'D7'),
 ('historical 8', 'Dis00000008', 'historical', '{"years": 2}', 3, 'zero', 'D8'),
 ('p75 9', 'Dis00000009', 'p75', '{"years": 2}', 3, 'zero', 'D9');
EOF
  true
}

config() { # $1 database
  cat >"$work/dhis2gw.yml" <<EOF
database: {uri: "$base/$1", pool_size: 16}
server: {host: 127.0.0.1, http_port: 19121, redis_address: "$DHIS2GW_BENCH_REDIS", queue_prefix: bench-alerts}
api: {dhis2_base_url: "http://127.0.0.1:$sim_port", dhis2_user: admin, dhis2_password: district}
auth: {jwt_secret: bench-jwt-secret-0123456789abcdef}
alerts: {org_unit_roots: [sEl465gkHn9], dhis2_program_stage: AlrtStage01,
  dhis2_data_element_week: AlrtWeek001, dhis2_data_element_count: AlrtCount01,
  dhis2_data_element_facilities: AlrtFacil01}
log: {level: warn}
EOF
}

count() { # $1 database, $2 key of the last run's counts
  psql -d "$base/$1" -c "SELECT counts->>'$2' FROM job_runs ORDER BY id DESC LIMIT 1"
}

timed() { # $1 label, $2 database: one run-job, its wall time and peak RSS
  local out="$work/run.txt" t
  /usr/bin/time -f '%e %M' -o "$work/time.txt" \
    "$gw" --config-file "$work/dhis2gw.yml" run-job threshold --week 2026W47 >"$out" 2>&1 \
    || { say "run failed"; cat "$out" >&2; exit 1; }
  read -r secs kb <"$work/time.txt"
  t=$(printf '%s' "$secs")
  printf '%-4s %-6s %-7s %7.2f s %8.1f MB  alerts new %-5s known %-5s analytics calls %-4s values %-8s series %-6s evaluated %-6s\n' \
    "$size" "${latency}ms" "$1" "$t" "$(awk "BEGIN{print $kb / 1024}")" \
    "$(count "$2" alerts_new)" "$(count "$2" alerts_known)" "$(count "$2" analytics_calls)" \
    "$(count "$2" values_fetched)" "$(count "$2" series)" "$(count "$2" evaluated)"
  grep '^error' "$out" | head -3 >&2 || true
}

echo "size lat    run        time        peak RSS"
for size in $sizes; do
  tpl="bench_alerts_tpl_$size"
  psql -d "$admin_db" -c "DROP DATABASE IF EXISTS $tpl" -c "CREATE DATABASE $tpl"
  config "$tpl"
  "$gw" --config-file "$work/dhis2gw.yml" migrate >/dev/null
  rules_sql "$size" | psql -d "$base/$tpl"
  for latency in $latencies; do
    db="bench_alerts_run"
    psql -d "$admin_db" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE $tpl"
    config "$db"
    start_sim "$size" "$latency"
    timed first "$db"
    timed second "$db"
    stop_sim
  done
  psql -d "$admin_db" -c "DROP DATABASE IF EXISTS bench_alerts_run" -c "DROP DATABASE IF EXISTS $tpl"
done
