"""The grader's HTTP client (the openai SDK over its own aiohttp backend) against the local
fake server: the SDK's configuration and typed errors, connections kept alive and bounded."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx2
import openai
import pytest
from fake_openai import FakeOpenAI, Reply
from openai._models import FinalRequestOptions

from auditor import __version__
from auditor.grading.transport import _HEADERS, _OPTIONS, ChatTransport, sdk_client

BODY = json.dumps(
    {
        "model": "m",
        "messages": [
            {"role": "system", "content": "grade"},
            {"role": "user", "content": "<<<TRANSCRIPT\n[m1][agent] 您好\nTRANSCRIPT>>>"},
        ],
        "response_format": {"type": "json_object"},
    }
).encode()


def fake(**kw: float) -> FakeOpenAI:
    """The fake server answering every request with a fixed reply (this body has no schema)."""
    server = FakeOpenAI(**kw)
    server.responder = lambda body: Reply(contents=['{"a": 1}'])
    return server


def post(transport: ChatTransport, n: int = 1, concurrency: int = 1) -> list[bytes]:
    async def go() -> list[bytes]:
        sem = asyncio.Semaphore(concurrency)

        async def one() -> bytes:
            async with sem:
                return await transport.post(BODY)

        try:
            return list(await asyncio.gather(*(one() for _ in range(n))))
        finally:
            await transport.aclose()

    return asyncio.run(go())


def test_posts_the_bytes_as_given_with_the_sdk_headers(monkeypatch):
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    with fake() as server:
        t = ChatTransport(api_key="k1", base_url=server.url, timeout=5, connections=2)
        [reply] = post(t)
    assert json.loads(reply)["choices"][0]["message"]["content"] == '{"a": 1}'
    assert server.raw_bodies == [BODY]
    h = server.headers[0]
    assert h["authorization"] == "Bearer k1"
    assert h["content-type"] == "application/json"
    assert (h["openai-organization"], h["openai-project"]) == ("org-1", "proj-1")
    assert h["user-agent"] == f"auditor/{__version__}"


def test_base_url_comes_from_the_environment_when_not_given(monkeypatch):
    with fake() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        t = ChatTransport(api_key="k", base_url=None, timeout=5, connections=1)
        assert t.url == f"{server.url}/chat/completions"
        post(t)
    assert server.request_count == 1


def test_connections_are_kept_alive_and_bounded_by_the_pool():
    with fake(latency=0.02) as server:
        t = ChatTransport(api_key="k", base_url=server.url, timeout=5, connections=4)
        post(t, n=40, concurrency=4)
    assert server.request_count == 40
    assert server.max_in_flight <= 4
    assert 1 <= len(server.connections) <= 4  # 40 requests over at most 4 TCP connections


def test_status_errors_are_the_sdks_own_with_message_body_and_headers():
    with FakeOpenAI() as server:
        server.queue(
            Reply(
                status=429,
                headers={"retry-after": "7"},
                body={"error": {"message": "slow down", "type": "rate_limit"}},
            )
        )
        t = ChatTransport(api_key="k", base_url=server.url, timeout=5, connections=1)
        with pytest.raises(openai.RateLimitError) as caught:
            post(t)
    e = caught.value
    assert e.status_code == 429
    assert "slow down" in e.message
    assert e.body == {"message": "slow down", "type": "rate_limit"}
    assert e.response.headers["retry-after"] == "7"


def test_a_server_that_does_not_answer_in_time_is_an_sdk_timeout():
    with FakeOpenAI() as server:
        server.queue(Reply(delay=1.0))
        t = ChatTransport(api_key="k", base_url=server.url, timeout=0.2, connections=1)
        with pytest.raises(openai.APITimeoutError):
            post(t)


def test_nothing_listening_is_an_sdk_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = ChatTransport(api_key="k", base_url=f"http://127.0.0.1:{port}/v1", timeout=2, connections=1)
    with pytest.raises(openai.APIConnectionError) as caught:
        post(t)
    # the vendored backend maps it to httpx's ConnectTimeout; it is reported as what it is
    assert not isinstance(caught.value, openai.APITimeoutError)


def test_a_new_event_loop_gets_a_new_session():
    with fake() as server:
        t = ChatTransport(api_key="k", base_url=server.url, timeout=5, connections=1)
        post(t)
        post(t)  # a second asyncio.run: the first loop's session is not reused
    assert server.request_count == 2


def test_credentials_in_the_base_url_are_not_sent():
    with fake() as server:
        url = server.url.replace("http://", "http://bob:hunter2@")
        t = ChatTransport(api_key="k", base_url=url, timeout=5, connections=1)
        assert "hunter2" not in t.url
        post(t)
    assert server.request_count == 1
    assert server.headers[0]["authorization"] == "Bearer k"


def test_requests_go_through_the_sdk_over_its_aiohttp_backend():
    client = sdk_client(api_key="k", base_url="http://127.0.0.1:1/v1", timeout=5, connections=7)
    http = client._client
    assert isinstance(client, openai.AsyncOpenAI) and isinstance(http, openai.DefaultAioHttpClient)
    assert client.max_retries == 0  # tenacity is the one retry layer
    pool = http._transport
    assert type(pool).__name__ == "AiohttpTransport"
    assert pool.limits.max_connections == 7  # type: ignore[attr-defined]


def test_proxies_come_from_the_environment_as_the_sdk_takes_them(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    client = sdk_client(api_key="k", base_url="https://api.example/v1", timeout=5, connections=1)
    proxied = [t for t in client._client._mounts.values() if t is not None]
    assert [str(t.proxy.url) for t in proxied] == ["http://proxy.example:3128"]  # type: ignore[attr-defined]


def test_remembered_url_merges_are_the_sdks_own_and_follow_a_new_base_url():
    client = sdk_client(api_key="k", base_url="http://127.0.0.1:1/v1", timeout=5, connections=1)
    http = client._client
    for _ in range(2):  # computed, then remembered
        assert client._prepare_url("/chat/completions") == openai.AsyncOpenAI._prepare_url(
            client, "/chat/completions"
        )
        url = "http://127.0.0.1:1/v1/chat/completions"
        assert http._merge_url(url) == httpx2.AsyncClient._merge_url(http, url)
    client.base_url = "http://127.0.0.1:2/v2"
    assert str(client._prepare_url("/chat/completions")) == "http://127.0.0.1:2/v2/chat/completions"


def test_each_request_sends_its_own_body_through_the_prebuilt_options():
    bodies = [BODY.replace(b"grade", f"grade {i}".encode()) for i in range(6)]
    with fake(latency=0.01) as server:
        t = ChatTransport(api_key="k", base_url=server.url, timeout=5, connections=3)

        async def go() -> None:
            try:
                await asyncio.gather(*(t.post(b) for b in bodies))
            finally:
                await t.aclose()

        asyncio.run(go())
    assert sorted(server.raw_bodies) == sorted(bodies)
    assert {h["content-type"] for h in server.headers} == {"application/json"}


def _same_request(a: httpx2.Request, b: httpx2.Request) -> None:
    assert (a.method, a.url, a.headers.raw, a.extensions) == (
        b.method,
        b.url,
        b.headers.raw,
        b.extensions,
    )
    assert (a.read(), type(a.stream)) == (b.read(), type(b.stream))


def test_remembered_requests_are_the_sdks_own_and_follow_the_clients_state(monkeypatch):
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    client = sdk_client(api_key="k", base_url="http://127.0.0.1:1/v1", timeout=5, connections=1)
    sdk_build = openai.AsyncOpenAI._build_request

    def check(body: bytes, retries: int = 0) -> httpx2.Request:
        options = _OPTIONS.model_copy(update={"content": body, "headers": dict(_HEADERS)})
        for _ in range(2):  # built by the SDK and remembered, then from what was remembered
            ours = client._build_request(options, retries_taken=retries)
            _same_request(ours, sdk_build(client, options, retries_taken=retries))
        return ours

    first = check(b'{"a": 1}')
    assert (
        first.headers["content-length"] == "8" and first.headers["openai-organization"] == "org-1"
    )
    assert check(b'{"a": 12345}').headers["content-length"] == "12"  # each body its own length
    assert len(client._built) == 1  # one request remembered, whatever the body
    assert check(b"{}", retries=1).headers["x-stainless-retry-count"] == "1"
    client.api_key = "k2"
    assert check(b"{}").headers["authorization"] == "Bearer k2"
    client.base_url = "http://127.0.0.1:2/v2"
    assert str(check(b"{}").url) == "http://127.0.0.1:2/v2/chat/completions"
    client._client.cookies.set("session", "s1")  # a cookie from the server: the SDK's path
    assert check(b"{}").headers["cookie"] == "session=s1"
    # any other request shape is the SDK's own every time
    other = FinalRequestOptions.construct(method="post", url="/files", json_data={"a": 1})
    assert client._build_key(other, 0) is None
    client._client.cookies.clear()
    client._idempotency_header = "Idempotency-Key"  # a fresh key a request: never remembered
    ours = _OPTIONS.model_copy(update={"content": b"{}", "headers": dict(_HEADERS)})
    assert client._build_key(ours, 0) is None
