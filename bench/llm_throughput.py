"""Benchmark: OpenAI-grader throughput against a local server with fixed latency.

Starts the test suite's fake OpenAI-compatible server (tests/fake_openai) on 127.0.0.1 with
a fixed per-request latency, grades N distinct synthetic chats with the shipped rubric at a
given concurrency, and prints

* throughput as a share of the ideal (``concurrency / latency`` requests per second): what
  the grader's own overhead (masking, rendering, validation, evidence checks, the SDK)
  costs when the network is the bottleneck — the issue's target is >= 90 %;
* prompt tokens per chat split into the static prefix (instructions, rubric levels,
  few-shot examples: identical across chats, so billed at the cached rate after the first)
  and the transcript, estimated with ``auditor.grading.prompting.estimate_tokens``
  (1 token per CJK character, 1 per 4 other characters; tiktoken would need to download
  its encodings).

It also prints the grader's CPU time per chat, which bounds throughput from above whatever
the latency (one event loop, one core): on a busy machine the share of ideal drops while
the CPU figure stays put, so read the two together.

With ``--latency-max`` every reply waits a uniform draw between ``--latency`` and it (the
issue's 200-2,000 ms: ``--latency 0.2 --latency-max 2.0``); the ideal is then concurrency
divided by the MEAN latency the server actually drew.

Run:  python bench/llm_throughput.py [--chats 320] [--concurrency 32] [--latency 0.3]
      python bench/llm_throughput.py --latency 0.2 --latency-max 2.0 --concurrency 32,128
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from fake_openai import FakeOpenAI  # noqa: E402
from fake_openai.data import MemoryCallLog, make_chat  # noqa: E402

from auditor.grading.openai_grader import OpenAIGrader  # noqa: E402
from auditor.grading.pii import mask_chat  # noqa: E402
from auditor.grading.prompting import estimate_tokens, load_prompt, transcript_lines  # noqa: E402
from auditor.models import Chat  # noqa: E402
from auditor.rubric import load_rubric  # noqa: E402

_CUSTOMER = [
    "你好，我的订单{order}三天了还没发货，怎么回事？",
    "快递显示已签收，但我根本没收到！太气人了",
    "我想退货，商品有质量问题，手机号{phone}",
    "请问这个优惠券为什么用不了？",
    "能不能帮我改一下收货地址？",
    "你们的客服怎么这么慢，我等了好久了",
]
_AGENT = [
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "非常抱歉给您带来不便，我马上为您查询一下。",
    "查到了，您的包裹在转运中心，预计明天送达，我会帮您持续跟进。",
    "我理解您的心情，已经为您申请了加急处理。",
    "请您提供一下订单号，我帮您核实。",
    "已为您登记退货申请，快递员会在24小时内联系您。",
    "请问还有什么可以帮到您的吗？感谢您的耐心等待。",
]


def synthetic_chats(n: int, seed: int = 7) -> list[Chat]:
    """``n`` distinct zh chats of 6-10 messages, some with phone and order numbers."""
    rnd = random.Random(seed)
    chats = []
    for i in range(n):
        turns = []
        for t in range(rnd.randint(3, 5)):
            text = rnd.choice(_CUSTOMER).format(order=f"DD{20240000 + i}", phone=f"1380000{i:04d}")
            turns.append(("customer", f"{text}（{i}-{t}）"))
            turns.append(("agent", rnd.choice(_AGENT)))
        chats.append(make_chat(*turns, chat_id=f"bench-{i}"))
    return chats


@dataclass
class ServerStats:
    """What the server process reported when it stopped (see tests/fake_openai/__main__.py)."""

    requests: int = 0
    delays: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    waited_s: float = 0.0  # its threads runnable but waiting for a CPU (a loaded machine)
    max_in_flight: int = 0


@contextmanager
def server_process(
    latency: float, latency_max: float | None = None
) -> Iterator[tuple[str, ServerStats]]:
    """The fake server in its own process (as a real server would be); yields its base URL
    and the stats it reports when it stops (filled in on leaving the ``with``)."""
    extra = ["--latency-max", str(latency_max)] if latency_max is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "fake_openai", "--latency", str(latency), *extra],
        cwd=REPO / "tests",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    stats = ServerStats()
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise SystemExit(f"fake server did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}/v1", stats
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        for line in proc.stdout or ():
            if line.startswith("STATS "):
                stats.__dict__.update(json.loads(line[6:]))
        proc.wait(timeout=15)


def run_queue_wait() -> float | None:
    """Seconds this thread has spent runnable but waiting for a CPU (Linux schedstat): on a
    shared machine, the part of the wall time the grader lost to other processes."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


@dataclass
class Run:
    elapsed: float  # wall seconds, first request to last reply
    cpu_s: float  # the grading process's CPU over the run (the server's is not in it)
    waited_s: float | None  # runnable but not running (another process had the CPU)
    done_at: list[float]  # seconds from the start at which each chat's grades were ready
    grader: OpenAIGrader

    def steady_rate(self) -> float:
        """Chats a second between the 10th and 90th percentile completions: every slot busy
        (the ramp-up before the first replies and the drain after the last request left
        are outside it, as they are outside ``concurrency / mean latency``)."""
        times = sorted(self.done_at)
        lo, hi = len(times) // 10, len(times) * 9 // 10
        return (hi - lo) / (times[hi] - times[lo])


async def run(chats: list[Chat], concurrency: int, url: str) -> Run:
    rubric = load_rubric("online-chat-zh")
    grader = OpenAIGrader(
        "gpt-4o-mini",
        base_url=url,
        api_key="bench",
        concurrency=concurrency,
        call_log=MemoryCallLog(),
    )
    # Warm up (imports, TLS context, connection pool) outside the timed run.
    await grader.grade(synthetic_chats(1, seed=99)[0], rubric)
    todo = iter(chats)
    done_at: list[float] = []
    unscored = 0

    async def worker() -> None:
        # as the pipeline runs it: ``concurrency`` chats in flight, the next one taken up
        # (masked, rendered) when one finishes, not every chat prepared up front
        nonlocal unscored
        for chat in todo:
            grades = await grader.grade(chat, rubric)
            done_at.append(time.perf_counter() - start)
            unscored += sum(g.status == "unscored" for g in grades)

    wait_start = run_queue_wait()
    start, cpu_start = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    wait_end = run_queue_wait()
    waited = wait_end - wait_start if wait_start is not None and wait_end is not None else None
    await grader.aclose()
    if unscored:
        raise SystemExit(f"{unscored} grades unscored: the benchmark is invalid")
    return Run(elapsed, cpu, waited, done_at, grader)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chats", type=int, default=None, help="default: ~20 s of ideal rate")
    ap.add_argument("--concurrency", default="32", help="comma-separated, e.g. 32,128")
    ap.add_argument("--latency", type=float, default=0.3, help="server latency per request, s")
    ap.add_argument("--latency-max", type=float, default=None, help="varying latency: max, s")
    ap.add_argument(
        "--in-process",
        action="store_true",
        help="serve from a thread of this process (shares the GIL and the CPU figure with "
        "the grader: pessimistic)",
    )
    args = ap.parse_args()
    mean_latency = (
        args.latency if args.latency_max is None else (args.latency + args.latency_max) / 2
    )
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        n = args.chats or max(concurrency * 4, int(20 * concurrency / mean_latency))
        chats = synthetic_chats(n)
        if args.in_process:
            with FakeOpenAI(latency=args.latency, latency_max=args.latency_max) as server:
                result = asyncio.run(run(chats, concurrency, server.url))
            stats = ServerStats(len(server.delays), server.delays, 0.0, 0.0, server.max_in_flight)
        else:
            with server_process(args.latency, args.latency_max) as (url, stats):
                result = asyncio.run(run(chats, concurrency, url))
        report(chats, concurrency, args.latency, args.latency_max, result, stats)


def report(
    chats: list[Chat],
    concurrency: int,
    latency: float,
    latency_max: float | None,
    result: Run,
    server: ServerStats,
) -> None:
    grader = result.grader
    requests = grader.stats.requests - 1  # minus the warm-up
    # the ideal from the latencies the server actually drew for the timed requests
    delays = server.delays[1:] or [latency]
    mean = statistics.mean(delays)
    ideal = concurrency / mean
    steady = result.steady_rate()
    whole = len(chats) / result.elapsed
    rubric = load_rubric("online-chat-zh")
    prompt = load_prompt("zh")
    prefix_tokens = []
    transcript_tokens = []
    for chat in chats[:200]:
        masked = mask_chat(chat, rubric.order_patterns)
        texts = {mid: mt.masked for mid, mt in masked.texts.items()}
        rendered = prompt.render(rubric, transcript_lines(chat, texts))
        prefix_tokens.append(estimate_tokens(rendered.static_prefix))
        transcript_tokens.append(estimate_tokens(rendered.transcript))
    prefix = statistics.mean(prefix_tokens)
    transcript = statistics.mean(transcript_tokens)
    shape = (
        f"{latency * 1000:.0f} ms"
        if latency_max is None
        else f"{latency * 1000:.0f}-{latency_max * 1000:.0f} ms"
    )
    cpu_ms = result.cpu_s / len(chats) * 1000
    print(f"chats: {len(chats)}, HTTP requests: {requests}, concurrency: {concurrency}, "
          f"latency: {shape}, mean drawn {mean * 1000:.0f} ms over {len(delays)} replies")  # fmt: skip
    print(f"steady rate (10th-90th percentile completions): {steady:.1f} chats/s, "
          f"ideal {ideal:.1f}/s (concurrency / mean latency): SHARE OF IDEAL {steady / ideal:.1%}")  # fmt: skip
    print(f"whole run incl. ramp-up and drain: {result.elapsed:.2f} s, {whole:.1f} chats/s, "
          f"{whole / ideal:.1%} of ideal")  # fmt: skip
    print(f"GRADER CPU PER CHAT: {cpu_ms:.2f} ms (this process only) -> CPU-bound ceiling "
          f"{1000 / cpu_ms:.0f} chats/s, {1000 / cpu_ms / ideal:.1f}x the ideal; "
          f"{result.cpu_s / result.elapsed:.0%} of a core used")  # fmt: skip
    observed = [r["latency_ms"] for r in grader.call_log.rows[1:] if r["latency_ms"] is not None]  # type: ignore[union-attr]
    if observed:
        print(f"latency seen by the grader (send to reply read, from the call log): mean "
              f"{statistics.mean(observed):.0f} ms, {statistics.mean(observed) - mean * 1000:+.0f} ms "
              f"on the drawn latency (the server's parsing and answering, the network, and "
              f"waiting for this process to be scheduled)")  # fmt: skip
    if result.waited_s is not None:
        print(f"machine load: the grader waited {result.waited_s:.1f} s for a CPU while runnable "
              f"({result.waited_s / result.elapsed:.0%} of the run; 0% on a quiet machine)")  # fmt: skip
    if server.cpu_s:
        print(f"server (own process): {server.cpu_s / max(1, server.requests) * 1000:.2f} ms CPU a "
              f"request, {server.cpu_s / result.elapsed:.0%} of a core over the run, waited "
              f"{server.waited_s:.1f} s for a CPU, at most {server.max_in_flight} requests held "
              "at once")  # fmt: skip
    print(f"prompt tokens per chat (estimate): static prefix {prefix:.0f} "
          f"(identical across chats: {len(set(prefix_tokens)) == 1}), transcript {transcript:.0f}, "
          f"prefix share {prefix / (prefix + transcript):.0%}")  # fmt: skip
    print(f"grader stats: {grader.stats}")


if __name__ == "__main__":
    main()
