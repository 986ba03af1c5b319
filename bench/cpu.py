#!/usr/bin/env python3
"""CPU time of the benchmark's processes, to show where each submission's CPU goes.

    cpu.py snapshot GW_PID PG_DATA REDIS_PID > FILE   # CPU seconds so far, by process group
    cpu.py per COUNT BEFORE AFTER                     # microseconds per item between two snapshots

Groups: dhis2gw; PostgreSQL (the postmaster, its live children, and the children it has reaped);
Redis; "rest" = every other non-idle CPU second of the machine (the load generator or the DHIS2
stand-in, plus whatever else runs). Reads /proc only.
"""
import json
import os
import sys

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


def postgres_seconds(pg_data):
    with open(os.path.join(pg_data, "postmaster.pid")) as f:
        master = int(f.readline())
    total = process_seconds(master, reaped=True)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid, (utime, stime, _, _) = stat(entry)
            except (FileNotFoundError, ProcessLookupError):
                continue
            if ppid == master:
                total += (utime + stime) / TICK
    return total


def machine_busy_seconds():
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]  # idle + iowait
    return (sum(cpu[:8]) - idle) / TICK


def snapshot(gw_pid, pg_data, redis_pid):
    groups = {
        "dhis2gw": process_seconds(gw_pid),
        "postgres": postgres_seconds(pg_data),
        "redis": process_seconds(redis_pid),
    }
    groups["rest"] = machine_busy_seconds() - sum(groups.values())
    json.dump(groups, sys.stdout)


def per(count, before_file, after_file):
    with open(before_file) as f:
        before = json.load(f)
    with open(after_file) as f:
        after = json.load(f)
    count = max(int(count), 1)
    parts = {k: (after[k] - before[k]) * 1e6 / count for k in before}
    total = sum(parts.values())
    print(" ".join(f"{k} {v:.0f}" for k, v in parts.items()) + f" = {total:.0f} µs")


if __name__ == "__main__":
    if sys.argv[1] == "snapshot":
        snapshot(*sys.argv[2:5])
    elif sys.argv[1] == "per":
        per(*sys.argv[2:5])
    else:
        sys.exit(__doc__)
