"""Grading prompts: files in ``prompts/``, versioned by content hash, rendered per chat.

A prompt file (``prompts/grade-<language>.yaml``) holds langchain-core f-string templates:
the system instructions, the user message that fences the transcript, the small templates
that lay out each criterion and level, and few-shot examples. langchain-core parses each
template's variables at load time, so a misspelt ``{variable}`` is an error naming the
file, not a prompt silently sent with a hole in it.

The rendered request is two messages. Everything that does not depend on the chat comes
first — the system message (instructions, the rubric's criteria and levels, the examples)
and the head of the user message — and is byte-identical for every chat graded with the
same rubric, so providers' automatic prompt caching bills it at the cached rate. The
transcript comes last, fenced, one line per message tagged ``[id][role]``.

The prompt version is ``grade-<language>@<hash of the file>``: edit the file and the version
(and the grader's ``settings_key``) changes, so stored grades are never reused for a
different prompt.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import yaml
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate
from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import PromptError
from ..models import Chat, content_hash
from ..rubric import Criterion, Rubric
from ..shipped import shipped_dir
from .schema import criterion_levels

#: the shipped prompts: the repo's prompts/ in a checkout, auditor/prompts in a wheel
DEFAULT_PROMPTS_DIR = shipped_dir("prompts")
FENCE_OPEN, FENCE_CLOSE = "<<<TRANSCRIPT", "TRANSCRIPT>>>"

_REQUIRED_VARS = {
    "system": {"criteria", "examples"},
    "user": {"transcript"},
    "criterion": {"id", "title", "description", "scope", "levels"},
    "level": {"id", "points", "description"},
    "na": {"when"},
    "example": {"n", "transcript", "reply"},
    "json_object_suffix": {"schema"},
    "reask": {"errors"},
}


class _ExampleMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    role: str
    text: str
    auto: bool = False


class _Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transcript: list[_ExampleMessage]
    grades: dict[str, dict[str, Any]]


class _PromptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str
    system: str
    user: str
    criterion: str
    level: str
    na: str
    scope_agent: str
    scope_chat: str
    example: str
    json_object_suffix: str
    reask: str
    examples: list[_Example] = []


@dataclass(frozen=True)
class TranscriptLine:
    id: str
    role: str
    text: str
    auto: bool = False


@dataclass
class RenderedPrompt:
    """The messages to send, and the two parts the benchmark measures."""

    messages: list[dict[str, str]]
    static_prefix: str  # system message + user message up to the transcript
    transcript: str
    prompt_version: str


def estimate_tokens(text: str) -> int:
    """A documented, dependency-free token estimate (tiktoken would download encodings).

    Each CJK character or full-width punctuation mark counts as one token (BPE
    tokenizers spend about one token per Chinese character); the rest as one token per four
    characters, the usual figure for English text.
    """
    wide = len(re.findall(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]", text))
    return wide + math.ceil((len(text) - wide) / 4)


def _neutralise(text: str) -> str:
    """Keep message text from closing the fence or faking a message tag on a new line."""
    text = text.replace("<<<", "«").replace(">>>", "»")
    return "\n    ".join(text.splitlines()) if "\n" in text or "\r" in text else text


def render_transcript(lines: list[TranscriptLine]) -> str:
    out = []
    for line in lines:
        role = "agent-auto" if line.role == "agent" and line.auto else line.role
        out.append(f"[{line.id}][{role}] {_neutralise(line.text)}")
    return "\n".join(out)


def transcript_lines(chat: Chat, texts: dict[str, str] | None = None) -> list[TranscriptLine]:
    """The chat's messages, with ``texts`` (message id -> masked text) in place of the originals."""
    return [
        TranscriptLine(m.id, m.role, texts[m.id] if texts else m.text, m.auto)
        for m in chat.messages
    ]


def _fmt_points(p: float) -> str:
    return f"{p:g}"


_MARKER = "\x00TRANSCRIPT\x00"


class GradingPrompt:
    """One prompt file, loaded and checked; renders requests for any rubric."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise PromptError(f"cannot read prompt file {path}: {e}") from e
        try:
            self.spec = _PromptFile.model_validate(yaml.safe_load(self.text))
        except (yaml.YAMLError, ValidationError) as e:
            raise PromptError(f"invalid prompt file {path}: {e}") from e
        self.version = f"{path.stem}@{content_hash(self.text)[:12]}"
        self.templates: dict[str, PromptTemplate] = {}
        for key, needed in _REQUIRED_VARS.items():
            try:
                tmpl = PromptTemplate.from_template(getattr(self.spec, key))
            except Exception as e:  # langchain reports bad braces as ValueError/KeyError
                raise PromptError(f"invalid template {key!r} in {path}: {e}") from e
            got = set(tmpl.input_variables)
            if got != needed:
                raise PromptError(
                    f"template {key!r} in {path} must use exactly the variables "
                    f"{sorted(needed)}, found {sorted(got)}"
                )
            self.templates[key] = tmpl
        self.chat_template = ChatPromptTemplate.from_messages(
            [("system", "{system}"), ("human", self.spec.user)]
        )
        self._static: dict[tuple[str, bool, str], tuple[str, str]] = {}
        # the user message around the transcript, split once: per chat, the message is
        # ``transcript.join(parts)``, what formatting the template gives (``render_with_langchain``
        # is the reference a test compares with) at a tenth of the CPU
        self._user_parts = self.templates["user"].format(transcript=_MARKER).split(_MARKER)

    # -- the static part ---------------------------------------------------------------

    def _criterion_block(self, c: Criterion) -> str:
        t = self.templates
        levels = [
            t["level"].format(id=lv.id, points=_fmt_points(lv.points), description=lv.description)
            for lv in c.levels
        ]
        if c.na_allowed and c.na is not None:
            levels.append(t["na"].format(when=c.na.when))
        scope = self.spec.scope_agent if c.scope == "agent" else self.spec.scope_chat
        return (
            t["criterion"]
            .format(
                id=c.id,
                title=c.title,
                description=c.description,
                scope=scope,
                levels="\n".join(levels),
            )
            .rstrip()
        )

    def _examples_block(self, rubric: Rubric) -> str:
        """Few-shot examples, limited to the rubric's criteria and levels."""
        crits = {c.id: c for c in rubric.llm_criteria}
        blocks: list[str] = []
        for ex in self.spec.examples:
            reply = {}
            for cid, g in ex.grades.items():
                c = crits.get(cid)
                if c is None or g.get("level") not in criterion_levels(c):
                    continue
                reply[cid] = {
                    "criterion": cid,
                    "evidence": g.get("evidence", []),
                    "rationale": g.get("rationale", ""),
                    "level": g["level"],
                }
            if not reply:
                continue
            lines = [TranscriptLine(m.id, m.role, m.text, m.auto) for m in ex.transcript]
            blocks.append(
                self.templates["example"]
                .format(
                    n=len(blocks) + 1,
                    transcript=render_transcript(lines),
                    reply=orjson.dumps(reply).decode(),
                )
                .rstrip()
            )
        return "\n\n".join(blocks) if blocks else "-"

    def static_parts(
        self, rubric: Rubric, *, json_object: bool = False, schema: str = ""
    ) -> tuple[str, str]:
        """(system message, user message head): identical for every chat of this rubric."""
        key = (rubric.hash, json_object, schema)
        if key not in self._static:
            criteria = "\n\n".join(self._criterion_block(c) for c in rubric.llm_criteria)
            system = self.templates["system"].format(
                criteria=criteria, examples=self._examples_block(rubric)
            )
            if json_object:
                system += self.templates["json_object_suffix"].format(schema=schema)
            head = self._user_parts[0]
            self._static[key] = (system, head)
        return self._static[key]

    def render_with_langchain(
        self, rubric: Rubric, transcript: str, *, json_object: bool = False, schema: str = ""
    ) -> list[dict[str, str]]:
        """The messages as langchain's chat template formats them: what ``render`` must equal."""
        system, _ = self.static_parts(rubric, json_object=json_object, schema=schema)
        msgs = self.chat_template.format_messages(system=system, transcript=transcript)
        role = {"system": "system", "human": "user"}
        return [{"role": role[m.type], "content": str(m.content)} for m in msgs]

    def reask_message(self, errors: list[str]) -> str:
        """The user message of a re-ask: the validation errors, addressed to the model."""
        return self.templates["reask"].format(errors="\n".join(f"- {e}" for e in errors)).rstrip()

    # -- one chat ----------------------------------------------------------------------

    def render(
        self,
        rubric: Rubric,
        lines: list[TranscriptLine],
        *,
        json_object: bool = False,
        schema: str = "",
    ) -> RenderedPrompt:
        system, head = self.static_parts(rubric, json_object=json_object, schema=schema)
        transcript = render_transcript(lines)
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": transcript.join(self._user_parts)},
        ]
        return RenderedPrompt(
            messages=messages,
            static_prefix=system + head,
            transcript=transcript,
            prompt_version=self.version,
        )


@cache
def _load_cached(path: str, mtime_ns: int) -> GradingPrompt:
    return GradingPrompt(Path(path))


def load_prompt(language: str, prompts_dir: Path | None = None) -> GradingPrompt:
    """The grading prompt for ``language`` (``prompts/grade-<language>.yaml``)."""
    directory = prompts_dir or DEFAULT_PROMPTS_DIR
    path = directory / f"grade-{language}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in directory.glob("grade-*.yaml"))) or "none"
        raise PromptError(f"no grading prompt for language {language!r} at {path} (found: {known})")
    return _load_cached(str(path), path.stat().st_mtime_ns)
