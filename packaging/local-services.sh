#!/usr/bin/env bash
# Private PostgreSQL and Redis for a dev run or a test run: their own ports and data directories,
# never a system cluster. Installs postgresql and redis-server with apt-get when missing.
#
#   packaging/local-services.sh start  [--dir DIR] [--pg-port N] [--redis-port N] [--only pg|redis]
#   packaging/local-services.sh stop   [--dir DIR] [--only pg|redis]
#   packaging/local-services.sh status [--dir DIR]
#   packaging/local-services.sh env    [--dir DIR]     # prints the export lines again
#
# Defaults: DIR=target/local-services, PostgreSQL on 127.0.0.1:55432, Redis on 127.0.0.1:56379.
# `start` prints, and writes to DIR/env, lines a shell can source:
#   export DHIS2GW_DB=postgres://dhis2gw@127.0.0.1:55432/dhis2gw
#   export DHIS2GW_REDIS=redis://127.0.0.1:56379
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
shift || true
dir="$here/target/local-services"
pg_port=55432
redis_port=56379
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --pg-port) pg_port=$2; shift 2 ;;
    --redis-port) redis_port=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "local-services: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pgdata="$dir/pg"
redisdir="$dir/redis"

say() { echo "local-services: $*" >&2; }
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

# Ports of an earlier `start` on this DIR win, so stop/env/status need no flags.
if [ -f "$dir/ports" ] && [ "$cmd" != start ]; then
  # shellcheck disable=SC1091
  . "$dir/ports"
fi

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing $* with apt-get"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 \
    || { $sudo apt-get update -q >&2 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2; }
}

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    apt_install postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$bin"
}

# PostgreSQL refuses to run as root; as root we run it as the `postgres` system user
# (created by the Debian package), as anyone else we run it as ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# As root, the `postgres` user must be able to reach the data directory: a checkout under a
# private directory (mktemp -d makes it 0700) would hide it. Such parents get search permission
# for others (o+x: enter, not list), and the change is reported.
let_postgres_in() {
  local d="" part
  local IFS=/
  for part in ${1#/}; do
    d="$d/$part"
    if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
      chmod o+x "$d"
      say "gave others search permission (o+x) on $d, so PostgreSQL can reach its data"
    fi
  done
}

pg_start() {
  local bin
  bin=$(pg_bin)
  mkdir -p "$pgdata"
  if [ "$(id -u)" -eq 0 ]; then
    let_postgres_in "$dir"
    chown postgres:postgres "$pgdata"
  fi
  chmod 700 "$pgdata"
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$pgdata" -U dhis2gw --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if as_pg "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    say "PostgreSQL already running in $pgdata"
  else
    # fsync off: this cluster holds only dev/test data that can be thrown away.
    as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 start \
      -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pgdata -c fsync=off -c max_connections=500 -c shared_buffers=128MB" >/dev/null \
      || { tail -n 20 "$pgdata/server.log" >&2; exit 1; }
  fi
  local i
  for i in $(seq 1 60); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then break; fi
    sleep 0.5
  done
  "$bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U dhis2gw -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='dhis2gw'" | grep -q 1 \
    || "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U dhis2gw dhis2gw
}

pg_stop() {
  [ -f "$pgdata/PG_VERSION" ] || return 0
  local bin
  bin=$(pg_bin)
  if as_pg "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
    say "PostgreSQL stopped"
  fi
}

redis_start() {
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p "$redisdir"
  if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    say "Redis already running on $redis_port"
    return
  fi
  # No persistence: like a Redis that restarts empty, which dhis2gw must survive anyway.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --dir "$redisdir" \
    --pidfile "$redisdir/redis.pid" --logfile "$redisdir/redis.log" --save "" --appendonly no \
    --maxclients 2000 >/dev/null
  local i
  for i in $(seq 1 50); do
    if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then return; fi
    sleep 0.1
  done
  say "Redis did not start; see $redisdir/redis.log"
  exit 1
}

redis_stop() {
  if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    say "Redis stopped"
  fi
}

print_env() {
  want pg && echo "export DHIS2GW_DB=postgres://dhis2gw@127.0.0.1:$pg_port/dhis2gw"
  want redis && echo "export DHIS2GW_REDIS=redis://127.0.0.1:$redis_port"
  return 0
}

case "$cmd" in
  start)
    printf 'pg_port=%s\nredis_port=%s\n' "$pg_port" "$redis_port" >"$dir/ports"
    want pg && pg_start
    want redis && redis_start
    print_env | tee "$dir/env"
    ;;
  stop)
    want redis && redis_stop
    want pg && pg_stop
    ;;
  status)
    bin=$(pg_bin)
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then echo "postgres: up on $pg_port"; else echo "postgres: down"; fi
    if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then echo "redis: up on $redis_port"; else echo "redis: down"; fi
    ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env [--dir DIR] [--pg-port N] [--redis-port N] [--only pg|redis]" >&2; exit 2 ;;
esac
