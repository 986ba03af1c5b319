# What the scale-out, failover and Redis Cluster scripts and bench/audit-ab.sh share: private
# PostgreSQL and Redis instances on loopback ports under the caller's `$work`, a dhis2gw waited
# for until ready, and a submitter's token. Sourced, not run; the caller sets `work` and
# defines `say`.

pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# PostgreSQL's tools refuse to run as root: as root they run as the postgres user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# pg_init DIR USER: a new cluster in DIR whose superuser is USER, trust auth on loopback.
pg_init() {
  mkdir -p "$1"
  [ "$(id -u)" -ne 0 ] || chown postgres "$work" "$1"
  as_pg "$pg_bin/initdb" -D "$1" -U "$2" --auth=trust >/dev/null
}

# pg_start DIR PORT [-c name=value ...]: starts the cluster in DIR on 127.0.0.1:PORT, its socket
# in $work and its log in DIR.log.
pg_start() {
  local dir=$1 port=$2
  shift 2
  as_pg "$pg_bin/pg_ctl" -D "$dir" -l "$dir.log" -w start \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work $*" >/dev/null
}

# pg_stop DIR...: stops each cluster at once (no checkpoint); quiet when one is not running.
pg_stop() {
  local dir
  for dir in "$@"; do as_pg "$pg_bin/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null 2>&1 || true; done
}

# pg_new_database PORT USER: creates the database named USER, owned by USER.
pg_new_database() {
  command psql -q -h 127.0.0.1 -p "$1" -U "$2" -d postgres -c "CREATE DATABASE $2"
}

# redis_start PORT [redis-server options ...]: a Redis that keeps nothing on disk, logging to
# $work/redis-PORT.log.
redis_start() {
  local port=$1
  shift
  redis-server --daemonize yes --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$work" --logfile "$work/redis-$port.log" "$@" >/dev/null
}

# redis_stop PORT...: shuts each down without saving; quiet when one is not running.
redis_stop() {
  local port
  for port in "$@"; do redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; done
}

# redis_pid PORT: the server's process id, as it reports it.
redis_pid() {
  redis-cli -p "$1" info server | tr -d '\r' | awk -F: '/^process_id/ {print $2}'
}

# gw_wait_ready PORT LOG: waits up to 20 s for dhis2gw's /ready; else shows LOG's end and exits.
gw_wait_ready() {
  local _
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/ready" && return 0
    sleep 0.2
  done
  say "dhis2gw on port $1 not ready"
  tail "$2"
  exit 1
}

# gw_submitter CONFIG PORT PASSWORD: adds the submitter `loader` with PASSWORD (through the
# command line, as an administrator would) and prints a token it got by logging in on PORT.
gw_submitter() {
  echo "$3" | "$gw" --config-file "$1" user add loader --role submitter >/dev/null
  curl -sf "http://127.0.0.1:$2/api/v2/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"loader\",\"password\":\"$3\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
