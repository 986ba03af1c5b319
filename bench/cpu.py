#!/usr/bin/env python3
"""CPU time of the benchmark's processes, to show where each submission's CPU goes.

    cpu.py snapshot GW_PIDS PG_DATA REDIS_PID [ANSWERER_PID] > FILE  # CPU seconds so far, by group
    cpu.py per COUNT BEFORE AFTER                     # microseconds per item between two snapshots
    cpu.py compare COUNT_A BEFORE_A AFTER_A COUNT_B BEFORE_B AFTER_B
                                                      # per item in A and in B, and B / A - 1
(COUNT, BEFORE and AFTER may each list several phases, comma-separated: summed.)
    cpu.py vacuums PG_LOG                             # autovacuum's runs and CPU by table

GW_PIDS is one pid or several, comma-separated (instances of dhis2gw on one PostgreSQL and Redis:
their CPU is summed). Groups: dhis2gw; PostgreSQL, in two parts: "pg-clients" (the backends serving connections) and
"pg-background" (the postmaster, its WAL writer, checkpointer, background writer, autovacuum
launcher, and every child it has reaped: autovacuum workers exit when their table is done);
Redis; the DHIS2 stand-in ("answerer", when its pid is given); "steal", time the hypervisor gave
to another guest; "rest" = every other non-idle CPU second of the machine (the load generator,
plus whatever else runs); and, apart from the total, "irq", the machine's interrupt time
(loopback TCP's softirqs, partly charged to the processes above as well). Reads /proc only.
"""
import json
import os
import re
import sys
from collections import defaultdict

TICK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    return int(fields[1]), [int(x) for x in fields[11:15]]


def process_seconds(pid, reaped=False):
    try:
        _, (utime, stime, cutime, cstime) = stat(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (utime + stime + (cutime + cstime if reaped else 0)) / TICK


# Titles of PostgreSQL's own processes (`ps` shows "postgres: walwriter" and so on); every other
# child of the postmaster is a backend serving a connection.
BACKGROUND = ("checkpointer", "background writer", "walwriter", "autovacuum", "logical replication",
              "archiver")


def is_background(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            title = f.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return True
    # "postgres: walwriter", or "postgres: main: walwriter" with a cluster_name.
    return title.startswith("postgres: ") and any(f": {name}" in title for name in BACKGROUND)


def postgres_seconds(pg_data):
    """(client backends, background) CPU seconds so far."""
    with open(os.path.join(pg_data, "postmaster.pid")) as f:
        master = int(f.readline())
    clients, background = 0.0, process_seconds(master, reaped=True)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid, (utime, stime, _, _) = stat(entry)
            except (FileNotFoundError, ProcessLookupError):
                continue
            if ppid == master:
                if is_background(entry):
                    background += (utime + stime) / TICK
                else:
                    clients += (utime + stime) / TICK
    return clients, background


def machine_seconds():
    """(busy, interrupts, steal) CPU seconds of the whole machine so far."""
    with open("/proc/stat") as f:
        # user nice system idle iowait irq softirq steal
        cpu = [int(x) for x in f.readline().split()[1:9]]
    busy = sum(cpu) - cpu[3] - cpu[4]
    return busy / TICK, (cpu[5] + cpu[6]) / TICK, cpu[7] / TICK


def snapshot(gw_pids, pg_data, redis_pid, answerer_pid=None):
    pg_clients, pg_background = postgres_seconds(pg_data)
    groups = {
        "dhis2gw": sum(process_seconds(pid) for pid in gw_pids.split(",")),
        "pg-clients": pg_clients,
        "pg-background": pg_background,
        "redis": process_seconds(redis_pid),
    }
    if answerer_pid:
        groups["answerer"] = process_seconds(answerer_pid)
    busy, interrupts, steal = machine_seconds()
    # Steal is time the hypervisor gave to another guest: no process here ran.
    groups["steal"] = steal
    groups["rest"] = busy - sum(groups.values())
    # Interrupt time (loopback TCP's softirqs, mostly) is shown on its own but not subtracted:
    # the kernel charges part of it to the process it interrupted.
    groups["irq"] = interrupts
    json.dump(groups, sys.stdout)


def per_item(count, before_files, after_files):
    """Microseconds per item by group between two snapshots, irq apart. Each argument may list
    several phases, comma-separated (counts, before and after files in the same order): their
    CPU and their items are summed."""
    counts = [int(c) for c in str(count).split(",")]
    befores, afters = before_files.split(","), after_files.split(",")
    assert len(counts) == len(befores) == len(afters), "as many counts as snapshot pairs"
    total = defaultdict(float)
    for before_file, after_file in zip(befores, afters):
        with open(before_file) as f:
            before = json.load(f)
        with open(after_file) as f:
            after = json.load(f)
        for k in before:
            total[k] += after[k] - before[k]
    items = max(sum(counts), 1)
    return {k: v * 1e6 / items for k, v in total.items()}


def per(count, before_file, after_file):
    parts = per_item(count, before_file, after_file)
    irq = parts.pop("irq", 0.0)
    total = sum(parts.values())
    print(" ".join(f"{k} {v:.0f}" for k, v in parts.items()) + f" = {total:.0f} µs (irq {irq:.0f})")


# The gateway's own stack: what coordination between instances can cost. The answerer, the load
# generator ("rest"), steal and interrupts are left out of its total.
STACK = ("dhis2gw", "pg-clients", "pg-background", "redis")


def compare(count_a, before_a, after_a, count_b, before_b, after_b):
    """Per item in phase A and in phase B, by group, and how much more B costs (B / A - 1)."""
    a = per_item(count_a, before_a, after_a)
    b = per_item(count_b, before_b, after_b)
    rows = [(k, a[k], b[k]) for k in a if k != "irq"]
    rows.append(("stack", sum(a[k] for k in STACK), sum(b[k] for k in STACK)))
    for name, x, y in rows:
        change = f"{100 * (y / x - 1):+.1f} %" if x > 0.5 else "-"
        print(f"  {name:<14} {x:7.1f} µs {y:7.1f} µs   {change}")
    print(f"  (stack = {' + '.join(STACK)}; irq {a['irq']:.0f} and {b['irq']:.0f} µs, partly inside "
          "the others)")


def vacuums(pg_log):
    """Autovacuum and autoanalyze runs and their CPU seconds by table, from a server log written
    with log_autovacuum_min_duration = 0 (each run: an "automatic vacuum|analyze of table" line,
    later a "system usage: CPU: user: U s, system: S s" line). Catalog tables left out."""
    runs = defaultdict(lambda: [0, 0.0])
    current = None
    with open(pg_log, errors="replace") as f:
        for line in f:
            started = re.search(r'automatic (vacuum|analyze) of table "([^"]+)"', line)
            if started:
                current = f"{started.group(2)} {started.group(1)}"
                continue
            usage = re.search(r"system usage: CPU: user: ([0-9.]+) s, system: ([0-9.]+) s", line)
            if usage and current:
                if ".pg_catalog." not in current and ".information_schema." not in current:
                    runs[current][0] += 1
                    runs[current][1] += float(usage.group(1)) + float(usage.group(2))
                current = None
    print(", ".join(f"{name} {n}× {cpu:.2f} s" for name, (n, cpu) in sorted(runs.items()))
          or "none")


if __name__ == "__main__":
    if sys.argv[1] == "snapshot":
        snapshot(*sys.argv[2:6])
    elif sys.argv[1] == "per":
        per(*sys.argv[2:5])
    elif sys.argv[1] == "compare":
        compare(*sys.argv[2:8])
    elif sys.argv[1] == "vacuums":
        vacuums(sys.argv[2])
    else:
        sys.exit(__doc__)
