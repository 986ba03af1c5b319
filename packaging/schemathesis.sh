#!/usr/bin/env bash
# Property-based API testing with schemathesis (pinned in packaging/schemathesis-requirements.txt,
# installed into target/schemathesis/venv): starts private PostgreSQL and Redis and the daemon
# (the newer of target/release/dhis2gw and target/debug/dhis2gw, as built by the test run), then runs every
# check of schemathesis against /openapi.json as admin, submitter and viewer, with a bounded
# number of examples per operation. Findings and fixes: docs/hostile-input.md.
#
#   packaging/schemathesis.sh                  # all three roles
#   SCHEMATHESIS_MAX_EXAMPLES=25 packaging/schemathesis.sh
#   SCHEMATHESIS_ROLES=admin packaging/schemathesis.sh
# Ports: DHIS2GW_ST_PG_PORT (56533), DHIS2GW_ST_REDIS_PORT (57480); data, reports and the daemon's
# log under SCHEMATHESIS_DIR (target/schemathesis); the virtualenv in target/schemathesis/venv.
set -euo pipefail
cd "$(dirname "$0")/.."

root=${SCHEMATHESIS_DIR:-target/schemathesis}
venv=target/schemathesis/venv
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-5}
roles=${SCHEMATHESIS_ROLES:-"viewer submitter admin"}
mkdir -p "$root"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$(sed -n 's/^schemathesis==//p' packaging/schemathesis-requirements.txt)"; then
  echo "== installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r packaging/schemathesis-requirements.txt
fi

# SCHEMATHESIS_DHIS2GW, else the newer of the release and debug builds (the test run builds debug).
bin=${SCHEMATHESIS_DHIS2GW:-$(ls -t target/release/dhis2gw target/debug/dhis2gw 2>/dev/null | head -1 || true)}
[ -n "$bin" ] && [ -x "$bin" ] || { echo "no dhis2gw binary: run cargo build first" >&2; exit 1; }

svc=$root/services
bash packaging/local-services.sh stop --dir "$svc" >/dev/null 2>&1 || true
rm -rf "$svc"
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  bash packaging/local-services.sh stop --dir "$svc" >/dev/null 2>&1 || true
}
trap cleanup EXIT
eval "$(bash packaging/local-services.sh start --dir "$svc" \
  --pg-port "${DHIS2GW_ST_PG_PORT:-56533}" --redis-port "${DHIS2GW_ST_REDIS_PORT:-57480}")"

admin_pw="St-Admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cat >"$root/dhis2gw.yml" <<YAML
database:
  uri: $DHIS2GW_DB
server:
  http_port: 0
  redis_address: $DHIS2GW_REDIS
  queue_prefix: schemathesis
  shutdown_grace_secs: 5
api:
  dhis2_base_url: http://127.0.0.1:9/
  sync_cron_expression: ""
  retry_cron_expression: ""
auth:
  initial_admin_password: $admin_pw
  jwt_secret: $(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  access_token_ttl_secs: 3600
log:
  level: info
YAML
unset DHIS2GW_DB DHIS2GW_REDIS
log=$root/daemon.log
"$bin" serve --config-file "$root/dhis2gw.yml" >"$log" 2>&1 &
daemon_pid=$!
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*dhis2gw listening.*port=\([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "daemon did not start" >&2; cat "$log"; exit 1; }
base=http://127.0.0.1:$port
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }

# One user per role besides the admin.
declare -A password
password[admin]=$admin_pw
for role in submitter viewer; do
  password[$role]="St-$role-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  curl -sf -o /dev/null -X POST "$base/api/v2/users" -H "Authorization: $(basic admin "$admin_pw")" \
    -H 'Content-Type: application/json' \
    -d "{\"username\":\"st-$role\",\"password\":\"${password[$role]}\",\"role\":\"$role\"}"
done

# Each role calls with a JWT from /api/v2/auth/login: schemathesis' check of invalid credentials
# sends the same user's credentials spoiled, and with Basic those failures would lock the
# (username, address) pair it shares with the real ones (the login throttle, working as
# documented), after which every request of the run is a 401. Tokens and JWTs are never
# throttled; Basic and the throttle have their own tests (tests/it/auth).
bearer() {
  curl -sf "$base/api/v2/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$2\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

status=0
for role in $roles; do
  user=st-$role; [ "$role" = admin ] && user=admin
  echo "== schemathesis as $role ($max_examples examples per operation)"
  # One worker: with two, hypothesis' lambda-source cache races in CPython 3.11's ast.parse
  # ("AST constructor recursion depth mismatch"), a tool error that fails the run.
  "$venv/bin/schemathesis" --config-file packaging/schemathesis.toml run "$base/openapi.json" \
    --checks all --max-examples "$max_examples" --workers 1 --seed 24 \
    --request-timeout 20 --no-color \
    -H "Authorization: Bearer $(bearer "$user" "${password[$role]}")" \
    --report junit --report-dir "$root/report-$role" \
    || status=1
done
if grep -q "panicked" "$log"; then
  echo "the daemon panicked:"; grep -n "panicked" "$log"; status=1
fi
exit $status
