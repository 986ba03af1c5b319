#!/usr/bin/env bash
# dhis2gw on a Redis Cluster (run by hand; about 3 minutes; prints figures, see
# docs/operations.md and docs/queue.md). Three masters, no replicas, on loopback ports 56870-56872,
# created with `redis-cli --cluster create`; their cluster bus on 16870-16872 (the default, port +
# 10000, does not exist for these ports).
#
# 1. The end-to-end pipeline tests against the cluster (DHIS2GW_TEST_REDIS_CLUSTER: the tests'
#    settings get server.redis_cluster_nodes), with the queue tests: CLUSTER_TESTS, a nextest
#    filter; by default the queue tests and the pipeline tests except those that stop, flush or
#    restart a Redis of their own (pipeline::durability, pipeline::outages: a single Redis by
#    design).
# 2. One `dhis2gw serve` on the cluster under load (packaging/failover_load.py, CLUSTER_CLIENTS
#    clients for CLUSTER_SECONDS), then: accepted, delivered, lost, duplicated.
#
#   packaging/cluster-redis.sh            both parts
#   CLUSTER_PARTS=load packaging/cluster-redis.sh   (or tests) one part only
#
# Knobs: CLUSTER_SECONDS (5), CLUSTER_CLIENTS (8), CLUSTER_SETTLE (240), CLUSTER_DIR
# (target/cluster-redis), CLUSTER_DHIS2GW (the binary; default the release build when there is
# one, else a debug build). Ports: Redis 56870-56872, PostgreSQL 55870, DHIS2 stand-in 19870,
# dhis2gw 19871. The tests start their own PostgreSQL (and the single Redis the support code
# expects) unless DHIS2GW_TEST_DB and DHIS2GW_TEST_REDIS are set.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
work=${CLUSTER_DIR:-$here/target/cluster-redis}
seconds=${CLUSTER_SECONDS:-5}
clients=${CLUSTER_CLIENTS:-8}
settle=${CLUSTER_SETTLE:-240}
parts=${CLUSTER_PARTS:-tests,load}
tests_filter=${CLUSTER_TESTS:-'test(/^queue::/) | (test(/^pipeline::/) - test(/^pipeline::durability::/) - test(/^pipeline::outages::/))'}
nodes=(56870 56871 56872) pg_port=55870 dhis2_port=19870 gw_port=19871
load="$here/packaging/failover_load.py"
seeds="127.0.0.1:${nodes[0]},127.0.0.1:${nodes[1]},127.0.0.1:${nodes[2]}"

say() { echo "cluster-redis: $*" >&2; }
# shellcheck source=packaging/engines.sh
. "$here/packaging/engines.sh"
sql() { command psql -qtA -h 127.0.0.1 -p "$pg_port" -U dhis2gw -d dhis2gw -c "$1"; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  redis_stop "${nodes[@]}"
  pg_stop "$work/pg"
}
trap cleanup EXIT
cleanup
rm -rf "$work" && mkdir -p "$work"

say "Redis Cluster: masters on ${nodes[*]}"
for port in "${nodes[@]}"; do
  mkdir -p "$work/redis-$port"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --cluster-enabled yes \
    --cluster-port $((port - 40000)) \
    --cluster-config-file "$work/redis-$port/nodes.conf" --dir "$work/redis-$port" \
    --save "" --appendonly no --logfile "$work/redis-$port.log" >/dev/null
done
for port in "${nodes[@]}"; do
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
redis-cli --cluster create "${nodes[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >"$work/create.log"
for _ in $(seq 1 100); do
  [ "$(redis-cli -p "${nodes[0]}" cluster info | tr -d '\r' | awk -F: '/^cluster_state/ {print $2}')" = ok ] && break
  sleep 0.1
done
redis-cli -p "${nodes[0]}" cluster info | tr -d '\r' | grep -E '^cluster_(state|known_nodes|slots_assigned)'
for part in known pending lease holder scheduled rebuilt_at; do
  key="cluster:queue:{submissions}:$part"
  echo "slot of $key: $(redis-cli -p "${nodes[0]}" cluster keyslot "$key")"
done

if [[ $parts == *tests* ]]; then
  say "tests: $tests_filter"
  (cd "$here" && DHIS2GW_TEST_REDIS_CLUSTER="$seeds" \
    cargo nextest run -p dhis2gw --test it -E "$tests_filter" --no-fail-fast)
fi

if [[ $parts == *load* ]]; then
  gw=${CLUSTER_DHIS2GW:-}
  if [ -z "$gw" ]; then
    if [ -x "$here/target/release/dhis2gw" ]; then gw="$here/target/release/dhis2gw"; else
      say "building dhis2gw (debug)"; (cd "$here" && cargo build --quiet -p dhis2gw --bin dhis2gw)
      gw="$here/target/debug/dhis2gw"
    fi
  fi
  say "load: binary $gw; PostgreSQL on $pg_port"
  pg_init "$work/pg" dhis2gw
  pg_start "$work/pg" "$pg_port"
  pg_new_database "$pg_port" dhis2gw
  python3 "$load" dhis2 "$dhis2_port" 2>/dev/null & pids+=($!)
  cat >"$work/dhis2gw.yml" <<EOF
database: {uri: "postgres://dhis2gw@127.0.0.1:$pg_port/dhis2gw", connect_timeout_secs: 2}
server:
  host: 127.0.0.1
  http_port: $gw_port
  redis_cluster_nodes: ["127.0.0.1:${nodes[0]}", "127.0.0.1:${nodes[1]}", "127.0.0.1:${nodes[2]}"]
  queue_prefix: cluster
  shutdown_grace_secs: 2
  retry_backoff_base_ms: 200
  retry_backoff_cap_ms: 2000
api: {dhis2_base_url: "http://127.0.0.1:$dhis2_port", dhis2_user: admin, dhis2_password: district}
auth: {jwt_secret: cluster-jwt-secret-0123456789abcdef01, access_token_ttl_secs: 3600}
log: {level: warn}
EOF
  "$gw" --config-file "$work/dhis2gw.yml" serve >>"$work/dhis2gw.log" 2>&1 & pids+=($!)
  gw_wait_ready "$gw_port" "$work/dhis2gw.log"
  sql "INSERT INTO dhis2_mappings (code, what, name, dataelement) VALUES ('MAL_SUSP','de','MAL_SUSP','gLEO1XbX0ii')"
  token=$(gw_submitter "$work/dhis2gw.yml" "$gw_port" cluster-pw)
  say "load: $clients clients for $seconds s"
  python3 "$load" load "$work/results.json" "http://127.0.0.1:$gw_port" "$token" "$seconds" "$clients"
  for _ in $(seq 1 $((settle * 2))); do [ "$(sql 'SELECT count(*) FROM submission_open')" = 0 ] && break; sleep 0.5; done
  echo "open after the load: $(sql 'SELECT count(*) FROM submission_open')"
  echo "log: $(sql "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM submission_log GROUP BY 1 ORDER BY 1) s")"
  for port in "${nodes[@]}"; do
    echo "keys on $port: $(redis-cli -p "$port" --no-raw dbsize | tr -d '(integer) ')"
  done
  grep -ci crossslot "$work/dhis2gw.log" | sed 's/^/CROSSSLOT errors in the dhis2gw log: /' || true
  python3 "$load" report "$work/results.json" "$dhis2_port"
fi
