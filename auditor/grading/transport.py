"""The grader's chat-completions client: the openai SDK over its own aiohttp backend.

Every request goes through the SDK (``AsyncOpenAI.post``, its documented low-level call that
sends a body as-is): the grader's body is already JSON — the very bytes it hashes and logs
are the bytes sent — and it reads the reply's bytes itself, so the typed
``chat.completions.create`` (which re-walks the body and builds pydantic models the grader
would dump again) is not used. The SDK's HTTP stack is ``openai.DefaultAioHttpClient`` — the
SDK's official aiohttp backend (the ``openai[aiohttp]`` extra) — rather than its default
httpx transport: measured side by side against the same local server
(``bench/http_stacks.py``, docs/llm-grading.md#the-client-at-scale) the httpx transport cost
most of the SDK's CPU a request, and at 100+ requests a second on one event loop that is most
of a core.

Everything else is the SDK's: its configuration (``OPENAI_BASE_URL`` then its default,
``OPENAI_ORG_ID`` / ``OPENAI_PROJECT_ID`` headers, the bearer key), its typed errors
(``APIStatusError`` subclasses, ``APITimeoutError``, ``APIConnectionError``), its timeout
semantics (``timeout`` bounds the connect, the pool wait and each read), proxies from the
environment (httpx's ``trust_env`` mounts a proxied aiohttp transport) and TLS settings.
Retries are the grader's (tenacity): the SDK's are off.

At most ``connections`` connections are open, all kept alive between requests: the grader
sets it to its ``--concurrency``, so at 128 requests in flight no reply closes a connection
that the next request would have to open again.
"""

from __future__ import annotations

import asyncio

import httpx2
import openai

from .. import __version__

KEEPALIVE_S = 30.0


def sdk_client(
    *, api_key: str, base_url: str | None, timeout: float, connections: int
) -> openai.AsyncOpenAI:
    """An ``AsyncOpenAI`` over the SDK's aiohttp backend, ``connections`` kept alive."""
    client = openai.AsyncOpenAI(
        api_key=api_key,
        base_url=base_url,  # None: OPENAI_BASE_URL, then the SDK default
        max_retries=0,  # tenacity is the one retry layer
        timeout=timeout,
        default_headers={"User-Agent": f"auditor/{__version__}"},
        http_client=openai.DefaultAioHttpClient(
            limits=httpx2.Limits(
                max_connections=connections,
                max_keepalive_connections=connections,
                keepalive_expiry=KEEPALIVE_S,
            ),
            timeout=timeout,
        ),
    )
    # credentials written into the URL (``http://user:pass@host/v1``) are not sent: the key
    # is the bearer token (aiohttp refuses both at once)
    if client.base_url.userinfo:
        client.base_url = client.base_url.copy_with(userinfo=b"")
    return client


def _root(e: BaseException) -> BaseException:
    while e.__cause__ is not None:
        e = e.__cause__
    return e


def _timed_out(e: openai.APITimeoutError) -> bool:
    """Whether the failure under the SDK's timeout error was a timeout (aiohttp's timeouts
    are ``TimeoutError``s; a refused or reset connection is not)."""
    root = _root(e)
    return root is e or isinstance(root, TimeoutError | httpx2.TimeoutException)


class ChatTransport:
    """POSTs request bodies to ``<base_url>/chat/completions`` through the SDK; see the
    module doc. One SDK client per grader, kept alive; a new one on a new event loop (an
    aiohttp session belongs to the loop it was made on — tests run one per asyncio.run)."""

    def __init__(
        self, *, api_key: str, base_url: str | None, timeout: float, connections: int
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self.connections = connections
        self.timeout = timeout
        self._client: openai.AsyncOpenAI | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.url = str(self.client().base_url).rstrip("/") + "/chat/completions"

    def client(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self._client = sdk_client(
                api_key=self._api_key,
                base_url=self._base_url,
                timeout=self.timeout,
                connections=self.connections,
            )
        return self._client

    async def post(self, content: bytes) -> bytes:
        """The body of a 2xx reply to ``content``; the SDK's typed errors otherwise."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:
                self._client = None  # the old loop's session cannot be used (nor closed) here
            self._loop = loop
        try:
            http = await self.client().post(
                "/chat/completions",
                content=content,
                cast_to=httpx2.Response,
                options={"headers": {"Content-Type": "application/json"}},
            )
            return await http.aread()
        except openai.APITimeoutError as e:
            if _timed_out(e):
                raise
            # the backend maps every aiohttp connection error to httpx's ConnectTimeout
            # (a refused connection included): reported as what it is, as the httpx one does
            raise openai.APIConnectionError(
                message=f"Connection error: {_root(e)!r}", request=e.request
            ) from e

    async def aclose(self) -> None:
        client = self._client
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.close()
        self._client = None
        self._loop = None
