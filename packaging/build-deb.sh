#!/usr/bin/env bash
# Builds the dhis2gw Debian package from a clean checkout and prints the path of the .deb as the
# last line of stdout (everything else goes to stderr).
#
#   packaging/build-deb.sh [--no-build] [--output DIR]
#
#   --no-build     package the existing target/release/dhis2gw (no cargo build at all)
#   --output DIR   where the .deb goes (default: target/debian)
#
# Steps: `cargo install cargo-deb --locked` when cargo-deb is missing; one
# `cargo build --release --locked -p dhis2gw --bin dhis2gw` (a no-op when target/release is up to date);
# `cargo deb --no-build` (metadata: [package.metadata.deb] in Cargo.toml, scripts and files in
# debian/, the unit in systemd/); then a DEBIAN/md5sums is added (cargo-deb writes none) so
# `dpkg --verify dhis2gw` can check the installed files. Honours CARGO_TARGET_DIR.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=1
output=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --output) output=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-deb: unknown argument $1" >&2; exit 2 ;;
  esac
done
say() { echo "build-deb: $*" >&2; }
cd "$here"

if ! cargo deb --version >/dev/null 2>&1; then
  say "installing cargo-deb"
  cargo install cargo-deb --locked >&2
fi

target_dir=${CARGO_TARGET_DIR:-$here/target}
if [ "$build" = 1 ]; then
  say "cargo build --release --locked -p dhis2gw --bin dhis2gw"
  cargo build --release --locked -p dhis2gw --bin dhis2gw >&2
elif [ ! -x "$target_dir/release/dhis2gw" ]; then
  say "--no-build given but $target_dir/release/dhis2gw does not exist"
  exit 1
fi

output=${output:-$target_dir/debian}
mkdir -p "$output"
# cargo-deb prints the path of the .deb on stdout.
deb=$(cargo deb --no-build --output "$output" | tail -n 1)
[ -f "$deb" ] || { say "cargo deb did not produce a .deb (got: $deb)"; exit 1; }

# Add DEBIAN/md5sums: unpack, checksum every file, repack with root ownership.
if command -v dpkg-deb >/dev/null 2>&1; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  dpkg-deb -R "$deb" "$work/root"
  (cd "$work/root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
    xargs -0 md5sum) > "$work/root/DEBIAN/md5sums"
  chmod 0644 "$work/root/DEBIAN/md5sums"
  # Keep cargo-deb's timestamps: directories touched by the unpacking are clamped back.
  SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$work/root/usr/bin/dhis2gw")} \
    dpkg-deb --root-owner-group -Zxz -b "$work/root" "$deb" >&2
else
  say "dpkg-deb not found: the .deb has no md5sums"
fi

say "built $deb"
echo "$deb"
