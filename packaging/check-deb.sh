#!/usr/bin/env bash
# The packaging test: builds the dhis2gw .deb (unless given one), inspects it, lints it, checks the
# systemd unit, then installs it on THIS machine, checks what the install did, runs the installed
# daemon as the dhis2gw user the way systemd would (sd_notify READY/WATCHDOG, journald, SIGHUP,
# SIGTERM), upgrades it over an edited config, removes it and purges it; then does it all again
# under a real systemd booted in a throw-away container (packaging/check-deb-systemd.sh). Prints
# one PASS/FAIL/SKIP line per check and a summary; exits 1 when anything failed. Needs root and a
# Debian system; needs no running systemd (maintainer scripts skip systemctl without one).
#
#   packaging/check-deb.sh [--deb FILE] [--no-build] [--no-serve] [--no-systemd] [--verbose]
#
#   --deb FILE    test this .deb instead of building one
#   --no-build    build the .deb from the existing target/release/dhis2gw (no cargo build)
#   --no-serve    skip running the daemon on this machine (no PostgreSQL/Redis needed then)
#   --no-systemd  skip the stage under a real systemd (packaging/check-deb-systemd.sh boots this
#                 machine's systemd in a throw-away container and installs the .deb there)
#   --verbose     show the output of every check, not only of failed ones
#
# Installs lintian, systemd (systemd-analyze), man-db and python3 with apt-get when missing. The
# daemon run uses packaging/local-services.sh (private PostgreSQL and Redis) and
# packaging/check-deb-serve.py (plays systemd's notify socket and journald).
# Refuses to run when a dhis2gw package is already installed (it would purge it at the end).
# Checks run `bash -c '...' _ args`: the single quotes are meant (SC2016).
# shellcheck disable=SC2016
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
deb=""
build_args=()
serve=1
under_systemd=1
verbose=0
while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb=$(realpath "$2"); shift 2 ;;
    --no-build) build_args+=(--no-build); shift ;;
    --no-serve) serve=0; shift ;;
    --no-systemd) under_systemd=0; shift ;;
    --verbose) verbose=1; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-deb: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { echo "check-deb: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "must run as root (it installs the package)"; exit 2; }
command -v dpkg >/dev/null || { say "needs a Debian system (dpkg)"; exit 2; }

work=$(mktemp -d /tmp/check-deb.XXXXXX)
chmod 0755 "$work" # the dhis2gw user reads test files and sockets in here
passed=0 failed=0 skipped=0 warned=0
failures=()
installed_by_us=0
services_started=0
log="$work/check.log"

pass() { passed=$((passed + 1)); echo "PASS  $1"; }
skip() { skipped=$((skipped + 1)); echo "SKIP  $1${2:+ ($2)}"; }
fail() {
  failed=$((failed + 1)); failures+=("$1"); echo "FAIL  $1${2:+ ($2)}"
  [ -s "$log" ] && sed 's/^/      | /' "$log" | tail -n 25
}
# check "description" command...: PASS when the command exits 0; its output lands in $log.
check() {
  local what=$1; shift
  if "$@" >"$log" 2>&1; then
    pass "$what"
    [ "$verbose" = 1 ] && sed 's/^/      | /' "$log"
  else
    fail "$what"
  fi
  return 0
}
# Helpers for check: each prints what it saw, so a failure shows why.
mode_is() { # PATH OWNER:GROUP MODE [TYPE]
  local got
  got=$(stat -c '%U:%G %a %F' "$1") || return 1
  echo "$1: $got"
  [ "$got" = "$2 $3 ${4:-regular file}" ]
}
has_line() { grep -qxF -- "$2" "$1" || { echo "no line '$2' in $1:"; cat "$1"; return 1; }; }
quiet_ok() { "$@" >"$work/out" 2>&1; local rc=$?; cat "$work/out"; [ $rc -eq 0 ] && [ ! -s "$work/out" ]; }

# results() turns the helpers' `ok|fail|skip <what>` lines into PASS/FAIL/SKIP.
results() { # OUTPUT_FILE PREFIX
  local verdict what
  while read -r verdict what; do
    case "$verdict" in
      ok) pass "$2$what" ;;
      fail) : >"$log"; fail "$2$what" ;;
      skip) skip "$2$what" ;;
    esac
  done < <(grep -E '^(ok|fail|skip) ' "$1")
  grep -qE '^(ok|fail|skip) ' "$1" || { cp "$1" "$log"; fail "$2the checks did not run"; }
}

cleanup() {
  if [ "$installed_by_us" = 1 ] && dpkg-query -W -f='${Status}' dhis2gw 2>/dev/null | grep -q 'install\|config-files'; then
    say "purging the test install"
    dpkg --purge dhis2gw >/dev/null 2>&1 || true
  fi
  if [ "$services_started" = 1 ]; then
    "$here/packaging/local-services.sh" stop --dir "$work/services" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

apt_install() {
  say "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=300 "$@" >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends -o DPkg::Lock::Timeout=300 "$@" >&2; }
}
missing=()
command -v lintian >/dev/null || missing+=(lintian)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v man >/dev/null || missing+=(man-db)
command -v python3 >/dev/null || missing+=(python3)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}" || { say "cannot install ${missing[*]}"; exit 2; }

if dpkg-query -W -f='${Status}' dhis2gw 2>/dev/null | grep -q 'install\|config-files'; then
  say "a dhis2gw package is already installed here; this test would purge it. Remove it first:"
  say "  apt-get purge dhis2gw"
  exit 2
fi

# ---------------------------------------------------------------------------------------------
echo "== build"
if [ -z "$deb" ]; then
  if deb=$("$here/packaging/build-deb.sh" "${build_args[@]}" --output "$work/deb" 2>"$log" | tail -n 1) && [ -f "$deb" ]; then
    pass "packaging/build-deb.sh built $(basename "$deb")"
  else
    fail "packaging/build-deb.sh"; exit 1
  fi
fi
[ -f "$deb" ] || { say "no such .deb: $deb"; exit 2; }
field() { dpkg-deb -f "$deb" "$1"; }
version=$(field Version)
upstream=${version%-*}

# ---------------------------------------------------------------------------------------------
echo "== inspect (dpkg-deb -I/-f/-c/-e)"
check "control: Package dhis2gw, Architecture $(dpkg --print-architecture), Section net" \
  test "$(field Package) $(field Architecture) $(field Section)" = "dhis2gw $(dpkg --print-architecture) net"
check "control: Depends has libc6 from \$auto and systemd-sysusers" \
  bash -c 'd=$(dpkg-deb -f "$1" Depends); echo "$d"; [[ $d == *"libc6 (>= "* ]] && [[ $d == *"systemd | systemd-standalone-sysusers | systemd-sysusers"* ]]' _ "$deb"
check "control: Recommends postgresql, redis-server; no Suggests" \
  bash -c 'echo "$(dpkg-deb -f "$1" Recommends)|$(dpkg-deb -f "$1" Suggests)"; [ "$(dpkg-deb -f "$1" Recommends)|$(dpkg-deb -f "$1" Suggests)" = "postgresql, redis-server|" ]' _ "$deb"
# cargo-deb wraps a package.description longer than 79 characters into the long description,
# so `apt show` would show half a sentence as the synopsis. A warning: Cargo.toml [package] owns it.
synopsis=$(sed -n 's/^description = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)
if [ "${#synopsis}" -le 79 ]; then pass "control: synopsis fits one line (${#synopsis} characters)"
else warned=$((warned + 1)); echo "WARN  control: synopsis is ${#synopsis} characters (> 79): cargo-deb wraps it; shorten Cargo.toml's description"; fi
dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' | sed -e 's#\./#/#' -e 's# 0/0 # root/root #' >"$work/contents"
expect_entry() { # MODE OWNER PATH
  has_line "$work/contents" "$1 $2 $3"
}
check "contents: /usr/bin/dhis2gw root 0755" expect_entry -rwxr-xr-x root/root /usr/bin/dhis2gw
check "contents: /etc/dhis2gw/dhis2gw.yml 0640 (group fixed by postinst)" expect_entry -rw-r----- root/root /etc/dhis2gw/dhis2gw.yml
check "contents: /etc/dhis2gw/conf.d/" expect_entry drwxr-xr-x root/root /etc/dhis2gw/conf.d/
for f in /usr/lib/systemd/system/dhis2gw.service /usr/lib/sysusers.d/dhis2gw.conf \
  /usr/lib/tmpfiles.d/dhis2gw.conf /usr/share/doc/dhis2gw/README.md /usr/share/doc/dhis2gw/copyright \
  /usr/share/doc/dhis2gw/changelog.Debian.gz /usr/share/doc/dhis2gw/configuration.md \
  /usr/share/man/man8/dhis2gw.8.gz /usr/share/lintian/overrides/dhis2gw; do
  check "contents: $f 0644" expect_entry -rw-r--r-- root/root "$f"
done
for f in "$here"/docs/*.md; do
  check "contents: operator doc /usr/share/dhis2gw/docs/$(basename "$f")" \
    expect_entry -rw-r--r-- root/root "/usr/share/dhis2gw/docs/$(basename "$f")"
done
check "contents: no dhis2-sim, every entry owned root/root" \
  bash -c '! grep -q dhis2-sim "$1" && ! grep -v " root/root " "$1"' _ "$work/contents"
dpkg-deb -e "$deb" "$work/control"
check "conffiles: exactly /etc/dhis2gw/dhis2gw.yml and conf.d/README" \
  bash -c 'cat "$1"; [ "$(sort "$1" | tr "\n" " ")" = "/etc/dhis2gw/conf.d/README /etc/dhis2gw/dhis2gw.yml " ]' _ "$work/control/conffiles"
check "md5sums: present for every file" \
  bash -c 'test "$(wc -l <"$1/md5sums")" -eq "$(grep -c "^-" "$2")"' _ "$work/control" "$work/contents"
for s in postinst prerm postrm; do
  check "$s: valid sh, #DEBHELPER# replaced by the systemd snippets" \
    bash -c 'sh -n "$1" && ! grep -q "#DEBHELPER#" "$1" && grep -q "deb-systemd-" "$1"' _ "$work/control/$s"
done

# ---------------------------------------------------------------------------------------------
echo "== lintian"
# (--show-overrides would make overridden tags count for --fail-on, so it is only for reading.)
lintian --fail-on error,warning --display-level '>=warning' "$deb" >"$log" 2>&1
lintian_rc=$?
lintian --display-level '>=warning' --show-overrides "$deb" >>"$log" 2>&1
if [ $lintian_rc -eq 0 ] && ! grep -q '^[EW]: ' "$log"; then pass "lintian: no errors or warnings (overrides justified in debian/dhis2gw.lintian-overrides)"
  [ "$verbose" = 1 ] && sed 's/^/      | /' "$log"
else fail "lintian: errors or warnings"; fi

echo "== systemd unit"
exposure() { systemd-analyze security --offline=yes "$1" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'; }
unit_exposure=$(exposure "$here/systemd/dhis2gw.service")
check "systemd-analyze security --offline=yes: exposure $unit_exposure <= 2.0" \
  awk -v e="$unit_exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }'
check "unit: Type=notify, WatchdogSec, ExecReload HUP, TimeoutStopSec > 20s drain, User=dhis2gw" \
  bash -c 'u=$1; grep -qx "Type=notify" $u && grep -q "^WatchdogSec=" $u && grep -q "^ExecReload=.*-HUP \$MAINPID" $u \
    && grep -qx "User=dhis2gw" $u && t=$(sed -n "s/^TimeoutStopSec=\([0-9]*\)s*$/\1/p" $u) && [ "$t" -gt 20 ] \
    && grep -qx "ExecStart=/usr/bin/dhis2gw serve --config-file /etc/dhis2gw/dhis2gw.yml" $u' _ "$here/systemd/dhis2gw.service"

# ---------------------------------------------------------------------------------------------
echo "== install: apt-get install ./$(basename "$deb")"
installed_by_us=1
check "apt-get install succeeds without a running systemd" \
  env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "$deb"
check "dpkg status: install ok installed $version" \
  test "$(dpkg-query -W -f='${Status} ${Version}' dhis2gw)" = "install ok installed $version"
check "user dhis2gw: system uid, home /var/lib/dhis2gw, no login shell, own group" \
  bash -c 'IFS=: read -r _ _ uid gid _ home shell < <(getent passwd dhis2gw); getent passwd dhis2gw;
    [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/dhis2gw ] && [[ $shell == */nologin ]] && [ "$(getent group dhis2gw | cut -d: -f3)" = "$gid" ]'
check "/var/lib/dhis2gw dhis2gw:dhis2gw 0750" mode_is /var/lib/dhis2gw dhis2gw:dhis2gw 750 directory
check "/var/log/dhis2gw dhis2gw:dhis2gw 0750" mode_is /var/log/dhis2gw dhis2gw:dhis2gw 750 directory
check "/etc/dhis2gw/dhis2gw.yml root:dhis2gw 0640" mode_is /etc/dhis2gw/dhis2gw.yml root:dhis2gw 640
check "/etc/dhis2gw/conf.d/ exists" test -d /etc/dhis2gw/conf.d
check "config owner kept by a dpkg-statoverride" has_line <(dpkg-statoverride --list /etc/dhis2gw/dhis2gw.yml) "root dhis2gw 640 /etc/dhis2gw/dhis2gw.yml"
check "unit enabled (multi-user.target.wants symlink), not started" \
  bash -c 'readlink -e /etc/systemd/system/multi-user.target.wants/dhis2gw.service | grep -qx /usr/lib/systemd/system/dhis2gw.service && ! pgrep -u dhis2gw'
check "dpkg --verify dhis2gw: installed files match md5sums" quiet_ok dpkg --verify dhis2gw
check "runuser -u dhis2gw -- /usr/bin/dhis2gw check-config (the installed config)" \
  bash -c 'runuser -u dhis2gw -- /usr/bin/dhis2gw check-config && runuser -u dhis2gw -- /usr/bin/dhis2gw check-config | grep -q "^database:"'
check "other users cannot read the config (check-config as nobody fails)" \
  bash -c '! runuser -u nobody -- /usr/bin/dhis2gw check-config'
check "dhis2gw --version prints $upstream" bash -c '/usr/bin/dhis2gw --version | tee /dev/stderr | grep -qw "$1"' _ "$upstream"
check "man dhis2gw finds the installed page" bash -c 'man -w dhis2gw | grep -qx /usr/share/man/man8/dhis2gw.8.gz && man --warnings dhis2gw >/dev/null'
check "systemd-analyze verify /usr/lib/systemd/system/dhis2gw.service: clean" \
  quiet_ok systemd-analyze verify /usr/lib/systemd/system/dhis2gw.service
installed_exposure=$(exposure /usr/lib/systemd/system/dhis2gw.service)
check "systemd-analyze security --offline=yes (installed unit): $installed_exposure <= 2.0" \
  awk -v e="$installed_exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }'

# LoadCredential=: systemd hands the service a directory it owns, named by $CREDENTIALS_DIRECTORY.
mkdir -p "$work/creds" && printf 'postgres://dhis2gw:s3cr3t-pw@db.example.org:5432/dhis2gw\n' >"$work/creds/database_uri"
chown -R dhis2gw: "$work/creds" && chmod 0500 "$work/creds" && chmod 0400 "$work/creds/database_uri"
printf 'database:\n  uri_file: database_uri\n' >"$work/creds.yml" && chmod 0644 "$work/creds.yml"
check "LoadCredential: database.uri_file read from \$CREDENTIALS_DIRECTORY, password masked" \
  bash -c 'out=$(runuser -u dhis2gw -- env CREDENTIALS_DIRECTORY="$1" /usr/bin/dhis2gw check-config --config-file "$2") || exit 1;
    echo "$out" | grep "uri:"; echo "$out" | grep -q "uri: postgres://dhis2gw:\*\*\*@db.example.org" && ! echo "$out" | grep -q s3cr3t' _ "$work/creds" "$work/creds.yml"

check "LoadCredential: the same check as root (install.md's manual check)" \
  bash -c 'env CREDENTIALS_DIRECTORY="$1" /usr/bin/dhis2gw check-config --config-file "$2" | grep -q "uri: postgres://dhis2gw:\*\*\*@db.example.org"' _ "$work/creds" "$work/creds.yml"

# The rule postinst uses to decide whether to start the service (only acted on under systemd).
sed -n '/^database_uri()/,/^}/p; /^config_ready()/,/^}/p' /var/lib/dpkg/info/dhis2gw.postinst >"$work/ready.sh"
ready() { bash -c '. "$1"; CONFIG=/etc/dhis2gw/dhis2gw.yml; config_ready' _ "$work/ready.sh"; }
not_ready() { ! ready; }
check "postinst readiness: not ready with the shipped database.uri" not_ready

# ---------------------------------------------------------------------------------------------
echo "== configure (edit /etc/dhis2gw/dhis2gw.yml) and run the daemon as systemd would"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_port=$(free_port) redis_port=$(free_port) http_port=$(free_port)
if [ "$serve" = 1 ]; then
  if "$here/packaging/local-services.sh" start --dir "$work/services" --pg-port "$pg_port" --redis-port "$redis_port" >"$log" 2>&1; then
    services_started=1
    pass "private PostgreSQL :$pg_port and Redis :$redis_port started"
  else
    fail "private PostgreSQL and Redis (packaging/local-services.sh)"; serve=0
  fi
fi
sed -i -e "s|^  uri: .*|  uri: postgres://dhis2gw@127.0.0.1:$pg_port/dhis2gw|" \
  -e "s|^  redis_address: .*|  redis_address: redis://127.0.0.1:$redis_port|" \
  -e "s|^  http_port: .*|  http_port: $http_port|" /etc/dhis2gw/dhis2gw.yml
check "edited config still root:dhis2gw 0640 and valid for the dhis2gw user" \
  bash -c 'stat -c "%U:%G %a" /etc/dhis2gw/dhis2gw.yml | grep -qx "root:dhis2gw 640" && runuser -u dhis2gw -- /usr/bin/dhis2gw check-config >/dev/null'
check "postinst readiness: ready once database.uri is set" ready
if [ "$serve" = 1 ]; then
  check "runuser -u dhis2gw -- dhis2gw migrate" runuser -u dhis2gw -- /usr/bin/dhis2gw migrate
  python3 "$here/packaging/check-deb-serve.py" "$work" "$http_port" >"$work/serve.out" 2>&1
  results "$work/serve.out" "serve: "
  if [ "$verbose" = 1 ] || grep -q '^fail ' "$work/serve.out"; then sed 's/^/      | /' "$work/serve.out"; fi
else
  skip "serve: sd_notify READY/WATCHDOG, journald, SIGHUP, SIGTERM" "--no-serve or no services"
fi

# ---------------------------------------------------------------------------------------------
echo "== upgrade to a newer version whose shipped config changed"
new_version="${version}+checkdeb1"
dpkg-deb -R "$deb" "$work/v2"
sed -i "s/^Version: .*/Version: $new_version/" "$work/v2/DEBIAN/control"
printf '# (changed in %s)\n' "$new_version" >>"$work/v2/etc/dhis2gw/dhis2gw.yml"
(cd "$work/v2" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$work/v2/DEBIAN/md5sums"
dpkg-deb --root-owner-group -b "$work/v2" "$work/dhis2gw_${new_version}.deb" >/dev/null
check "apt-get install of $new_version keeps the edited config (--force-confold)" \
  bash -c 'env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$1" &&
    grep -q "127.0.0.1:$2/dhis2gw" /etc/dhis2gw/dhis2gw.yml && test -f /etc/dhis2gw/dhis2gw.yml.dpkg-dist' _ "$work/dhis2gw_${new_version}.deb" "$pg_port"
check "after upgrade: version $new_version, config root:dhis2gw 0640, user kept" \
  bash -c '[ "$(dpkg-query -W -f="\${Version}" dhis2gw)" = "$1" ] && stat -c "%U:%G %a" /etc/dhis2gw/dhis2gw.yml | grep -qx "root:dhis2gw 640" && getent passwd dhis2gw' _ "$new_version"

echo "== remove: apt-get remove dhis2gw"
touch /var/lib/dhis2gw/keep-me
check "apt-get remove dhis2gw" env DEBIAN_FRONTEND=noninteractive apt-get remove -y -o DPkg::Lock::Timeout=300 dhis2gw
check "after remove: binary and unit gone" bash -c '! test -e /usr/bin/dhis2gw && ! test -e /usr/lib/systemd/system/dhis2gw.service'
check "after remove: edited config, /var/lib/dhis2gw, user kept" \
  bash -c 'grep -q "127.0.0.1:$1/dhis2gw" /etc/dhis2gw/dhis2gw.yml && test -f /var/lib/dhis2gw/keep-me && getent passwd dhis2gw' _ "$pg_port"

echo "== purge: apt-get purge dhis2gw"
check "apt-get purge dhis2gw" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -o DPkg::Lock::Timeout=300 dhis2gw
check "after purge: /etc/dhis2gw, /var/lib/dhis2gw, /var/log/dhis2gw gone" \
  bash -c 'for p in /etc/dhis2gw /var/lib/dhis2gw /var/log/dhis2gw; do [ ! -e $p ] || { echo "$p exists"; exit 1; }; done'
check "after purge: user, group, stat override and enablement gone" \
  bash -c '! getent passwd dhis2gw && ! getent group dhis2gw && ! dpkg-statoverride --list /etc/dhis2gw/dhis2gw.yml &&
    ! test -e /etc/systemd/system/multi-user.target.wants/dhis2gw.service && ! dpkg-query -W dhis2gw 2>/dev/null'
installed_by_us=0

# ---------------------------------------------------------------------------------------------
echo "== under a running systemd (a throw-away container booted from this machine's systemd)"
if [ "$under_systemd" = 1 ]; then
  "$here/packaging/check-deb-systemd.sh" "$deb" "$work/dhis2gw_${new_version}.deb" "$work" >"$work/systemd.out" 2>&1
  results "$work/systemd.out" "systemd: "
  [ "$verbose" = 1 ] && sed 's/^/      | /' "$work/systemd.out"
else
  skip "systemd: systemctl enable/reload/stop, journalctl, LoadCredential=, upgrade, remove" "--no-systemd"
fi

# ---------------------------------------------------------------------------------------------
echo
echo "== summary: $passed passed, $failed failed, $skipped skipped, $warned warnings"
for f in "${failures[@]}"; do echo "   FAILED: $f"; done
if [ "$failed" -gt 0 ]; then echo "RESULT: FAIL"; exit 1; fi
echo "RESULT: PASS"
