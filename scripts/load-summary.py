#!/usr/bin/env python3
"""The summary table of scripts/load: reads oha's JSON results (and, for the
fault scenario, its SQLite records and the phase timeline) from a directory."""

import json
import os
import sqlite3
import sys

ORDER = ["anonymous", "signed-in", "fault-anonymous", "fault-signed-in"]


def ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def statuses(result):
    by_status = {int(k): v for k, v in result.get("statusCodeDistribution", {}).items()}
    ok = sum(v for k, v in by_status.items() if 200 <= k < 300)
    limited = by_status.get(429, 0)
    server = sum(v for k, v in by_status.items() if 500 <= k < 600)
    other = sum(by_status.values()) - ok - limited - server
    others = ",".join(
        f"{k}:{v}" for k, v in sorted(by_status.items()) if not (200 <= k < 300 or k == 429 or k >= 500)
    )
    return ok, limited, server, other, others


def slowest(histogram):
    """The upper edge of the last non-empty bucket: the slowest response."""
    edges = [float(k) for k, v in (histogram or {}).items() if v and k != "NaN"]
    return max(edges) if edges else None


def table(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(str(c).rjust(w) if i > 1 else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def summary(results, rate, duration):
    names = sorted(
        (f[:-5] for f in os.listdir(results) if f.endswith(".json")),
        key=lambda n: next((i for i, o in enumerate(ORDER) if n.startswith(o)), 99),
    )
    header = ["run", "answers", "target/s", "got/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
              "2xx", "429", "5xx", "other", "errors"]
    rows = [header]
    notes = []
    for name in names:
        with open(os.path.join(results, f"{name}.json")) as f:
            result = json.load(f)
        target = rate if not name.startswith("fault") else (rate + 1) // 2
        ok, limited, server, other, others = statuses(result)
        errors = sum(result.get("errorDistribution", {}).values())
        got = result["summary"]["requestsPerSec"]
        every = result["latencyPercentiles"]
        rows.append([name, "all", target, f"{got:.1f}", ms(every["p50"]), ms(every["p90"]), ms(every["p99"]),
                     ms(every["p99.9"]), ms(result["summary"]["slowest"]), ok, limited, server, other, errors])
        good = result.get("latencyPercentilesSuccessful", {})
        if ok:
            rows.append(["", "2xx", "", "", ms(good.get("p50")), ms(good.get("p90")), ms(good.get("p99")),
                         ms(good.get("p99.9")), ms(slowest(result.get("responseTimeHistogramSuccessful"))),
                         "", "", "", "", ""])
        if others:
            notes.append(f"{name}: other statuses {others}")
        for error, count in result.get("errorDistribution", {}).items():
            notes.append(f"{name}: {count} x {error}")
    print(f"\nload: summary ({duration} s per run, open loop, latency corrected; "
          "'all' counts 429s, '2xx' only real answers)\n")
    table(rows)
    for note in notes:
        print(f"  {note}")
    phases(results)


def phases(results):
    timeline = os.path.join(results, "fault-phases.tsv")
    if not os.path.exists(timeline):
        return
    with open(timeline) as f:
        events = [(int(t) / 1000, what) for t, what in (line.rstrip("\n").split("\t", 1) for line in f)]
    print("\nload: fault timeline (requests by the time they were due; latency corrected)\n")
    for stream in ["fault-anonymous", "fault-signed-in"]:
        db = os.path.join(results, f"{stream}.db")
        if not os.path.exists(db):
            continue
        rows = [["from s", "phase", "requests", "2xx", "429", "5xx", "other", "p99 ms", "max ms"]]
        with sqlite3.connect(db) as conn:
            records = conn.execute(
                "SELECT COALESCE(start_latency_correction, start), duration, status FROM oha"
            ).fetchall()
        # The first phase from oha's start, the last up to its final answer.
        bounds = [0.0] + [t for t, _ in events[1:-1]] + [float("inf")]
        for start, end, (_, what) in zip(bounds, bounds[1:], events):
            due = sorted(d for s, d, _ in records if start <= s < end)
            codes = [c for s, _, c in records if start <= s < end]
            ok = sum(1 for c in codes if 200 <= c < 300)
            limited = sum(1 for c in codes if c == 429)
            server = sum(1 for c in codes if c >= 500)
            p99 = due[min(len(due) - 1, int(len(due) * 0.99))] if due else None
            rows.append([f"{start:.2f}", what, len(codes), ok, limited, server, len(codes) - ok - limited - server,
                         ms(p99), ms(due[-1] if due else None)])
        print(f"{stream}:")
        table(rows)
        print()


if __name__ == "__main__":
    summary(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
