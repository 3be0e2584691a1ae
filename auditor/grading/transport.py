"""The grader's chat-completions client: the openai SDK over its own aiohttp backend.

Every request goes through the SDK (``AsyncOpenAI.request`` with the options its documented
low-level ``AsyncOpenAI.post`` builds to send a body as-is): the grader's body is already JSON — the very bytes it hashes and logs
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

Per request, the SDK's own work is most of the grader's HTTP CPU (``bench/http_stacks.py``),
so what does not change between requests is done once: the request options are built once
per client and copied with each body (what ``AsyncOpenAI.post`` builds afresh every call,
then hands to ``AsyncOpenAI.request``, which is what is called here), and the two URL merges
the SDK and its httpx client redo for every request (three URL parses of the same string)
are remembered per base URL — the same ``httpx2.URL`` objects they would compute. The
request ``AsyncOpenAI._build_request`` makes for the grader's options — its URL, its ~20
headers (the key, the organisation, the SDK's platform headers, the retry count, the read
timeout), its timeout extensions — is likewise built by the SDK once and remembered under
everything it is built from (the options, the retry count, the key, the base URL, the
timeouts, the custom and the httpx client's headers); each request is that request with its
own body and ``Content-Length`` (a test compares them with the SDK's, field by field, as the
client's state changes). Any other request, one with a cookie from the server, or a client
with an idempotency header, an auth provider or a workload identity, is built by the SDK
every time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import openai
from openai._models import FinalRequestOptions
from openai._types import NotGiven

from .. import __version__

#: idle connections are closed after this long: below the 5 s after which uvicorn (vLLM's and
#: most Python OpenAI-compatible servers' HTTP server) closes them, so a request is never sent
#: on a connection the server is closing (each such race cost a ServerDisconnectedError and a
#: retry: 128-243 in one loaded run at 128 in flight); busy connections are never idle that long
KEEPALIVE_S = 4.0
PATH = "/chat/completions"
#: the options ``AsyncOpenAI.post(PATH, content=..., options={"headers": JSON})`` builds,
#: built once; each request is a copy with its body (``request`` copies them again itself)
_HEADERS = {"Content-Type": "application/json"}
_OPTIONS = FinalRequestOptions.construct(
    method="post", url=PATH, json_data=None, files=None, headers=dict(_HEADERS)
)
_MEMO_MAX = 64  # distinct URLs remembered (the grader uses one)
#: SDK client state that makes each request's headers its own: requests are not remembered
_PER_REQUEST_STATE = (
    "_idempotency_header",
    "_provider_runtime",
    "_api_key_provider",
    "_workload_identity_auth",
)


def _timeout_key(timeout: Any) -> Any:
    """A timeout as a dictionary key (``httpx2.Timeout`` is not hashable)."""
    return tuple(timeout.as_dict().items()) if isinstance(timeout, httpx2.Timeout) else timeout


class _AioHttpClient(openai.DefaultAioHttpClient):
    """The SDK's aiohttp backend, remembering its URL merges: ``_merge_url`` is a function
    of the URL string and the client's ``base_url``, and the grader sends every request to
    one URL (httpx parses it from a string on every request otherwise)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._merged: dict[str, httpx2.URL] = {}
        self._merged_base: httpx2.URL | None = None

    def _merge_url(self, url: httpx2.URL | str) -> httpx2.URL:
        if not isinstance(url, str):
            return super()._merge_url(url)
        if self.base_url is not self._merged_base:
            self._merged, self._merged_base = {}, self.base_url
        merged = self._merged.get(url)
        if merged is None:
            merged = super()._merge_url(url)
            if len(self._merged) < _MEMO_MAX:
                self._merged[url] = merged
        return merged


class _OpenAI(openai.AsyncOpenAI):
    """``AsyncOpenAI`` remembering ``_prepare_url`` (a function of the path and its
    ``base_url``, two URL parses a request otherwise) and the request it builds for the
    grader's requests bar the body (see ``_build_request``); everything else is the SDK's."""

    _prepared: dict[str, httpx2.URL]
    _prepared_base: httpx2.URL | None = None
    _built: dict[tuple[Any, ...], tuple[str, httpx2.URL, httpx2.Headers, dict[str, Any]]]

    def _build_key(
        self, options: FinalRequestOptions, retries_taken: int
    ) -> tuple[Any, ...] | None:
        """Everything ``_build_request`` reads for a body sent as-is (``options.content``),
        or None for any other request (built by the SDK every time)."""
        if (
            not isinstance(options.content, bytes)
            or options.json_data is not None
            or options.extra_json is not None
            or options.files is not None
            or options.params
            or not isinstance(options.timeout, NotGiven)
            or not isinstance(options.headers, dict)
            # a fresh idempotency key a request; credentials computed per request (absent
            # from older SDKs, where there is nothing of the kind)
            or any(getattr(self, name, None) is not None for name in _PER_REQUEST_STATE)
            or self.default_query
            or self._client.cookies  # the cookie header is the jar's, request by request
        ):
            return None
        return (
            options.method,
            options.url,
            tuple(options.headers.items()),
            tuple(sorted(options.security.items())),
            retries_taken,
            self.api_key,
            self.base_url,
            _timeout_key(self.timeout),
            getattr(self, "_platform", None),
            tuple(self._custom_headers.items()),
            self._client,
            tuple(self._client.headers.raw),
            _timeout_key(self._client.timeout),
        )

    def _build_request(
        self, options: FinalRequestOptions, *, retries_taken: int = 0
    ) -> httpx2.Request:
        """The SDK's request, its URL, headers and extensions built once per key (the
        SDK merges ~20 headers through three ``Headers`` objects and the httpx client's
        defaults per request: ~70 µs of a warm ~90); each request carries its own body,
        and its ``Content-Length``, as the SDK's would."""
        key = self._build_key(options, retries_taken)
        if key is None:
            return super()._build_request(options, retries_taken=retries_taken)
        built = self.__dict__.setdefault("_built", {})
        template = built.get(key)
        if template is None:
            request = super()._build_request(options, retries_taken=retries_taken)
            if len(built) < _MEMO_MAX:
                headers = httpx2.Headers(
                    [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
                )
                built[key] = (request.method, request.url, headers, request.extensions)
            return request
        method, url, headers, extensions = template
        content = options.content
        assert isinstance(content, bytes)  # the key says so
        request = httpx2.Request(
            method,
            url,
            headers=headers,  # copied by Request
            # the body as httpx's ``content=`` makes it, its Content-Length set below: with
            # ``stream=`` httpx does not re-normalise the ~20 headers to add it
            stream=httpx2.ByteStream(content),
            extensions={k: dict(v) if isinstance(v, dict) else v for k, v in extensions.items()},
        )
        request.headers.encoding = headers.encoding  # known: not re-detected per request
        request.headers["Content-Length"] = str(len(content))
        request.read()
        return request

    def _prepare_url(self, url: str) -> httpx2.URL:
        if self.base_url is not self._prepared_base:
            self._prepared, self._prepared_base = {}, self.base_url
        prepared = self._prepared.get(url)
        if prepared is None:
            prepared = super()._prepare_url(url)
            if len(self._prepared) < _MEMO_MAX:
                self._prepared[url] = prepared
        return prepared


def sdk_client(
    *, api_key: str, base_url: str | None, timeout: float, connections: int
) -> openai.AsyncOpenAI:
    """An ``AsyncOpenAI`` over the SDK's aiohttp backend, ``connections`` kept alive."""
    client = _OpenAI(
        api_key=api_key,
        base_url=base_url,  # None: OPENAI_BASE_URL, then the SDK default
        max_retries=0,  # tenacity is the one retry layer
        timeout=timeout,
        default_headers={"User-Agent": f"auditor/{__version__}"},
        http_client=_AioHttpClient(
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
            # its own headers dict, as post() gives each request (the SDK may set a key's
            # header in it)
            options = _OPTIONS.model_copy(update={"content": content, "headers": dict(_HEADERS)})
            http = await self.client().request(httpx2.Response, options)
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
