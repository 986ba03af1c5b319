#!/usr/bin/env bash
# Part of packaging/check-deb.sh: the .deb under a real, running systemd. Boots this machine's own
# systemd as PID 1 of a throw-away container (an overlay of / with its own mount, PID, network,
# UTS, IPC and cgroup namespaces; nothing reaches the host), then, inside it, runs what
# docs/install.md tells a sysadmin to type: apt install, configure,
# systemctl enable --now / reload / restart / stop, journalctl -o verbose, LoadCredential= in a
# drop-in, an upgrade over the running service, apt remove and apt purge.
#
#   packaging/check-deb-systemd.sh DEB UPGRADE_DEB WORKDIR
#
# Prints one line per check: `ok <what>`, `fail <what>: <why>` or `skip <what>: <why>` (when the
# container cannot boot here). Needs root, overlayfs, unshare and a systemd installed on the host.
# Single-quoted scripts run inside the container (SC2016); ok/bad only echo, so `a && ok || bad`
# is an if/else (SC2015).
# shellcheck disable=SC2016,SC2015
set -uo pipefail

deb=$1 deb2=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd) # the overlay shows this checkout inside the container too
root="$work/ct/root"
ct_pid=""
say() { echo "$*" >&2; }
ok() { echo "ok $1"; }
bad() { echo "fail $1: $2"; }

cleanup() {
  if [ -n "$ct_pid" ]; then kill -9 "$ct_pid" 2>/dev/null; sleep 0.5; fi
  mountpoint -q "$root" && umount -l "$root"
  # systemd made sub-cgroups (init.scope, system.slice/...): remove them leaves first.
  [ -d "/sys/fs/cgroup/unified/check-deb-$$" ] && find "/sys/fs/cgroup/unified/check-deb-$$" -depth -type d -exec rmdir {} + 2>/dev/null
  rm -rf "$work/ct"
}
trap cleanup EXIT

boot() {
  [ -x /lib/systemd/systemd ] && command -v unshare >/dev/null && command -v nsenter >/dev/null || return 1
  mkdir -p "$work/ct/up" "$work/ct/work" "$root"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$work/ct/up,workdir=$work/ct/work" "$root" || return 1
  local cg=""
  if [ -d /sys/fs/cgroup/unified ]; then # hybrid host: give the container its own cgroup2 subtree
    cg="/sys/fs/cgroup/unified/check-deb-$$"; mkdir -p "$cg"
  fi
  # basic.target: journald, dbus and the like, none of the host's other services. (Started from a
  # subshell: unshare --fork started straight as a background job of this script fails here.)
  ( setsid unshare --mount --pid --fork --uts --ipc --net --propagation private bash -c '
    set -e; r=$1
    [ -z "$2" ] || echo $$ >"$2/cgroup.procs"
    mount -t proc proc "$r/proc"; mount -t sysfs -o ro sysfs "$r/sys"
    mount -t cgroup2 cgroup2 "$r/sys/fs/cgroup"; mount --rbind /dev "$r/dev"
    mount -t tmpfs tmpfs "$r/run"; mount -t tmpfs tmpfs "$r/tmp"
    hostname check-deb
    # Move the overlay onto / before chroot (as switch_root does): a chrooted process may not
    # create user namespaces, which PrivateUsers=yes needs.
    # systemd in a container leaves mount propagation to its manager; credentials need it shared.
    cd "$r"; mount --move . /; mount --make-rshared /; exec unshare --cgroup chroot . env -i container=other /lib/systemd/systemd --system --unit=basic.target
  ' _ "$root" "$cg" >"$work/ct-console.log" 2>&1 &
    echo $! >"$work/ct/unshare.pid" )
  local unshare_pid
  unshare_pid=$(cat "$work/ct/unshare.pid")
  for _ in $(seq 1 100); do # systemd is the child unshare forked
    ct_pid=$(pgrep -P "$unshare_pid" -x systemd)
    [ -n "$ct_pid" ] && break
    kill -0 "$unshare_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  [ -n "$ct_pid" ] || return 1
  for _ in $(seq 1 300); do # until systemd listens, is-system-running would just say "offline"
    in_ct test -S /run/systemd/private && break
    sleep 0.1
  done
  in_ct timeout 90 systemctl is-system-running --wait >/dev/null 2>&1
  case "$(in_ct systemctl is-system-running 2>/dev/null)" in running|degraded) return 0 ;; *) return 1 ;; esac
}
in_ct() {
  nsenter -t "$ct_pid" -a -r -w env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER= "$@"
}
prop() { in_ct systemctl show -P "$1" dhis2gw.service; }
wait_active() {
  for _ in $(seq 1 120); do [ "$(prop ActiveState)" = active ] && return 0; sleep 0.5; done
  return 1
}
health() { in_ct curl -fsS -o /dev/null -w '%{http_code}' http://127.0.0.1:9090/health; }
apt_in() { in_ct apt-get -q -y --no-install-recommends -o DPkg::Lock::Timeout=60 "$@" >"$work/apt.log" 2>&1; }
journal() { in_ct journalctl -q --no-pager -u dhis2gw.service "$@"; }

if ! boot; then
  echo "skip under systemd: cannot boot systemd in a container here (see $work/ct-console.log)"
  exit 0
fi
ok "systemd booted as PID 1 of a throw-away container"
cp "$deb" "$root/var/tmp/dhis2gw.deb" && cp "$deb2" "$root/var/tmp/dhis2gw-upgrade.deb"
# A Docker-style policy-rc.d (exit 101) would stop deb-systemd-invoke from starting anything.
in_ct rm -f /usr/sbin/policy-rc.d

# --- install: enabled, not started while database.uri is the default ---------------------------
if apt_in install /var/tmp/dhis2gw.deb && [ "$(in_ct systemctl is-enabled dhis2gw)" = enabled ] \
  && [ "$(prop ActiveState)" = inactive ] && grep -q "enabled but not started" "$work/apt.log"; then
  ok "apt install: unit enabled, not started, postinst says what to do"
else bad "apt install: enabled and not started" "$(tail -n 5 "$work/apt.log"; prop ActiveState)"; fi

# --- PostgreSQL and Redis on their default ports (the container has its own network) ----------
# A private cluster (packaging/local-services.sh): the host's postgresql@ unit is Type=forking
# with a PID file, which this container's cgroup setup does not let systemd verify.
if in_ct "$here/local-services.sh" start --dir /var/tmp/services --pg-port 5432 --redis-port 6379 >"$work/services.log" 2>&1; then
  ok "PostgreSQL :5432 and Redis :6379 up inside the container"
else bad "PostgreSQL/Redis in the container" "$(tail -n 5 "$work/services.log")"; fi

# --- a ready config: the install starts the service itself -------------------------------------
# (localhost: the built-in default says 127.0.0.1, and the default does not count as "set")
in_ct sed -i 's|^  uri: .*|  uri: postgres://dhis2gw@localhost:5432/dhis2gw|' /etc/dhis2gw/dhis2gw.yml
if apt_in install --reinstall /var/tmp/dhis2gw.deb && wait_active; then
  ok "reinstall with database.uri set: postinst started it (Type=notify: active = READY=1 seen)"
else bad "postinst starts a ready config" "$(prop ActiveState) $(prop Result); $(journal -n 5 2>&1)"; fi
code=$(health)
[ "$code" = 200 ] && ok "GET /health = 200 from the sandboxed service" || bad "GET /health" "$code"
[ "$(prop User)" = dhis2gw ] && in_ct pgrep -u dhis2gw -x dhis2gw >/dev/null \
  && ok "runs as user dhis2gw" || bad "runs as user dhis2gw" "$(prop User)"
exposure=$(in_ct systemd-analyze security dhis2gw.service 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }' && ok "systemd-analyze security dhis2gw (live): $exposure" \
  || bad "systemd-analyze security dhis2gw (live)" "$exposure"
w1=$(prop WatchdogTimestampMonotonic); sleep 16; w2=$(prop WatchdogTimestampMonotonic)
[ "${w1:-0}" != 0 ] && [ "$w2" != "$w1" ] && [ "$(prop ActiveState)" = active ] \
  && ok "watchdog pinged (WatchdogTimestamp moves, WatchdogSec=$(prop WatchdogUSec))" \
  || bad "watchdog pings" "$w1 -> $w2"

# --- reload and the journal --------------------------------------------------------------------
pid=$(prop MainPID)
if in_ct systemctl reload dhis2gw && sleep 1 && [ "$(prop MainPID)" = "$pid" ] && journal | grep -q "configuration reloaded"; then
  ok "systemctl reload dhis2gw: SIGHUP re-read the config, same process"
else bad "systemctl reload" "$(journal -n 5 2>&1)"; fi
verbose=$(journal -o verbose)
if echo "$verbose" | grep -q "SYSLOG_IDENTIFIER=dhis2gw" && echo "$verbose" | grep -qE "^ *F_[A-Z_]+="; then
  ok "journalctl -u dhis2gw -o verbose: SYSLOG_IDENTIFIER=dhis2gw and F_* fields"
else bad "journalctl -o verbose" "$(echo "$verbose" | tail -n 12)"; fi
field=$(echo "$verbose" | grep -m1 -oE "^ *F_[A-Z_]+=[^ ]+$" | tr -d ' ')
if [ -n "$field" ] && [ "$(journal -o cat "$field" | wc -l)" -ge 1 ]; then
  ok "journalctl -u dhis2gw $field: filtering on a structured field"
else bad "journalctl filter on a field" "${field:-no F_ field}"; fi

# --- secrets through LoadCredential= -----------------------------------------------------------
# Control first: where systemd cannot set up credentials at all (this home-made container on
# some kernels), a plain transient unit cannot read its credential either; then skip.
in_ct sh -c 'umask 077; echo control >/var/tmp/control-credential'
if ! in_ct systemd-run --wait -q -p LoadCredential=c:/var/tmp/control-credential \
  sh -c 'grep -qx control "$CREDENTIALS_DIRECTORY/c"' >/dev/null 2>&1; then
  echo "skip LoadCredential= under systemd: this container's systemd cannot hand out credentials" \
    "(a plain transient unit fails too); covered by check-config with \$CREDENTIALS_DIRECTORY"
else
in_ct install -d -m 0700 /etc/dhis2gw/credentials
# The credential names another database, so its tables prove the service used the credential.
in_ct psql -q -h 127.0.0.1 -U dhis2gw -d postgres -c "CREATE DATABASE dhis2gw_cred" >/dev/null
in_ct sh -c 'umask 077; echo "postgres://dhis2gw@127.0.0.1:5432/dhis2gw_cred" >/etc/dhis2gw/credentials/database_uri'
in_ct mkdir -p /etc/systemd/system/dhis2gw.service.d
printf '[Service]\nLoadCredential=database_uri:/etc/dhis2gw/credentials/database_uri\n' \
  >"$root/etc/systemd/system/dhis2gw.service.d/credentials.conf"
in_ct sed -i 's|^  uri: .*|  uri_file: database_uri|' /etc/dhis2gw/dhis2gw.yml
if in_ct systemctl daemon-reload && in_ct systemctl restart dhis2gw && wait_active && [ "$(health)" = 200 ] \
  && in_ct psql -h 127.0.0.1 -U dhis2gw -d dhis2gw_cred -tAc "SELECT count(*) FROM refinery_schema_history" | grep -qv '^0$'; then
  ok "LoadCredential= drop-in + database.uri_file: restarted and healthy"
else bad "LoadCredential=" "$(prop ActiveState); $(journal -n 5 2>&1)"; fi
fi

# --- upgrade restarts the running service, keeps the edited config -----------------------------
pid=$(prop MainPID)
if apt_in install -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold /var/tmp/dhis2gw-upgrade.deb \
  && wait_active && [ "$(prop MainPID)" != "$pid" ] && in_ct grep -qE "^  uri(_file)?: (database_uri|postgres://dhis2gw@localhost)" /etc/dhis2gw/dhis2gw.yml; then
  ok "upgrade: running service restarted, edited config kept"
else bad "upgrade under systemd" "$(tail -n 5 "$work/apt.log"); $(prop ActiveState)"; fi

# --- stop drains and exits cleanly ---------------------------------------------------------------
start=$(date +%s)
if in_ct systemctl stop dhis2gw && [ "$(prop Result)" = success ] && [ $(($(date +%s) - start)) -lt 45 ]; then
  ok "systemctl stop: clean exit in $(($(date +%s) - start)) s (TimeoutStopSec=45s)"
else bad "systemctl stop" "$(prop Result) $(prop ExecMainStatus)"; fi
in_ct systemctl disable --quiet dhis2gw
if in_ct systemctl enable --now --quiet dhis2gw && wait_active && [ "$(in_ct systemctl is-enabled dhis2gw)" = enabled ]; then
  ok "systemctl enable --now dhis2gw"
else bad "systemctl enable --now" "$(prop ActiveState)"; fi

# --- remove stops it; purge deletes the user ---------------------------------------------------
if apt_in remove dhis2gw && [ "$(prop ActiveState)" = inactive ] && ! in_ct pgrep -u dhis2gw >/dev/null; then
  ok "apt remove: service stopped"
else bad "apt remove under systemd" "$(prop ActiveState)"; fi
if apt_in purge dhis2gw && ! in_ct getent passwd dhis2gw >/dev/null && ! in_ct test -e /var/lib/dhis2gw; then
  ok "apt purge: user and data gone"
else bad "apt purge under systemd" "$(tail -n 5 "$work/apt.log")"; fi
