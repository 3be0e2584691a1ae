"""Rubrics: YAML files in ``rubrics/``, loaded and validated into typed models.

A typo in a key is an error naming the file and the key (``extra="forbid"``), not a
silent default. See ``rubrics/README.md`` for the format.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import RubricError
from .models import CHECK_IDS, Language, Severity, content_hash
from .rules.model import CheckRule
from .shipped import shipped_dir

#: the shipped rubrics: the repo's rubrics/ in a checkout, auditor/rubrics in a wheel
DEFAULT_RUBRICS_DIR = shipped_dir("rubrics")

#: libyaml's C loader where PyYAML has it (the same safe subset, ~10x faster: the rubric and
#: cue files: 0.18 s -> 0.024 s of CPU at start-up), else the pure-Python one.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Level(_Strict):
    id: str
    points: float
    description: str = ""
    fail: bool = False  # grading at this level counts as a failure of the criterion


class NotApplicable(_Strict):
    allowed: bool = True
    when: str = ""  # the condition, in words, shown to graders and reviewers


class Criterion(_Strict):
    id: str
    title: str
    points: float = Field(ge=0)
    severity: Severity = "normal"
    kind: Literal["check", "llm"]
    check: str | None = None  # for kind=check: one of CHECK_IDS
    levels: list[Level] = Field(default_factory=list)  # for kind=llm
    na: NotApplicable | None = None
    description: str = ""
    scope: Literal["agent", "chat"] = "agent"  # agent: evidence must be the agent's own words
    source: str = ""  # the seed/standard this rule comes from
    review_threshold: float | None = None  # confidence under which a grade goes to review
    offline_rules: str | None = None  # which offline-grader rule set grades it (default: its id)

    @model_validator(mode="after")
    def _kind_fields(self) -> Criterion:
        if self.kind == "check":
            if self.check is None:
                raise ValueError("a 'check' criterion needs 'check: <id>'")
            # built-in check ids, or a rule of the rubric's `rules:` (checked by Rubric)
            if self.levels:
                raise ValueError("a 'check' criterion has no 'levels'")
        else:
            if self.check is not None:
                raise ValueError("an 'llm' criterion has no 'check'")
            if len(self.levels) < 2:
                raise ValueError("an 'llm' criterion needs at least two 'levels'")
            ids = [lv.id for lv in self.levels]
            if len(set(ids)) != len(ids):
                raise ValueError(f"duplicate level ids in {ids}")
            if "na" in ids:
                raise ValueError("'na' is reserved; use 'na: {allowed: true}' instead of a level")
            top = max(lv.points for lv in self.levels)
            if top != self.points:
                raise ValueError(
                    f"the best level is worth {top} points but the criterion is worth {self.points}"
                )
            if any(lv.points < 0 for lv in self.levels):
                raise ValueError("level points must be >= 0")
        return self

    def level(self, level_id: str) -> Level | None:
        for lv in self.levels:
            if lv.id == level_id:
                return lv
        return None

    @cached_property
    def ordered_levels(self) -> list[Level]:
        """Levels from worst to best, by points (the order used for agreement metrics);
        computed once (a loaded rubric is not edited)."""
        return sorted(self.levels, key=lambda lv: lv.points)

    @cached_property
    def settled_outcomes(self) -> dict[tuple[str, str | None], dict[str, Any]]:
        """``scoring.grade_outcome``'s answers for this criterion, remembered by (status,
        level) for the levels it has (filled by ``scoring``; a loaded rubric is not edited)."""
        return {}

    @property
    def na_allowed(self) -> bool:
        return self.na is not None and self.na.allowed


class TimingSettings(_Strict):
    first_response_limit_s: float = 30
    followup_limit_s: float = 120
    avg_response_limit_s: float = 40
    hold_default_limit_s: float = 180
    hold_max_limit_s: float = 300
    max_holds: int = 3
    hold_patterns: list[str] = Field(default_factory=list)  # substrings, case-insensitive
    ack_phrases: list[str] = Field(default_factory=list)  # thanks/ack-only customer endings


class PhraseSettings(_Strict):
    forbidden: list[str] = Field(default_factory=list)  # substrings, case-insensitive
    forbidden_patterns: list[str] = Field(default_factory=list)  # regular expressions
    greeting: list[str] = Field(default_factory=list)  # any one must appear in the first reply
    closing_help: list[str] = Field(default_factory=list)  # offer of further help
    closing_thanks: list[str] = Field(default_factory=list)  # thanking the customer
    closing_window: int = 3  # the closing must appear in the agent's last N replies
    impolite_address: list[str] = Field(default_factory=list)  # zh: regexes for 你 addressing
    polite_address_allow: list[str] = Field(default_factory=list)  # 你 uses that are fine


class TypoSettings(_Strict):
    max_typos: int = 3
    terms: list[str] = Field(default_factory=list)  # per-rubric dictionary (never a typo)
    dictionaries: list[str] = Field(default_factory=list)  # extra word-list files, one term a line
    # 的/地/得 and 在/再 swaps are grammar in most QA standards: reported as possible typos
    # unless this is on, then counted like any other typo (docs/typos.md)
    count_function_chars: bool = False
    # English spelling accepted: None = both US and UK (the default), or "en_US" / "en_GB"
    locale: Literal["en_US", "en_GB"] | None = None


class ReviewSettings(_Strict):
    """Which audited chats go to the human spot-check queue, and each agent's quota.

    The per-agent quota follows STANDARDS.md §5: about 1% of an agent's monthly volume,
    more for new agents and agents with recent failures, and no more than 5 a month for an
    agent with two clean months. See docs/review.md for the policy and why.
    """

    confidence_threshold: float = Field(default=0.6, ge=0, le=1)
    queue_low_confidence: bool = True  # off for a keyword grader whose confidence is always low
    queue_unscored: bool = True
    queue_injection: bool = True
    queue_fatal: bool = True
    queue_critical: bool = True
    random_sample_rate: float = Field(default=0.02, ge=0, le=1)
    random_seed: int = 20261122
    # what a team reviews a chat day (auditor.capacity): None = the standards' sampling rule
    daily_capacity: int | None = Field(default=None, ge=0)
    # per-agent quotas (auditor.review.quotas.apply_quotas), counted in chat days
    quotas: bool = True
    quota_window_days: int = Field(default=30, ge=1)  # the "month" a quota covers
    quota_rate: float = Field(default=0.01, ge=0, le=1)  # share of the agent's volume
    quota_min: int = Field(default=1, ge=0)  # at least this many per agent with chats
    new_agent_days: int = Field(default=30, ge=0)  # first audited chat within N days: new
    new_agent_factor: float = Field(default=3.0, ge=1)
    failure_window_days: int = Field(default=30, ge=1)  # failed chats this recent count
    failing_agent_factor: float = Field(default=2.0, ge=1)
    clean_days: int = Field(default=60, ge=1)  # audited this long without a failure: clean
    clean_agent_quota: int = Field(default=5, ge=0)  # a clean agent's quota is at most this


class PassRules(_Strict):
    fatal_fails: bool = True  # any fatal failure: score 0, not passed
    max_critical_failures: int = 0  # more than this fails the chat (STANDARDS §4: one fails)
    max_normal_failures: int = 2  # more than this fails the chat (STANDARDS §4: three fail)
    min_score: float | None = None  # optionally, a score under this fails too


#: The verdict key a rule may use for each built-in check (a new check id: require/forbid).
RULE_KINDS: dict[str, tuple[str, ...]] = {
    "greeting": ("require", "forbid"),
    "closing": ("require", "forbid"),
    "forbidden_phrase": ("forbid",),
    "polite_address": ("forbid",),
    "hold": ("opens",),
    "unanswered_customer": ("needs_reply",),
}
_RULE_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _check_rule_kind(check: str, rule: CheckRule) -> None:
    if check in RULE_KINDS:
        allowed = RULE_KINDS[check]
    elif check in CHECK_IDS:
        raise ValueError(
            f"rules.{check}: the {check!r} check is not configured by a rule "
            f"(rules exist for {', '.join(RULE_KINDS)} and new check ids)"
        )
    elif not _RULE_ID.fullmatch(check):
        raise ValueError(f"rules.{check}: a new check id is lower-case letters, digits and _")
    else:
        allowed = ("require", "forbid")
    if rule.kind not in allowed:
        raise ValueError(
            f"rules.{check}: use {' or '.join(repr(a) for a in allowed)}, not {rule.kind!r}"
        )


class Rubric(_Strict):
    name: str
    version: str
    title: str = ""
    language: Language
    description: str = ""
    total: float = 100
    pass_rules: PassRules = Field(default_factory=PassRules)
    timing: TimingSettings = Field(default_factory=TimingSettings)
    phrases: PhraseSettings = Field(default_factory=PhraseSettings)
    typos: TypoSettings = Field(default_factory=TypoSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    order_patterns: list[str] = Field(default_factory=list)  # regexes for order numbers (masking)
    # check id -> how it decides, in rule operators (rubrics/README.md "Rules")
    rules: dict[str, CheckRule] = Field(default_factory=dict)
    criteria: list[Criterion]

    # set by the loader, not read from YAML
    path: str | None = Field(default=None, exclude=True)
    source_text: str | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _whole(self) -> Rubric:
        for check, rule in self.rules.items():
            _check_rule_kind(check, rule)
        for i, c in enumerate(self.criteria):
            if c.kind == "check" and c.check not in CHECK_IDS and c.check not in self.rules:
                raise ValueError(
                    f"criteria.{i} ({c.id}): unknown check {c.check!r}; known checks: "
                    f"{', '.join(CHECK_IDS)}, or a rule defined under 'rules:'"
                )
        ids = [c.id for c in self.criteria]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate criterion ids: {sorted(dup)}")
        total = sum(c.points for c in self.criteria)
        if abs(total - self.total) > 1e-9:
            raise ValueError(
                f"criteria points add up to {total:g}, not the rubric total {self.total:g}"
            )
        return self

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    @cached_property
    def hash(self) -> str:
        return content_hash(self.source_text or self.model_dump_json())

    @cached_property
    def _by_id(self) -> dict[str, Criterion]:
        return {c.id: c for c in self.criteria}

    def criterion(self, criterion_id: str) -> Criterion | None:
        return self._by_id.get(criterion_id)

    @property
    def check_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == "check"]

    @property
    def llm_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == "llm"]


def rubrics_dir() -> Path:
    return Path(os.environ.get("AUDITOR_RUBRICS", DEFAULT_RUBRICS_DIR))


def _format_error(path: str, err: ValidationError) -> str:
    lines = [f"invalid rubric {path}:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see rubrics/README.md)"
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)


def parse_rubric(text: str, path: str = "<string>") -> Rubric:
    try:
        data: Any = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as e:
        raise RubricError(f"invalid rubric {path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise RubricError(f"invalid rubric {path}: expected a mapping at the top level")
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as e:
        raise RubricError(_format_error(path, e)) from e
    rubric.path = path
    rubric.source_text = text
    return rubric


def resolve_rubric_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise RubricError(f"rubric file not found: {p}")
        return p
    for suffix in (".yaml", ".yml"):
        cand = rubrics_dir() / f"{name_or_path}{suffix}"
        if cand.exists():
            return cand
    known = ", ".join(sorted(x.stem for x in rubrics_dir().glob("*.y*ml"))) or "none"
    raise RubricError(f"no rubric named {name_or_path!r} in {rubrics_dir()} (known: {known})")


def load_rubric(name_or_path: str) -> Rubric:
    path = resolve_rubric_path(name_or_path)
    return parse_rubric(path.read_text(encoding="utf-8"), str(path))


def list_rubrics() -> list[tuple[Path, Rubric | RubricError]]:
    out: list[tuple[Path, Rubric | RubricError]] = []
    for p in sorted(rubrics_dir().glob("*.y*ml")):
        try:
            out.append((p, load_rubric(str(p))))
        except RubricError as e:
            out.append((p, e))
    return out


#: The rubric a chat in a language no shipped rubric covers is audited with: its timing
#: checks apply, its language-dependent checks are not applicable (with a warning).
FALLBACK_LANGUAGE = "en"


class RubricSet:
    """The rubric for each chat: one fixed rubric, or ``auto`` = online-chat-<language>.

    With ``auto``, a chat in a language without an ``online-chat-<language>`` rubric gets
    the ``online-chat-en`` rubric; the checker then marks its language-dependent checks
    not applicable (``covers`` tells the two cases apart).
    """

    def __init__(self, spec: str = "auto"):
        self.spec = spec
        self._cache: dict[str, Rubric] = {}
        if spec != "auto":
            self._fixed: Rubric | None = load_rubric(spec)
        else:
            self._fixed = None

    def for_language(self, language: str) -> Rubric:
        if self._fixed is not None:
            return self._fixed
        if language not in self._cache:
            name = f"online-chat-{language}"
            try:
                resolve_rubric_path(name)
            except RubricError:
                if language == FALLBACK_LANGUAGE or not _LANGUAGE.fullmatch(language):
                    raise
                self._cache[language] = self.for_language(FALLBACK_LANGUAGE)
            else:
                self._cache[language] = load_rubric(name)  # an invalid file is an error
        return self._cache[language]

    def covers(self, language: str) -> bool:
        """Whether the rubric a chat in ``language`` gets is written for that language."""
        return self.for_language(language).language == language

    def loaded(self) -> list[Rubric]:
        if self._fixed:
            return [self._fixed]
        return list({r.hash: r for r in self._cache.values()}.values())


_LANGUAGE = re.compile(r"[a-z]{2,3}")
