"""Run the fake server on its own: ``python -m fake_openai --latency 0.3`` (from tests/).

Prints ``PORT <n>`` once listening, then serves correct replies until stdin closes. The
benchmark runs it in a separate process so that the server's work does not compete with
the grader for the interpreter lock: a real server is on another machine.
"""

from __future__ import annotations

import argparse
import sys

from fake_openai import FakeOpenAI


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--latency-max", type=float, default=None)
    args = ap.parse_args()
    with FakeOpenAI(latency=args.latency, latency_max=args.latency_max) as server:
        print(f"PORT {server.port}", flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or exits)


if __name__ == "__main__":
    main()
