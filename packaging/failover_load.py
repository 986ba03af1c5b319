#!/usr/bin/env python3
"""Load and counting for the failover and scale-out scripts (packaging/failover-*.sh,
packaging/scale-out.sh). Standard library only.

  failover_load.py dhis2 PORT                  a DHIS2 stand-in: answers POST /api/dataValueSets
                                               like DHIS2 2.40 and counts each submission it gets
                                               (GET /counts: {"<seq>": times received})
  failover_load.py load OUT URLS TOKEN SECONDS CLIENTS [FIRST] [RATE]
                                               POSTs aggregate submissions round robin over the
                                               comma-separated base URLS; each carries a unique
                                               sequence number as its MAL_SUSP value; writes what
                                               each request got to OUT (JSON); sequence numbers
                                               start at FIRST (1); with RATE > 0, request i is
                                               sent at i / RATE seconds from the start (or as
                                               soon as a client is free, if all are busy), else
                                               each client sends as fast as it is answered
  failover_load.py latency OUT SECONDS         prints accepted (and per second over SECONDS),
                                               other answers, p50 and p99 latency of the
                                               accepted, and how many requests left more than
                                               10 ms after their slot (paced loads)
  failover_load.py report OUT DHIS2_PORT [FIRST]
                                               prints accepted, delivered, lost, duplicated, 503s
                                               (requests and seconds), 5xx other than 503,
                                               connection errors, for the sequence numbers from
                                               FIRST on
"""

import itertools
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IMPORTED = (
    '{"httpStatus":"OK","httpStatusCode":200,"message":"Import was successful.","response":'
    '{"conflicts":[],"description":"Import process completed successfully","importCount":'
    '{"deleted":0,"ignored":0,"imported":%d,"updated":0},"rejectedIndexes":[],'
    '"responseType":"ImportSummary","status":"SUCCESS"},"status":"OK"}'
)


def dhis2(port, delay=lambda: 0):
    """The counting DHIS2 stand-in; `delay()` gives the seconds to wait before each import."""
    counts = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, body):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/counts":
                with lock:
                    self.answer(200, json.dumps(counts))
            else:
                self.answer(200, '{"version":"2.40.3"}')

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            time.sleep(delay())
            values = body.get("dataValues", [])
            seqs = {v["value"] for v in values if v.get("dataElement") == "gLEO1XbX0ii"}
            with lock:
                for seq in seqs:
                    counts[seq] = counts.get(seq, 0) + 1
            self.answer(200, IMPORTED % len(values))

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # a client killed mid-call (the kill scenarios) resets its connection

    Server(("127.0.0.1", int(port)), Handler).serve_forever()


def load(out, urls, token, seconds, clients, first="1", rate="0"):
    urls = urls.split(",")
    seq = itertools.count(int(first))
    rate = float(rate)
    results = []
    lock = threading.Lock()
    start = time.time()
    deadline = start + float(seconds)

    def client(n):
        for i in itertools.count(n):
            s = next(seq)  # thread-safe in CPython: each number is taken once
            slot = start + (s - int(first)) / rate if rate > 0 else time.time()
            if slot >= deadline or time.time() >= deadline:
                return
            if slot > time.time():
                time.sleep(slot - time.time())
            url = urls[i % len(urls)] + "/api/v2/aggregate"
            body = json.dumps({
                "orgUnit": "KFZHpp8BEUA", "period": "202401", "dataSet": "S6zKJrYKAzR",
                "dataValues": {"MAL_SUSP": s},
            }).encode()
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "Authorization": "Bearer " + token, "Content-Type": "application/json"})
            started = time.time()
            try:
                with urllib.request.urlopen(request, timeout=30) as r:
                    status, retry_after = r.status, None
                    r.read()
            except urllib.error.HTTPError as e:
                status, retry_after = e.code, e.headers.get("Retry-After")
                e.read()
            except Exception as e:  # refused, reset: the instance is down
                status, retry_after = "conn:" + type(e).__name__, None
                time.sleep(0.05)
            took = time.time() - started
            with lock:
                results.append({"seq": s, "status": status, "at": started, "slot": slot,
                                "took": took, "retry_after": retry_after, "url": url})

    threads = [threading.Thread(target=client, args=(n,)) for n in range(int(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        json.dump(results, f)


def latency(out, seconds):
    results = json.load(open(out))
    ok = sorted(r["took"] for r in results if r["status"] == 200)
    late = sum(1 for r in results if r["at"] - r["slot"] > 0.010)
    pct = lambda q: 1000 * ok[min(len(ok) - 1, int(q * len(ok)))] if ok else float("nan")
    print("accepted %d (%.1f/s), other answers %d, p50 %.1f ms, p99 %.1f ms, %d sent more than "
          "10 ms after their slot" % (len(ok), len(ok) / float(seconds), len(results) - len(ok),
                                      pct(0.50), pct(0.99), late))


def report(out, port, first="1"):
    results = json.load(open(out))
    with urllib.request.urlopen("http://127.0.0.1:%s/counts" % port) as r:
        counts = {int(k): v for k, v in json.load(r).items() if int(k) >= int(first)}
    accepted = {r["seq"] for r in results if r["status"] == 200}
    unavailable = [r for r in results if r["status"] == 503]
    seconds_503 = len({int(r["at"]) for r in unavailable})
    span = (max(r["at"] for r in unavailable) - min(r["at"] for r in unavailable)) if unavailable else 0
    other_5xx = [r for r in results if isinstance(r["status"], int) and r["status"] >= 500 and r["status"] != 503]
    conn = [r for r in results if isinstance(r["status"], str)]
    other = [r for r in results if isinstance(r["status"], int) and r["status"] not in (200, 503) and r["status"] < 500]
    delivered = accepted & set(counts)
    print("requests %d, accepted %d, delivered %d, lost %d, duplicated %d (%d submissions "
          "received twice or more), 503 answers %d over %d distinct seconds (first to last %.1f s), "
          "503 without Retry-After %d, other 5xx %d, other 4xx %d, connection errors %d, "
          "delivered though not accepted %d" % (
              len(results), len(accepted), len(delivered), len(accepted - delivered),
              sum(c - 1 for c in counts.values() if c > 1), sum(1 for c in counts.values() if c > 1),
              len(unavailable), seconds_503, span,
              sum(1 for r in unavailable if not r["retry_after"]), len(other_5xx), len(other),
              len(conn), len(set(counts) - accepted)))


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"dhis2": dhis2, "load": load, "latency": latency, "report": report}[mode](*args)
