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
wall time.

``--in-memory`` measures the SDK's own layers alone: the same bodies through
``ChatTransport.post`` (the grader's call) and through the SDK's plain ``AsyncOpenAI.post``
(over the same aiohttp-backed client, nothing remembered), the HTTP transport under both
replaced by one that answers a canned reply from memory (no socket, no server), minus what
that stand-in costs itself — warm CPU a request of the SDK and httpx code on the path. With ``--latency-max`` each reply waits a uniform draw between ``--latency`` and
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


def _sdk_post(sdk: openai.AsyncOpenAI) -> Callable[[bytes], Awaitable[bytes]]:
    """A body sent as-is through the SDK's documented low-level ``post``, the reply's bytes."""

    async def send(body: bytes) -> bytes:
        r = await sdk.post(
            "/chat/completions",
            content=body,
            cast_to=httpx2.Response,
            options={"headers": {"Content-Type": "application/json"}},
        )
        return await r.aread()

    return send


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

        send = _sdk_post(sdk)
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


_REPLY = orjson.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "{}"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 2250, "completion_tokens": 400},
    }
)
_REPLY_HEADERS = [
    (b"date", b"Wed, 02 Dec 2026 15:00:00 GMT"),
    (b"server", b"uvicorn"),
    (b"content-length", str(len(_REPLY)).encode()),
    (b"content-type", b"application/json"),
]


class _Memory(httpx2.AsyncBaseTransport):
    """Answers every request with the same 200 reply, from memory."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200,
            headers=_REPLY_HEADERS,
            stream=httpx2.ByteStream(_REPLY),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": b"OK"},
        )


async def in_memory(payloads: list[bytes], rounds: int = 5) -> dict[str, float]:
    """Best-of-``rounds`` warm CPU µs a request of each call, the in-memory stand-in's own
    cost subtracted (see the module doc)."""
    transport = ChatTransport(
        api_key="bench", base_url="http://127.0.0.1:9/v1", timeout=120, connections=32
    )
    ours = transport.client()
    plain = openai.AsyncOpenAI(
        api_key="bench",
        base_url="http://127.0.0.1:9/v1",
        max_retries=0,
        timeout=120,
        http_client=openai.DefaultAioHttpClient(),
    )
    for client in (ours, plain):
        client._client._transport = _Memory()  # type: ignore[attr-defined]
        client._client._mounts = {}  # type: ignore[attr-defined]
    stand_in = _Memory()

    sdk_post = _sdk_post(plain)

    async def memory_only(body: bytes) -> bytes:
        return await (await stand_in.handle_async_request(httpx2.Request("POST", "/"))).aread()

    calls = {
        "ChatTransport.post (the grader's)": transport.post,
        "AsyncOpenAI.post (the SDK as shipped)": sdk_post,
        "the in-memory stand-in alone": memory_only,
    }
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, call in calls.items():
            for body in payloads[:20]:
                await call(body)
            cpu = time.process_time()
            for body in payloads:
                await call(body)
            us = (time.process_time() - cpu) / len(payloads) * 1e6
            best[name] = min(us, best.get(name, us))
    await transport.aclose()
    await plain.close()
    base = best.pop("the in-memory stand-in alone")
    return {name: us - base for name, us in best.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--concurrency", default="32,128")
    ap.add_argument("--latency", type=float, default=0.05, help="server latency, s")
    ap.add_argument("--latency-max", type=float, default=None, help="varying latency: max, s")
    ap.add_argument(
        "--in-memory", action="store_true", help="the SDK's own layers only (see the doc)"
    )
    args = ap.parse_args()
    payloads = bodies(args.requests)
    if args.in_memory:
        for name, us in asyncio.run(in_memory(payloads)).items():
            print(f"{name}: {us:.0f} µs CPU a request in the SDK and httpx (warm, best of 5)")
        return
    with server_process(args.latency, args.latency_max) as (url, _):
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            for stack in STACKS:
                cpu_ms, wall = asyncio.run(measure(stack, url, payloads, concurrency))
                print(f"{stack:12s} {concurrency:4d} in flight: {cpu_ms:.2f} ms CPU a request, "
                      f"{wall:.2f} s wall for {len(payloads)}")  # fmt: skip


if __name__ == "__main__":
    main()
