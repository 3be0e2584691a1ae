"""The OpenAI grader: one request per chat grades every ``llm`` criterion of the rubric.

Works with any OpenAI-compatible chat-completions server (OpenAI, Azure OpenAI, vLLM,
Ollama, DeepSeek, Qwen …): the endpoint and key come from the SDK's standard
``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` (``base_url`` may override the former).

For each chat:

1. personal data is masked (``pii``), so nothing identifying leaves the machine;
2. the prompt is rendered: static prefix first (cacheable), fenced transcript last;
3. the request is answered from the call log if this exact request was answered before
   (status ``cached``, no HTTP), else sent — under the run budget, with at most
   ``concurrency`` requests in flight, and with tenacity as the one retry layer (SDK
   retries off): jittered exponential backoff on 429/5xx/timeouts/connection errors,
   honouring (a capped) ``Retry-After``;
4. every sample of the reply is validated per criterion (schema, then evidence against the
   transcript); criteria that fail are re-asked with the errors fed back in a fresh
   message list, within a small separate budget;
5. criteria that still fail become ``unscored`` grades with the reason — never dropped,
   never "poor". Quotes are stored as the transcript's original words.

Every HTTP attempt, failures included, is a row in the call log. ``response_format`` is
``json_schema`` (strict) by default (``auto``); a server that rejects it — any error, of any
status, whose body names ``response_format`` or ``json_schema``, as llama-cpp-python's HTTP
500 does — is remembered per grader instance and asked with ``json_object`` (schema in the
prompt) from then on. ``response_format="json_object"`` starts there; ``"json_schema"``
never downgrades (a rejection leaves the chat's grades unscored with the reason). Logprobs,
used for confidence, are likewise dropped for a server that rejects them.

A re-ask asks only for the criteria still without a valid answer: the prompt lists just
those criteria (and, in ``json_object`` mode, just their schema), and the model's previous
answer is fed back for just those criteria.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openai
import orjson
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from ..errors import BudgetExceeded, ConfigurationError, GraderError
from ..models import TRANSPORT_ERROR, Chat, Evidence, Grade, content_hash
from ..redact import register_secret
from ..rubric import Criterion, Rubric
from .base import CallLog
from .budget import RunBudget
from .confidence import Vote, consensus, level_probabilities
from .evidence import verify_evidence
from .injection import FLAG as INJECTION_FLAG
from .injection import detect_injection
from .pii import MaskedChat, mask_chat
from .pricing import Price, PriceTable
from .prompting import DEFAULT_PROMPTS_DIR, GradingPrompt, load_prompt, transcript_lines
from .schema import FENCE, NA, CriterionReply, ReplySpec
from .transport import ChatTransport

RESPONSE_FORMATS = ("auto", "json_schema", "json_object")

MISSING_KEY = (
    "set OPENAI_API_KEY (and OPENAI_BASE_URL for a non-OpenAI server) or pass --grader offline"
)


@dataclass
class RetrySettings:
    """Transport retries and re-asks. Tests shrink the waits and inject ``sleep``."""

    max_attempts: int = 6  # HTTP attempts per request (1 + retries)
    wait_multiplier: float = 0.5  # full jitter: uniform(0, min(wait_max, multiplier * 2**n))
    wait_max: float = 20.0
    retry_after_cap: float = 60.0  # never wait longer than this for a server's Retry-After
    reasks: int = 2  # extra requests when the output is invalid (separate budget)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass
class GraderStats:
    requests: int = 0  # HTTP attempts
    cached: int = 0  # requests answered from the call log
    retries: int = 0
    reasks: int = 0
    unscored: int = 0


class _Downgrade(Exception):
    """The server rejected a capability (json_schema, logprobs); retry at once without it."""


class _CallFailed(Exception):
    """A request that will not succeed for this chat; its grades become unscored.

    ``transport``: it failed on the way (timeouts, connection errors, 429/5xx after every
    retry), not on what the server said of the request; such grades are flagged
    ``transport_error`` and re-graded on the next run (see models.TRANSPORT_ERROR).
    """

    def __init__(self, message: str, *, transport: bool = False) -> None:
        super().__init__(message)
        self.transport = transport


@dataclass
class _Accepted:
    level: str
    reply: CriterionReply
    evidence: list[Evidence]
    confidence: float | None


@dataclass
class _Round:
    """What one (re-)ask produced, per criterion."""

    votes: dict[str, list[Vote]] = field(default_factory=dict)
    replies: dict[str, list[tuple[CriterionReply, list[Evidence]] | None]] = field(
        default_factory=dict
    )
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    content: str = ""

    def problems(self) -> list[str]:
        """Why this reply is unusable: empty when every criterion got at least one valid answer."""
        failed = [cid for cid, votes in self.votes.items() if all(v.level is None for v in votes)]
        if not failed:
            return []
        return self.general + [e for cid in failed for e in self.errors.get(cid, [])] or [
            f"no valid answer for {', '.join(failed)}"
        ]


def _only(rubric: Rubric, criteria: list[Criterion]) -> Rubric:
    """The rubric narrowed to ``criteria`` (for a re-ask), valid and with its own hash."""
    data = rubric.model_dump()
    ids = {c.id for c in criteria}
    data["criteria"] = [c for c in data["criteria"] if c["id"] in ids]
    data["total"] = sum(c.points for c in criteria)
    return Rubric.model_validate(data)


def _previous_answer(content: str, criteria: list[Criterion]) -> str:
    """The model's previous reply, cut down to ``criteria`` when it parses as a JSON object."""
    fenced = FENCE.match(content)
    try:
        data = orjson.loads(fenced.group(1) if fenced else content)
    except orjson.JSONDecodeError:
        return content[:8000]
    if not isinstance(data, dict):
        return content[:8000]
    ids = {c.id for c in criteria}
    if isinstance(data.get("grades"), list):
        data = {g.get("criterion"): g for g in data["grades"] if isinstance(g, dict)}
    return _dumps({k: v for k, v in data.items() if k in ids})[:8000]


def _names_response_format(text: str) -> bool:
    """Does a server's error text say it is ``response_format`` / ``json_schema`` it rejects?"""
    return "response_format" in text or "json_schema" in text


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, or ``Retry-After`` (seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _Downgrade | openai.APIConnectionError):  # includes timeouts
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


class OpenAIGrader:
    """Grades a chat's ``llm`` criteria with one chat-completions request (see module doc)."""

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        samples: int = 1,
        temperature: float | None = None,
        concurrency: int = 8,
        timeout: float = 120.0,
        max_output_tokens: int = 4096,
        max_cost: float | None = None,
        max_tokens: int | None = None,
        budget: RunBudget | None = None,
        call_log: CallLog | None = None,
        run_id: str | None = None,
        prompts_dir: Path | None = None,
        prices: Mapping[str, Price] | None = None,
        logprobs: bool = True,
        seed: int | None = None,
        mask_pii: bool = True,
        retry: RetrySettings | None = None,
        response_format: str = "auto",
    ):
        if not model:
            raise ConfigurationError("--grader openai needs --model (e.g. --model gpt-4o-mini)")
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ConfigurationError(MISSING_KEY)
        if response_format not in RESPONSE_FORMATS:
            raise ConfigurationError(
                f"--response-format must be one of {', '.join(RESPONSE_FORMATS)}, "
                f"not {response_format!r}"
            )
        if samples < 1 or concurrency < 1:
            raise ConfigurationError("--samples and --concurrency must be at least 1")
        self.model: str | None = model  # the Grader protocol's type; never None here
        self._model = model
        self.base_url = base_url
        self._api_key = key  # kept only in memory, never logged or stored
        register_secret(key)  # a server that echoes it back: redacted wherever it is written
        self.samples = samples
        # Sampling at temperature 0 would make k samples agree by construction.
        self.temperature = (
            temperature if temperature is not None else (0.0 if samples == 1 else 0.7)
        )
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_output_tokens = max_output_tokens
        self.call_log = call_log
        self.run_id = run_id
        self.prompts_dir = prompts_dir or DEFAULT_PROMPTS_DIR
        self.prices = PriceTable(prices)
        self.seed = seed
        self.mask_pii = mask_pii
        self.retry = retry or RetrySettings()
        self.budget = budget or RunBudget(max_cost_usd=max_cost, max_tokens=max_tokens)
        if self.budget.max_cost_usd is not None and self.prices.price(model) is None:
            raise ConfigurationError(
                f"no price is known for model {model!r}, so --max-cost cannot be enforced; "
                "use --max-tokens, or add the price in a file named by AUDITOR_PRICES"
            )
        # Capabilities, downgraded (once per instance) when the server rejects them.
        self.response_format = response_format
        self.json_schema = response_format != "json_object"
        self.logprobs = logprobs
        self.stats = GraderStats()
        self._transport: ChatTransport | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._specs: dict[str, ReplySpec] = {}
        self._prompts: dict[str, GradingPrompt] = {}
        self._backoff = wait_random_exponential(
            multiplier=self.retry.wait_multiplier, max=self.retry.wait_max
        )

    # -- protocol ----------------------------------------------------------------------

    def settings_key(self) -> str:
        prompts = ",".join(
            GradingPrompt(p).version for p in sorted(self.prompts_dir.glob("grade-*.yaml"))
        )
        return (
            f"openai|model={self.model}|prompts={prompts}|samples={self.samples}"
            f"|temperature={self.temperature:g}|max_output_tokens={self.max_output_tokens}"
            f"|reasks={self.retry.reasks}|seed={self.seed}|pii={'masked' if self.mask_pii else 'clear'}"
            + ("" if self.response_format == "auto" else f"|format={self.response_format}")
        )

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None

    async def grade(self, chat: Chat, rubric: Rubric) -> list[Grade]:
        criteria = rubric.llm_criteria
        if not criteria:
            return []
        flags = [INJECTION_FLAG] if detect_injection(chat) else []
        prompt = self._prompt(rubric.language)
        masked = mask_chat(chat, rubric.order_patterns if self.mask_pii else ())
        texts = {mid: mt.masked for mid, mt in masked.texts.items()} if self.mask_pii else None
        lines = transcript_lines(chat, texts)

        def base_messages(asked: Rubric) -> list[dict[str, str]]:
            schema = self._spec(asked).schema_json if not self.json_schema else ""
            return prompt.render(
                asked, lines, json_object=not self.json_schema, schema=schema
            ).messages

        accepted: dict[str, _Accepted] = {}
        errors: dict[str, list[str]] = {}
        failure: str | None = None
        transport = False
        previous: _Round | None = None
        rounds = 0
        for reask in range(self.retry.reasks + 1):
            rounds = reask + 1
            pending = [c for c in criteria if c.id not in accepted]
            # a re-ask asks only for the criteria still without a valid answer
            asked = rubric if len(pending) == len(criteria) else _only(rubric, pending)
            spec = self._spec(asked)

            def messages(
                prev: _Round | None = previous, pend: list[Criterion] = pending, ask: Rubric = asked
            ) -> list[dict[str, str]]:
                msgs = base_messages(ask)  # a fresh list every attempt
                if prev is not None:
                    errs = prev.general + [e for c in pend for e in prev.errors.get(c.id, [])]
                    msgs += [
                        {"role": "assistant", "content": _previous_answer(prev.content, pend)},
                        {"role": "user", "content": prompt.reask_message(errs)},
                    ]
                return msgs

            if reask:
                self.stats.reasks += 1

            def read(
                response: dict[str, Any], pend: list[Criterion] = pending, sp: ReplySpec = spec
            ) -> _Round:
                return self._read(response, sp, pend, chat, masked)

            try:
                this = await self._call(chat.chat_id, prompt.version, spec, messages, read, reask)
            except _CallFailed as e:
                failure = str(e)
                transport = e.transport
                break
            for c in pending:
                result = consensus(this.votes[c.id], self.samples, reasks=reask)
                if result.level is None or result.winner is None:
                    errors[c.id] = this.general + this.errors.get(c.id, [])
                    continue
                reply = this.replies[c.id][result.winner]
                assert reply is not None
                accepted[c.id] = _Accepted(result.level, reply[0], reply[1], result.confidence)
                errors.pop(c.id, None)
            if len(accepted) == len(criteria):
                break
            previous = this
        unscored_flags = [*flags, TRANSPORT_ERROR] if transport else flags
        return [
            self._grade_for(
                c,
                accepted.get(c.id),
                errors.get(c.id),
                failure,
                rounds,
                prompt,
                masked,
                flags if c.id in accepted else unscored_flags,
            )
            for c in criteria
        ]

    # -- building grades ---------------------------------------------------------------

    def _grade_for(
        self,
        c: Criterion,
        acc: _Accepted | None,
        errs: list[str] | None,
        failure: str | None,
        rounds: int,
        prompt: GradingPrompt,
        masked: MaskedChat,
        flags: list[str],
    ) -> Grade:
        common = dict(
            criterion=c.id,
            grader=self.name,
            model=self.model,
            prompt_version=prompt.version,
            flags=list(flags),
        )
        if acc is None:
            self.stats.unscored += 1
            if failure is not None:
                error = failure
            else:
                detail = "; ".join(errs or ["no valid answer"])
                error = f"invalid model output after {rounds} attempt(s): {detail}"
            return Grade(status="unscored", error=error, **common)  # type: ignore[arg-type]
        return Grade(
            status="na" if acc.level == NA else "scored",
            level=None if acc.level == NA else acc.level,
            evidence=acc.evidence,
            rationale=masked.masker.unmask(acc.reply.rationale),
            confidence=acc.confidence,
            **common,  # type: ignore[arg-type]
        )

    def _prompt(self, language: str) -> GradingPrompt:
        """The language's prompt, loaded once per grader: one run grades with one prompt
        version (and a stat of the file per chat cost ~50 µs)."""
        if language not in self._prompts:
            self._prompts[language] = load_prompt(language, self.prompts_dir)
        return self._prompts[language]

    def _spec(self, rubric: Rubric) -> ReplySpec:
        if rubric.hash not in self._specs:
            self._specs[rubric.hash] = ReplySpec(rubric)
        return self._specs[rubric.hash]

    def _read(
        self,
        response: dict[str, Any],
        spec: ReplySpec,
        criteria: list[Criterion],
        chat: Chat,
        masked: MaskedChat,
    ) -> _Round:
        """Parse and verify every sample (choice) of one response."""
        out = _Round(votes={c.id: [] for c in criteria}, replies={c.id: [] for c in criteria})
        choices = response.get("choices") or []
        if not choices:
            out.general.append("The reply had no choices.")
        for i, choice in enumerate(choices):
            content = (choice.get("message") or {}).get("content") or ""
            if i == 0:
                out.content = content
            parsed = spec.parse(content)
            if choice.get("finish_reason") == "length":
                parsed.errors.setdefault("_", []).append(
                    "Your reply was cut off at the length limit; keep rationales to one sentence."
                )
            tokens = [
                (t.get("token", ""), float(t.get("logprob", 0.0)))
                for t in ((choice.get("logprobs") or {}).get("content") or [])
            ]
            probs = level_probabilities(content, tokens) if tokens else {}
            if i == 0:
                out.general.extend(parsed.errors.get("_", []))
            for c in criteria:
                reply = parsed.grades.get(c.id)
                if reply is None:
                    if i == 0:
                        out.errors.setdefault(c.id, []).extend(parsed.errors.get(c.id, []))
                    out.votes[c.id].append(Vote(None))
                    out.replies[c.id].append(None)
                    continue
                check = verify_evidence(
                    [(e.message_id, e.quote) for e in reply.evidence],
                    chat,
                    criterion=c.id,
                    scope=c.scope,
                    masked=masked if self.mask_pii else None,
                    require=reply.level != NA,
                )
                if reply.level != NA and not check.ok:
                    if i == 0:
                        out.errors.setdefault(c.id, []).extend(check.errors)
                    out.votes[c.id].append(Vote(None))
                    out.replies[c.id].append(None)
                    continue
                out.votes[c.id].append(Vote(reply.level, probs.get(c.id)))
                out.replies[c.id].append((reply, check.evidence))
        return out

    # -- the HTTP call -----------------------------------------------------------------
    #
    # Our body is already JSON — the very bytes we hash and log are the bytes sent — so the
    # request goes through the SDK's low-level ``post`` path (its documented way to send a
    # body as-is; its options prebuilt, see transport.py) rather than the typed ``chat.completions.create``, which spent ~2 ms of CPU a
    # call re-walking the body and building pydantic models we would dump again. The SDK's
    # HTTP stack is its own aiohttp backend (``openai.DefaultAioHttpClient``), one pool of
    # kept-alive connections sized to ``concurrency`` (``transport.ChatTransport``); we keep
    # the SDK's configuration (OPENAI_BASE_URL, OPENAI_API_KEY, organisation headers,
    # timeouts, proxies) and its typed errors.

    def _get_transport(self) -> ChatTransport:
        if self._transport is None:
            self._transport = ChatTransport(
                api_key=self._api_key,
                base_url=self.base_url,  # None: OPENAI_BASE_URL, then the SDK default
                timeout=self.timeout,
                connections=self.concurrency,
            )
        return self._transport

    def _body(self, messages: list[dict[str, str]], fmt: dict[str, Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_output_tokens,
            "response_format": fmt or {"type": "json_object"},
        }
        if self.samples > 1:
            body["n"] = self.samples
        if self.logprobs:
            body["logprobs"] = True
        if self.seed is not None:
            body["seed"] = self.seed
        return body

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Downgrade):
            return 0.0
        if isinstance(exc, openai.APIStatusError):
            after = retry_after_seconds(exc.response.headers)
            if after is not None:
                return min(after, self.retry.retry_after_cap)
        return float(self._backoff(state))

    def _record(self, **row: Any) -> None:
        if self.call_log is None:
            return
        base = {
            "run_id": self.run_id,
            "created_at": _now(),
            "model": self.model,
            "http_status": None,
            "error": None,
            "tokens_in": 0,
            "tokens_out": 0,
            "tokens_cached": 0,
            "latency_ms": None,
            "cost_usd": None,
            "response": None,
        }
        base.update(row)
        self.call_log.record_call(base)

    async def _call(
        self,
        chat_id: str,
        prompt_version: str,
        spec: ReplySpec,
        make_messages: Callable[[], list[dict[str, str]]],
        read: Callable[[dict[str, Any]], _Round],
        reask: int,
    ) -> _Round:
        """One logical request: cache, budget, semaphore, tenacity retries; the reply, read."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            sleep=self.retry.sleep,
            reraise=True,
        )
        last_error = "no attempt made"
        try:
            async for attempt in retrying:
                with attempt:
                    n = attempt.retry_state.attempt_number
                    waited = attempt.retry_state.upcoming_sleep if n > 1 else 0.0
                    if n > 1:
                        self.stats.retries += 1
                    fmt = spec.response_format() if self.json_schema else None
                    body = self._body(make_messages(), fmt)
                    request_bytes = orjson.dumps(body)
                    request_json = request_bytes.decode()
                    request_hash = content_hash(request_bytes)  # the same bytes as the str
                    row = dict(
                        chat_id=chat_id,
                        prompt_version=prompt_version,
                        request_hash=request_hash,
                        attempt=n,
                        request=request_json,
                        reask=reask,
                        wait_s=round(waited, 3),
                        response_format=body["response_format"]["type"],
                    )
                    cached = self.call_log.cached_response(request_hash) if self.call_log else None
                    if cached is not None and cached.get("response"):
                        self.stats.cached += 1
                        self._record(status="cached", **row)
                        resp = cached["response"]
                        return read(orjson.loads(resp) if isinstance(resp, str | bytes) else resp)
                    return await self._send(body, row, read, request_bytes)
        except (BudgetExceeded, GraderError):
            raise
        except _CallFailed:
            raise
        except openai.APIStatusError as e:
            last_error = f"HTTP {e.status_code}: {e.message}"
        except openai.APITimeoutError:
            last_error = f"timed out after {self.timeout:g} s"
        except openai.APIConnectionError as e:
            last_error = f"connection error: {e}"
        except _Downgrade as e:
            last_error = str(e)
        raise _CallFailed(
            f"request failed after {self.retry.max_attempts} attempt(s): {last_error}",
            transport=True,
        )

    async def _send(
        self,
        body: dict[str, Any],
        row: dict[str, Any],
        read: Callable[[dict[str, Any]], _Round],
        content: bytes | None = None,
    ) -> _Round:
        """Send one HTTP request and record it.

        The row's status is ``ok`` only when the reply is usable (every criterion asked got a
        valid, evidence-verified answer); otherwise ``invalid_output`` with the reasons. Only
        ``ok`` rows are replayed from the cache, so a bad reply is asked afresh next time.
        ``content``: the request's bytes, those of ``row["request"]`` (not encoded again).
        """
        if self.budget.limited:
            try:
                self.budget.check()
            except BudgetExceeded as e:
                self._record(status="budget", error=str(e), **row)
                raise
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.concurrency)
        transport = self._get_transport()
        async with self._semaphore:
            self.stats.requests += 1
            start = time.perf_counter()
            try:
                # exactly the bytes hashed and logged
                reply = await transport.post(
                    row["request"].encode() if content is None else content
                )
            except openai.APIStatusError as e:
                self._record(
                    status="http_error",
                    http_status=e.status_code,
                    error=e.message[:500],
                    latency_ms=_ms(start),
                    response=_dumps(e.body) if e.body is not None else None,
                    **row,
                )
                self._classify_status_error(e)
                raise
            except openai.APITimeoutError:
                self._record(
                    status="timeout", error="request timed out", latency_ms=_ms(start), **row
                )
                raise
            except openai.APIConnectionError as e:
                self._record(
                    status="connection_error", error=str(e)[:500], latency_ms=_ms(start), **row
                )
                raise
            latency = _ms(start)
        return self._accept(reply, row, read, latency)

    def _accept(
        self,
        content: bytes,
        row: dict[str, Any],
        read: Callable[[dict[str, Any]], _Round],
        latency: float | None,
    ) -> _Round:
        """Read a 200 reply's body: usage and cost charged, every sample verified, one row.

        Shared with the Batch API path (``auditor.batch.replay``), which answers ``_send``
        from a batch's output file: a reply is judged the same however it arrived.
        """
        try:
            response = orjson.loads(content)
        except orjson.JSONDecodeError:
            response = {
                "error": "the server's 200 response was not JSON",
                "body": str(content[:500]),
            }
        if not isinstance(response, dict):
            response = {"error": "the server's 200 response was not a JSON object"}
        usage = response.get("usage") or {}
        tokens_in = int(usage.get("prompt_tokens") or 0)
        tokens_out = int(usage.get("completion_tokens") or 0)
        tokens_cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        cost = self.prices.cost(self._model, tokens_in, tokens_out, tokens_cached)
        self.budget.charge(tokens_in + tokens_out, cost)
        result = read(response)
        problems = result.problems()
        self._record(
            status="invalid_output" if problems else "ok",
            http_status=200,
            error="; ".join(problems)[:1000] if problems else None,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            tokens_cached=tokens_cached,
            latency_ms=latency,
            cost_usd=cost,
            response=_dumps(response),
            **row,
        )
        return result

    def _classify_status_error(self, e: openai.APIStatusError) -> None:
        """Turn a status error into a downgrade, a whole-run failure, or leave it be."""
        text = f"{e.message} {e.body}".lower()
        # Any status: llama-cpp-python answers json_schema with HTTP 500 and a validation
        # error naming response_format; retrying it unchanged can never succeed.
        if self.json_schema and (
            _names_response_format(text) or (e.status_code in (400, 422) and "structured" in text)
        ):
            if self.response_format == "json_schema":
                # not a verdict on the chat: the server never graded it, so its result is
                # provisional (not a pass) and the next run grades it again
                raise _CallFailed(
                    f"the server rejected response_format json_schema (HTTP {e.status_code}: "
                    f"{e.message[:300]}); pass --response-format auto or json_object",
                    transport=True,
                ) from e
            self.json_schema = False
            raise _Downgrade(
                f"the server rejected response_format json_schema (HTTP {e.status_code})"
            ) from e
        if e.status_code in (400, 422) and self.logprobs and "logprobs" in text:
            self.logprobs = False
            raise _Downgrade("the server rejected logprobs") from e
        if e.status_code in (401, 403):
            raise GraderError(
                f"the server refused the API key (HTTP {e.status_code}); check OPENAI_API_KEY "
                "(and OPENAI_BASE_URL), or pass --grader offline"
            ) from e
        if e.status_code == 404:
            raise GraderError(
                f"the server returned 404 for model {self.model!r}: check --model and "
                "OPENAI_BASE_URL / --base-url"
            ) from e
        if not _is_transient(e):
            raise _CallFailed(f"request rejected: HTTP {e.status_code}: {e.message[:300]}") from e
