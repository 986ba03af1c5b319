#!/usr/bin/env python3
"""Load, a DHIS2 stand-in and counting for packaging/faults.sh. Standard library only; the load
itself is packaging/failover_load.py's (unique sequence numbers as MAL_SUSP values).

  faults_load.py dhis2 PORT DELAY_FILE    the counting DHIS2 stand-in of failover_load.py, which
                                          first sleeps as many seconds as DELAY_FILE holds (absent
                                          or empty: none), for a long DHIS2 call on demand
  faults_load.py load OUT URL TOKEN SECONDS CLIENTS
  faults_load.py report NAME OUT DHIS2_PORT
                                          one line: accepted, delivered, lost, duplicated, the
                                          answers other than 200 and how long they lasted
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


def report(name, out, port):
    results = json.load(open(out))
    with urllib.request.urlopen("http://127.0.0.1:%s/counts" % port) as r:
        counts = {int(k): v for k, v in json.load(r).items()}
    accepted = {r["seq"] for r in results if r["status"] == 200}
    delivered = accepted & set(counts)
    refused = sorted((r for r in results if r["status"] != 200), key=lambda r: r["at"])
    by_status = {}
    for r in refused:
        by_status[str(r["status"])] = by_status.get(str(r["status"]), 0) + 1
    span = refused[-1]["at"] - refused[0]["at"] if refused else 0.0
    print("%-22s requests %5d  accepted %5d  delivered %5d  lost %d  duplicated %d  "
          "refused %s  recovered after %.1f s  delivered though not accepted %d" % (
              name, len(results), len(accepted), len(delivered), len(accepted - delivered),
              sum(c - 1 for c in counts.values() if c > 1),
              json.dumps(by_status, sort_keys=True) if by_status else "{}", span,
              len(set(counts) - accepted)))


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"dhis2": dhis2, "load": failover_load.load, "report": report}[mode](*args)
