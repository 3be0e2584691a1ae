"""Run the fake server on its own: ``python -m fake_openai --latency 0.3`` (from tests/).

Prints ``PORT <n>`` once listening, then serves correct replies until stdin closes; then
prints one ``STATS`` line (JSON: requests served, the latencies it drew, its own CPU time
and its time waiting for a CPU since it started listening, the most requests it held at
once) so the benchmark can compute the ideal rate from the latencies actually served and
show whether the server was the bottleneck. The benchmark runs it in a separate process
so that the server's work does not compete with the grader for the interpreter lock, and
the grader's CPU time is its own: a real server is on another machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
from pathlib import Path

from fake_openai import FakeOpenAI


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _waited() -> float:
    """Seconds this process's threads spent runnable but waiting for a CPU (Linux)."""
    total = 0
    for stat in Path("/proc/self/task").glob("*/schedstat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(stat.read_text().split()[1])
    return total / 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--latency-max", type=float, default=None)
    args = ap.parse_args()
    with FakeOpenAI(latency=args.latency, latency_max=args.latency_max) as server:
        started, waited = _cpu(), _waited()  # imports and start-up are not the serving cost
        print(f"PORT {server.port}", flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or exits)
        stats = {
            "requests": server.request_count,
            "delays": server.delays,
            "cpu_s": _cpu() - started,
            "waited_s": _waited() - waited,
            "max_in_flight": server.max_in_flight,
        }
    print("STATS " + json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
