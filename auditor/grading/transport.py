"""The chat-completions HTTP transport: one kept-alive aiohttp session per grader.

The grader sends a body it has already serialised (the very bytes it hashes and logs) and
reads the reply's bytes itself, so all it needs from an HTTP stack is a POST over a pool of
kept-alive connections. The SDK's own path (``AsyncOpenAI.post`` over httpx) cost ~2 ms of
CPU a request and httpx alone ~1.3 ms, against ~0.5 ms for aiohttp (its C HTTP parser),
measured side by side against the same local server (docs/llm-grading.md#the-client-at-scale);
at 100+ requests a second on one event loop that difference is most of a core.

What is kept from the SDK, so that nothing changes for a user:

* its configuration: ``OPENAI_BASE_URL`` (then the SDK's default) when no ``base_url`` is
  given, ``OPENAI_ORG_ID`` / ``OPENAI_PROJECT_ID`` as the ``OpenAI-Organization`` /
  ``OpenAI-Project`` headers, the bearer key;
* its typed errors: a non-2xx reply raises the SDK's own ``APIStatusError`` subclass with the
  message and body the SDK would have given it (built by the SDK from the response), a
  timeout ``openai.APITimeoutError`` and any other failure on the way
  ``openai.APIConnectionError`` — so the grader's retry, downgrade and provisional-grade
  rules are the same whatever the transport;
* its timeout semantics: ``timeout`` bounds getting a connection and each wait for bytes
  (as httpx's single-number timeout does), not the whole reply;
* proxies from the environment (``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY``), as httpx
  honours them, and TLS verified against ``SSL_CERT_FILE`` or certifi's bundle.

At most ``connections`` connections are open, all kept alive between requests: the grader
sets it to its ``--concurrency``, so at 128 requests in flight no reply closes a connection
that the next request would have to open again.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from typing import Any

import aiohttp
import httpx2
import openai
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from .. import __version__

KEEPALIVE_S = 30.0


def _ssl_context() -> ssl.SSLContext:
    cafile = os.environ.get("SSL_CERT_FILE")
    if not cafile:
        import certifi

        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile)


class ChatTransport:
    """POSTs request bodies to ``<base_url>/chat/completions``; see the module doc."""

    def __init__(
        self, *, api_key: str, base_url: str | None, timeout: float, connections: int
    ) -> None:
        # the SDK resolves the endpoint and the organisation headers; it sends nothing
        self._sdk = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout
        )
        # credentials written into the URL (``http://user:pass@host/v1``) are not sent: the
        # key is the bearer token, and aiohttp refuses both at once
        endpoint = URL(str(self._sdk.base_url).rstrip("/") + "/chat/completions")
        self.url = str(endpoint.with_user(None))
        self.headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": f"auditor/{__version__}",
            "Authorization": f"Bearer {api_key}",
        }
        if self._sdk.organization:
            self.headers["OpenAI-Organization"] = self._sdk.organization
        if self._sdk.project:
            self.headers["OpenAI-Project"] = self._sdk.project
        self.timeout = timeout
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxy: Any = None
        self._proxy_auth: aiohttp.BasicAuth | None = None
        self._request = httpx2.Request("POST", self.url)  # what the SDK's errors point at

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            # a session belongs to one event loop (tests run one loop per asyncio.run)
            self._loop = loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.connections,
                    limit_per_host=0,
                    keepalive_timeout=KEEPALIVE_S,
                    ssl=_ssl_context() if self.url.startswith("https:") else True,
                ),
                headers=self.headers,
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=self.timeout, sock_read=self.timeout
                ),
                skip_auto_headers=("Accept-Encoding",),
            )
            # proxies from the environment, as httpx honours them — looked up once: aiohttp's
            # trust_env would also read ~/.netrc in a thread for every request (~1 ms of CPU)
            try:
                self._proxy, self._proxy_auth = get_env_proxy_for_url(URL(self.url))
            except LookupError:
                self._proxy, self._proxy_auth = None, None
        return self._session

    async def post(self, content: bytes) -> bytes:
        """The body of a 2xx reply to ``content``; the SDK's typed errors otherwise."""
        session = self._get_session()
        try:
            async with session.post(
                self.url, data=content, proxy=self._proxy, proxy_auth=self._proxy_auth
            ) as resp:
                body = await resp.read()
                status = resp.status
                headers = resp.headers
        except TimeoutError as e:  # asyncio's too (an alias since 3.11); aiohttp's subclass it
            raise openai.APITimeoutError(request=self._request) from e
        except Exception as e:  # as the SDK: anything else on the way is a connection error
            raise openai.APIConnectionError(
                message=f"{type(e).__name__}: {e}", request=self._request
            ) from e
        if 200 <= status < 300:
            return body
        raise self.status_error(status, list(headers.items()), body)

    def status_error(
        self, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> openai.APIStatusError:
        """The SDK's own error for this reply (its subclass, message and parsed body)."""
        response = httpx2.Response(status, headers=headers, content=body, request=self._request)
        error: Any = self._sdk._make_status_error_from_response(response)
        return error  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        session = self._session
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()
        self._session = None
