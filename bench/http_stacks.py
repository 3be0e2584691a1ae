"""Benchmark: CPU a request of the HTTP stacks the grader could send its requests through.

Posts the grader's real request bodies (the shipped zh rubric, synthetic chats; ~14 KB each)
to the fake OpenAI-compatible server in its own process, ``--concurrency`` in flight on one
event loop, through

* ``sdk``: ``AsyncOpenAI.post`` (the SDK's low-level call) over its default httpx stack;
* ``sdk-aiohttp``: the same call over the SDK's own aiohttp backend
  (``openai.DefaultAioHttpClient``), i.e. ``auditor.grading.transport.ChatTransport`` — what
  the grader uses;
* ``httpx``: a bare ``httpx2.AsyncClient`` with a pool of ``--concurrency`` connections;
* ``aiohttp``: a bare ``aiohttp.ClientSession`` with as many — the floor, no SDK at all;

and prints each one's CPU time a request (this process only: the server's is its own) and
wall time. With ``--latency-max`` each reply waits a uniform draw between ``--latency`` and
it, as in ``llm_throughput.py``: replies then arrive one at a time rather than in bursts, each
waking the event loop on its own, and every stack costs more a request (the grader's bench
shape). Run:
  python bench/http_stacks.py [--requests 600] [--concurrency 32,128]
  python bench/http_stacks.py --latency 0.2 --latency-max 2.0 --requests 300 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench"), str(REPO / "tests")]

import aiohttp  # noqa: E402
import httpx2  # noqa: E402
import openai  # noqa: E402
import orjson  # noqa: E402
from fake_openai.data import MemoryCallLog  # noqa: E402
from llm_throughput import server_process, synthetic_chats  # noqa: E402

from auditor.grading.openai_grader import OpenAIGrader  # noqa: E402
from auditor.grading.prompting import load_prompt, transcript_lines  # noqa: E402
from auditor.grading.transport import ChatTransport  # noqa: E402
from auditor.rubric import load_rubric  # noqa: E402

STACKS = ("sdk", "sdk-aiohttp", "httpx", "aiohttp")


def bodies(n: int) -> list[bytes]:
    rubric = load_rubric("online-chat-zh")
    prompt = load_prompt("zh")
    grader = OpenAIGrader("gpt-4o-mini", api_key="bench", call_log=MemoryCallLog())
    spec = grader._spec(rubric)
    return [
        orjson.dumps(
            grader._body(
                prompt.render(rubric, transcript_lines(chat)).messages, spec.response_format()
            )
        )
        for chat in synthetic_chats(n)
    ]


async def measure(
    stack: str, url: str, payloads: list[bytes], concurrency: int
) -> tuple[float, float]:
    close: Callable[[], Awaitable[None]]
    if stack == "sdk":
        sdk = openai.AsyncOpenAI(
            api_key="bench",
            base_url=url,
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(
                limits=httpx2.Limits(
                    max_connections=concurrency, max_keepalive_connections=concurrency
                )
            ),
        )

        async def send(body: bytes) -> bytes:
            r = await sdk.post(
                "/chat/completions",
                content=body,
                cast_to=httpx2.Response,
                options={"headers": {"Content-Type": "application/json"}},
            )
            return await r.aread()

        close = sdk.close
    elif stack == "httpx":
        client = httpx2.AsyncClient(
            base_url=url,
            headers={"Authorization": "Bearer bench", "Content-Type": "application/json"},
            limits=httpx2.Limits(
                max_connections=concurrency, max_keepalive_connections=concurrency
            ),
        )

        async def send(body: bytes) -> bytes:
            return (await client.post("/chat/completions", content=body)).content

        close = client.aclose
    elif stack == "sdk-aiohttp":
        transport = ChatTransport(
            api_key="bench", base_url=url, timeout=120, connections=concurrency
        )
        send = transport.post
        close = transport.aclose
    else:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency),
            headers={"Authorization": "Bearer bench", "Content-Type": "application/json"},
        )
        endpoint = f"{url}/chat/completions"

        async def send(body: bytes) -> bytes:
            async with session.post(endpoint, data=body) as r:
                return await r.read()

        close = session.close
    await send(payloads[0])  # warm-up: imports, first connection
    todo = iter(payloads)

    async def worker() -> None:
        for body in todo:
            reply = await send(body)
            assert b'"choices"' in reply

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - start
    await close()
    return cpu / len(payloads) * 1000, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--concurrency", default="32,128")
    ap.add_argument("--latency", type=float, default=0.05, help="server latency, s")
    ap.add_argument("--latency-max", type=float, default=None, help="varying latency: max, s")
    args = ap.parse_args()
    payloads = bodies(args.requests)
    with server_process(args.latency, args.latency_max) as (url, _):
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            for stack in STACKS:
                cpu_ms, wall = asyncio.run(measure(stack, url, payloads, concurrency))
                print(f"{stack:12s} {concurrency:4d} in flight: {cpu_ms:.2f} ms CPU a request, "
                      f"{wall:.2f} s wall for {len(payloads)}")  # fmt: skip


if __name__ == "__main__":
    main()
