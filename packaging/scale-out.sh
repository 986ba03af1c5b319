#!/usr/bin/env bash
# Several dhis2gw on one PostgreSQL and one Redis (run by hand; about 3 minutes; prints figures,
# see docs/operations.md).
#
# 1. Throughput with one and with two instances, delivering to the DHIS2 simulator
#    (crates/dhis2-sim, release build): SCALE_CLIENTS clients POST round robin for SCALE_SECONDS;
#    accepted per second (client side), delivered per second (the log's own timestamps: rows of
#    the run / (last completed_at - first submitted_at)).
# 2. Three instances under load, the second killed with -9 a third of the way in and restarted
#    five seconds later: every accepted submission delivered, duplicates counted by the DHIS2
#    stand-in (packaging/failover_load.py) and bounded by what the killed instance had in flight.
#
#   packaging/scale-out.sh
#
# Knobs: SCALE_SECONDS (10), SCALE_SIM (target/release/dhis2-sim), SCALE_CLIENTS (16), SCALE_DHIS2GW (the binary; default the release
# build when there is one, else a debug build), SCALE_DIR (target/scale-out). Ports: PostgreSQL
# 55853, Redis 56853, DHIS2 stand-in 19854, simulator 19858, dhis2gw 19855-19857. The load generator and the
# DHIS2 stand-in are Python on the same machine: on a small machine they take a good part of the
# CPU, so the figures compare one and two instances, they are not the daemon's ceiling
# (bench/run.sh measures that).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${SCALE_DIR:-$here/target/scale-out}
seconds=${SCALE_SECONDS:-10}
clients=${SCALE_CLIENTS:-16}
pg_port=55853 redis_port=56853 dhis2_port=19854 sim_port=19858 gw_ports=(19855 19856 19857)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
load="$here/packaging/failover_load.py"

say() { echo "scale-out: $*" >&2; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
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
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m immediate -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
rm -rf "$work" && mkdir -p "$work/pg"
[ "$(id -u)" -ne 0 ] || chown postgres "$work" "$work/pg"
as_pg "$pg_bin/initdb" -D "$work/pg" -U dhis2gw --auth=trust >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c max_connections=200" >/dev/null
command psql -q -h 127.0.0.1 -p "$pg_port" -U dhis2gw -d postgres -c "CREATE DATABASE dhis2gw"
redis-server --daemonize yes --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$work" --logfile "$work/redis.log" >/dev/null
python3 "$load" dhis2 "$dhis2_port" & pids+=($!)
"$sim" --listen "127.0.0.1:$sim_port" >"$work/sim.log" 2>&1 & pids+=($!)

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
start() { # $1 = instance 0..2
  "$gw" --config-file "$work/dhis2gw-$1.yml" serve >>"$work/dhis2gw-$1.log" 2>&1 & gw_pid[$1]=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:${gw_ports[$1]}/ready" && return; sleep 0.1; done
  say "instance $1 not ready"; tail "$work/dhis2gw-$1.log"; exit 1
}
stop() { kill "${gw_pid[$1]}" 2>/dev/null || true; wait "${gw_pid[$1]}" 2>/dev/null || true; unset "gw_pid[$1]"; }
urls() { local out="" i; for i in $(seq 0 $(($1 - 1))); do out+="${out:+,}http://127.0.0.1:${gw_ports[$i]}"; done; echo "$out"; }
drain() { for _ in $(seq 1 240); do [ "$(sql 'SELECT count(*) FROM submission_open')" = 0 ] && return; sleep 0.5; done; say "still open after 120 s"; }

start 0
sql "INSERT INTO dhis2_mappings (code, what, name, dataelement) VALUES ('MAL_SUSP','de','MAL_SUSP','gLEO1XbX0ii')"
echo "scale-out-pw" | "$gw" --config-file "$work/dhis2gw-0.yml" user add loader --role submitter >/dev/null
token=$(curl -sf "http://127.0.0.1:${gw_ports[0]}/api/v2/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"loader","password":"scale-out-pw"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

for n in 1 2; do
  [ "$n" -eq 1 ] || start 1
  since=$(sql "SELECT max(id) FROM submission_log" ); since=${since:-0}
  python3 "$load" load "$work/throughput-$n.json" "$(urls "$n")" "$token" "$seconds" "$clients" "${n}000000"
  drain
  accepted=$(python3 -c "import json; print(sum(1 for r in json.load(open('$work/throughput-$n.json')) if r['status'] == 200))")
  delivered=$(sql "SELECT round((count(*) / extract(epoch FROM max(completed_at) - min(submitted_at)))::numeric, 1) FROM submission_log WHERE id > $since")
  echo "$n instance(s): accepted $accepted in $seconds s = $(python3 -c "print('%.1f' % ($accepted / $seconds))")/s, delivered $delivered/s"
done

# The kill phase delivers to the counting stand-in (reloaded with SIGHUP by the running two).
sed -i "s/127.0.0.1:$sim_port/127.0.0.1:$dhis2_port/" "$work"/dhis2gw-*.yml
kill -HUP "${gw_pid[0]}" "${gw_pid[1]}"
start 2
say "three instances: load $seconds s x 2; instance 1 killed (-9) at $((2 * seconds / 3)) s, restarted 5 s later"
since=$(sql "SELECT max(id) FROM submission_log")
python3 "$load" load "$work/results.json" "$(urls 3)" "$token" "$((2 * seconds))" "$clients" 9000000 & load_pid=$!
sleep $((2 * seconds / 3))
kill -9 "${gw_pid[1]}"
in_flight_at_kill=$(redis-cli -p "$redis_port" zcard scale:queue:submissions:lease 2>/dev/null || echo "?")
echo "instance 1 killed; jobs leased (all instances) at that moment: $in_flight_at_kill"
sleep 5
start 1
wait "$load_pid"
drain
echo "log: $(sql "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM submission_log WHERE id > $since GROUP BY 1 ORDER BY 1) s")"
python3 "$load" report "$work/results.json" "$dhis2_port" 9000000
