#!/usr/bin/env python3
"""Load, a DHIS2 stand-in and counting for packaging/faults.sh. Standard library only; the load
itself is packaging/failover_load.py's (unique sequence numbers as MAL_SUSP values).

  faults_load.py dhis2 PORT DELAY_FILE    the counting DHIS2 stand-in of failover_load.py, which
                                          first sleeps as many seconds as DELAY_FILE holds (absent
                                          or empty: none), for a long DHIS2 call on demand
  faults_load.py load OUT URL TOKEN SECONDS CLIENTS [FIRST]
                                          failover_load.py's load; sequence numbers from FIRST
  faults_load.py check NAME OUT AFTER DHIS2_PORT ALLOWED MAX_DUPLICATED
                                          one line: requests, accepted, delivered, lost,
                                          duplicated, the answers other than 200 and how long
                                          they lasted, the answers to the load run AFTER the
                                          fault; then a line per broken rule, and exit status 1
                                          if there is one. Rules: nothing accepted is lost; at
                                          most MAX_DUPLICATED extra receptions; every answer
                                          other than 200 is in ALLOWED (comma-separated: 503,
                                          conn for no HTTP answer; empty: none), and a 503
                                          carries Retry-After; every request of AFTER is
                                          accepted
"""

import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import failover_load  # noqa: E402


def dhis2(port, delay_file):
    def delay():
        try:
            return float(open(delay_file).read().strip() or 0)
        except (OSError, ValueError):
            return 0

    failover_load.dhis2(port, delay)


def check(name, out, after, port, allowed, max_duplicated):
    results, probe = json.load(open(out)), json.load(open(after))
    allowed = set(filter(None, allowed.split(",")))
    with urllib.request.urlopen("http://127.0.0.1:%s/counts" % port) as r:
        counts = {int(k): v for k, v in json.load(r).items()}
    accepted = {r["seq"] for r in results if r["status"] == 200}
    accepted_after = {r["seq"] for r in probe if r["status"] == 200}
    lost = (accepted | accepted_after) - set(counts)
    duplicated = sum(c - 1 for c in counts.values() if c > 1)
    refused = sorted((r for r in results if r["status"] != 200), key=lambda r: r["at"])
    by_status = {}
    for r in refused:
        by_status[str(r["status"])] = by_status.get(str(r["status"]), 0) + 1
    span = refused[-1]["at"] - refused[0]["at"] if refused else 0.0
    print("%-24s requests %5d  accepted %5d  delivered %5d  lost %d  duplicated %d  "
          "refused %s  recovered after %.1f s  delivered though not accepted %d  "
          "afterwards %d/%d accepted" % (
              name, len(results), len(accepted), len(accepted & set(counts)), len(lost),
              duplicated, json.dumps(by_status, sort_keys=True) if by_status else "{}", span,
              len(set(counts) - accepted - accepted_after), len(accepted_after), len(probe)))

    broken = []
    if lost:
        broken.append("%d accepted submissions never reached DHIS2 (%s)" % (
            len(lost), ", ".join(map(str, sorted(lost)[:10]))))
    if duplicated > int(max_duplicated):
        broken.append("%d duplicated deliveries, at most %s allowed" % (duplicated, max_duplicated))
    unexpected = sorted({str(r["status"]) for r in refused
                         if ("conn" if isinstance(r["status"], str) else str(r["status"]))
                         not in allowed})
    if unexpected:
        broken.append("answers other than 200%s: %s" % (
            "".join(", " + a for a in sorted(allowed)), ", ".join(unexpected)))
    bare = sum(1 for r in refused if r["status"] == 503 and not r["retry_after"])
    if bare:
        broken.append("%d answers 503 without Retry-After" % bare)
    if not probe or len(accepted_after) < len(probe):
        broken.append("after the fault, %d of %d requests accepted" % (
            len(accepted_after), len(probe)))
    for b in broken:
        print("FAILED %s: %s" % (name, b))
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"dhis2": dhis2, "load": failover_load.load, "check": check}[mode](*args)
