#!/usr/bin/env python3
"""Runs the installed dhis2gw the way its systemd unit does, without systemd, and checks the
contract the unit relies on. Part of packaging/check-deb.sh.

    check-deb-serve.py WORKDIR HTTP_PORT

Starts `/usr/bin/dhis2gw serve --config-file /etc/dhis2gw/dhis2gw.yml` as user dhis2gw in
/var/lib/dhis2gw with NOTIFY_SOCKET and WATCHDOG_USEC pointing at sockets this script owns, and,
when no journald runs here, plays journald on /run/systemd/journal/socket (removed afterwards).
Checks: READY=1 (Type=notify), /health answers, WATCHDOG=1 pings (WatchdogSec), every journal
entry has SYSLOG_IDENTIFIER=dhis2gw, SIGHUP reloads (ExecReload), SIGTERM exits 0 within the
drain (TimeoutStopSec) and logs a structured F_SIGNAL field (journalctl -o verbose).
Prints one line per check: `ok <what>`, `fail <what>: <why>` or `skip <what>: <why>`.
"""

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request

JOURNAL_DIR = "/run/systemd/journal"
JOURNAL_SOCKET = JOURNAL_DIR + "/socket"
CONFIG = "/etc/dhis2gw/dhis2gw.yml"


def report(ok, what, why=""):
    print(("ok " if ok else "fail ") + what + ("" if ok else ": " + why), flush=True)


def parse_journal_entry(data):
    """Fields of one journal native-protocol datagram: KEY=value lines, or KEY newline,
    64-bit little-endian length, value, newline."""
    fields, i = [], 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = nl + 1
        else:
            key = line
            (size,) = struct.unpack_from("<Q", data, nl + 1)
            start = nl + 1 + 8
            value = data[start : start + size]
            i = start + size + 1
        fields.append((key.decode(), value.decode(errors="replace")))
    return fields


class Sockets:
    """The notify socket and, when we play journald, the journal socket."""

    def __init__(self, work):
        self.notify_path = os.path.join(work, "notify.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        os.chmod(self.notify_path, 0o777)
        self.journal = None
        self.created_dir = False
        if not os.path.exists(JOURNAL_SOCKET):
            if not os.path.isdir(JOURNAL_DIR):
                os.makedirs(JOURNAL_DIR)
                self.created_dir = True
            self.journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.journal.bind(JOURNAL_SOCKET)
            os.chmod(JOURNAL_SOCKET, 0o666)
        self.notifications = []  # (time, message)
        self.entries = []  # list of field lists

    def pump(self, seconds):
        """Collects datagrams for up to `seconds`."""
        end = time.monotonic() + seconds
        socks = [s for s in (self.notify, self.journal) if s]
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select(socks, [], [], left)
            for s in ready:
                data = s.recv(1 << 20)
                if s is self.notify:
                    for msg in data.decode().split("\n"):
                        if msg:
                            self.notifications.append((time.monotonic(), msg))
                else:
                    if not data:
                        continue  # tracing-journald probes the socket with an empty datagram
                    try:
                        self.entries.append(parse_journal_entry(data))
                    except (ValueError, struct.error):
                        self.entries.append([("UNPARSABLE", repr(data[:80]))])

    def wait_for(self, predicate, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if predicate():
                return True
            self.pump(0.2)
        return predicate()

    def messages(self):
        return [dict(e).get("MESSAGE", "") for e in self.entries]

    def close(self):
        if self.journal:
            self.journal.close()
            os.unlink(JOURNAL_SOCKET)
            if self.created_dir:
                os.rmdir(JOURNAL_DIR)
        self.notify.close()


def main():
    work, port = sys.argv[1], int(sys.argv[2])
    socks = Sockets(work)
    stderr_path = os.path.join(work, "serve.stderr")
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "NOTIFY_SOCKET": socks.notify_path,
        "WATCHDOG_USEC": "1000000",
    }
    if socks.journal:
        env["JOURNAL_STREAM"] = "0:0"  # dhis2gw only checks that it is set
    # sh and setpriv exec into dhis2gw, so its pid is the one systemd would set as MAINPID and
    # WATCHDOG_PID (sd-notify pings only when WATCHDOG_PID is its own pid), and signals reach it.
    cmd = ["sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh",
           "setpriv", "--reuid=dhis2gw", "--regid=dhis2gw", "--init-groups", "--no-new-privs",
           "--", "/usr/bin/dhis2gw", "serve", "--config-file", CONFIG]
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(cmd, env=env, cwd="/var/lib/dhis2gw", stdout=err, stderr=err)
    try:
        run_checks(socks, proc, port, stderr_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        socks.close()
        with open(stderr_path, errors="replace") as f:
            tail = f.read()[-3000:]
        if tail:
            print("--- dhis2gw stderr (tail) ---\n" + tail)
        if socks.entries:
            print("--- journal entries (last 15) ---")
            for e in socks.entries[-15:]:
                print("  " + " ".join(f"{k}={v}" for k, v in e if k in
                      ("SYSLOG_IDENTIFIER", "PRIORITY", "MESSAGE") or k.startswith("F_")))


def log_text(socks, stderr_path):
    with open(stderr_path, errors="replace") as f:
        return "\n".join(socks.messages()) + "\n" + f.read()


def run_checks(socks, proc, port, stderr_path):
    ready = socks.wait_for(lambda: any(m == "READY=1" for _, m in socks.notifications)
                           or proc.poll() is not None, 120)
    ready = ready and proc.poll() is None
    report(ready, "READY=1 on NOTIFY_SOCKET after migrations and bind (Type=notify)",
           f"exit code {proc.poll()}, notifications {socks.notifications}")
    if not ready:
        return
    ready_at = next(t for t, m in socks.notifications if m == "READY=1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
            status = r.status
    except Exception as e:  # noqa: BLE001 - report whatever went wrong
        status = repr(e)
    report(status == 200, f"GET /health on :{port} answers 200 once READY=1 was sent", str(status))

    socks.pump(2.5)
    pings = [t for t, m in socks.notifications if m == "WATCHDOG=1" and t >= ready_at]
    report(len(pings) >= 3, "WATCHDOG=1 pings every WATCHDOG_USEC/2 (WatchdogSec)",
           f"{len(pings)} pings in 2.5 s with WATCHDOG_USEC=1s")

    proc.send_signal(signal.SIGHUP)
    reloaded = socks.wait_for(lambda: "configuration reloaded" in log_text(socks, stderr_path), 10)
    report(reloaded and proc.poll() is None,
           "SIGHUP (systemctl reload) re-reads the config and keeps running",
           "no 'configuration reloaded' log line")

    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    try:
        code = proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        code = None
    took = time.monotonic() - started
    socks.pump(0.5)
    report(code == 0 and took < 25, "SIGTERM (systemctl stop) exits 0 within the drain and TimeoutStopSec",
           f"exit code {code} after {took:.1f} s")

    if not socks.journal:
        print("skip journald fields: a journald already owns " + JOURNAL_SOCKET, flush=True)
        return
    idents = {dict(e).get("SYSLOG_IDENTIFIER") for e in socks.entries}
    report(bool(socks.entries) and idents == {"dhis2gw"},
           "every journal entry has SYSLOG_IDENTIFIER=dhis2gw (journalctl -u dhis2gw)",
           f"{len(socks.entries)} entries, identifiers {idents}")
    structured = any(("F_SIGNAL", "SIGTERM") in e for e in socks.entries)
    report(structured, "log fields reach the journal as F_* fields (journalctl -o verbose)",
           "no entry with F_SIGNAL=SIGTERM")


if __name__ == "__main__":
    main()
