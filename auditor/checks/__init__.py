"""The deterministic checks: timing, phrases and typos, turned into one Finding per criterion.

``ChatChecker`` is built once per rubric (it compiles the phrase automatons and loads the
typo dictionaries once) and ``run(chat)`` is then a linear pass per check. The analyses
live in ``timing`` and ``phrases``; this module only ties their verdicts to the rubric's
criteria: status, severity, points, evidence quotes that are verbatim substrings of the
cited message, a human-readable detail and the numbers in ``data``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..models import Chat, Evidence, Finding, Message, Metrics, evidence_of, trusted
from ..rubric import Criterion, Rubric
from ..rules.engine import LEAF_CACHE, ChatView, KeywordsNode, compile_condition
from ..rules.verdicts import CompiledRule
from .phrases import PhraseChecks, Verdict, agent_replies, quote_prefix
from .timing import Gap, Hold, TimingAnalysis, TimingAnalyzer
from .typos import Typo, TypoChecker, TypoReport

__all__ = ["ChatChecker", "TimingAnalysis", "analyze_timing_metrics"]

#: Checks that need a chat's timestamps: not applicable ("no timestamps") without them.
TIMED_CHECKS = frozenset({"first_response", "followup_response", "avg_response", "hold"})
#: Built-in checks that read the words, in the rubric's language: not applicable for a chat
#: in a language the rubric is not written for. (A rubric's own rules are too, unless they
#: say ``language_dependent: false``.)
LANGUAGE_CHECKS = frozenset(
    {
        "greeting",
        "closing",
        "forbidden_phrase",
        "polite_address",
        "typos",
        "hold",
        "unanswered_customer",
    }
)


def language_na(language: str, rubric_language: str) -> str:
    """The detail (and chat warning) for a chat in a language its rubric is not written for."""
    return (
        f"chat language {language!r} is not covered by a rubric ({rubric_language!r} rubric "
        "used): language-dependent checks not applicable"
    )


def _s(seconds: float) -> str:
    """Seconds for a detail line: whole seconds unless there is a fraction worth showing.

    Remembered per value (limits and whole-second gaps recur in every chat); zero is not
    (0.0 and -0.0 are one key but print apart)."""
    got = _S_MEMO.get(seconds)
    if got is None:
        got = f"{seconds:.0f} s" if abs(seconds - round(seconds)) < 0.05 else f"{seconds:.1f} s"
        if seconds:
            if len(_S_MEMO) >= 4096:
                _S_MEMO.clear()
            _S_MEMO[seconds] = got
    return got


_S_MEMO: dict[float, str] = {}


def _ev(message: Message) -> Evidence:
    return evidence_of(message.id, quote_prefix(message.text))


def _gap_dict(g: Gap) -> dict[str, Any]:
    return {"from": g.start.id, "to": g.end.id, "seconds": g.seconds}


def _hold_dict(h: Hold) -> dict[str, Any]:
    return {
        "message_id": h.start.id,
        "closed_by": h.end.id if h.end else None,
        "seconds": h.seconds,
        "limit_s": h.limit_s,
        "stated_s": h.stated_s,
        "covered": [m.id for m in h.covered],
    }


def _typo_dict(t: Typo) -> dict[str, Any]:
    return {
        "message_id": t.message_id,
        "start": t.start,
        "end": t.end,
        "text": t.text,
        "suggestion": t.suggestion,
        "reason": t.reason,
    }


# -- timing verdicts -----------------------------------------------------------------------


def first_response_result(a: TimingAnalysis) -> Verdict:
    limit = a.settings.first_response_limit_s
    if a.first_customer is None:
        return Verdict("na", "the customer never wrote")
    first = a.first_customer
    if a.first_reply is None or a.first_response_s is None:
        if a.last_turn_ack_only:
            return Verdict("na", "the customer only acknowledged; no reply was needed")
        return Verdict(
            "fail",
            f"the customer wrote ({first.id}) and the agent never replied",
            [_ev(first)],
            {"seconds": None, "limit_s": limit, "customer_message": first.id},
        )
    secs = a.first_response_s
    data = {
        "seconds": secs,
        "limit_s": limit,
        "customer_message": first.id,
        "reply_message": a.first_reply.id,
    }
    if secs > limit:
        return Verdict(
            "fail",
            f"first reply after {_s(secs)} (limit {_s(limit)}): {first.id} -> {a.first_reply.id}",
            [_ev(first), _ev(a.first_reply)],
            data,
        )
    return Verdict("pass", f"first reply after {_s(secs)} (limit {_s(limit)})", data=data)


def followup_result(a: TimingAnalysis) -> Verdict:
    limit = a.settings.followup_limit_s
    if not a.followups:
        why = "no follow-up turn" if not a.covered else "every follow-up turn was covered by a hold"
        return Verdict(
            "na", why, data={"limit_s": limit, "covered": [_gap_dict(g) for g in a.covered]}
        )
    violations = a.followup_violations
    data = {
        "max_s": a.max_followup_s,
        "limit_s": limit,
        "gaps": [_gap_dict(g) for g in a.followups],
        "covered": [_gap_dict(g) for g in a.covered],
        "violations": len(violations),
    }
    if violations:
        listed = ", ".join(f"{g.start.id} -> {g.end.id} {_s(g.seconds)}" for g in violations)
        evidence = [e for g in violations for e in (_ev(g.start), _ev(g.end))]
        return Verdict(
            "fail",
            f"{len(violations)} follow-up repl{'ies' if len(violations) > 1 else 'y'} "
            f"over {_s(limit)}: {listed}",
            evidence,
            data,
        )
    assert a.max_followup_s is not None
    return Verdict(
        "pass",
        f"{len(a.followups)} follow-up repl{'ies' if len(a.followups) > 1 else 'y'}, "
        f"slowest {_s(a.max_followup_s)} (limit {_s(limit)})",
        data=data,
    )


def avg_response_result(a: TimingAnalysis) -> Verdict:
    limit = a.settings.avg_response_limit_s
    avg = a.avg_response_s
    if avg is None:
        return Verdict("na", "no response was timed", data={"limit_s": limit})
    n = len(a.responses)
    data = {"seconds": avg, "limit_s": limit, "responses": n}
    detail = (
        f"average response {_s(avg)} over {n} repl{'ies' if n > 1 else 'y'} (limit {_s(limit)})"
    )
    if avg > limit:
        # The slowest timed response is what pulled the average up: cite its two messages.
        gaps = list(a.followups)
        if a.first_customer is not None and a.first_reply is not None:
            gaps.append(Gap(a.first_customer, a.first_reply, a.first_response_s or 0.0))
        worst = max(gaps, key=lambda g: g.seconds)
        return Verdict("fail", detail, [_ev(worst.start), _ev(worst.end)], data)
    return Verdict("pass", detail, data=data)


def hold_result(a: TimingAnalysis) -> Verdict:
    s = a.settings
    if not a.holds:
        return Verdict("na", "no hold", data={"count": 0, "max_holds": s.max_holds})
    data = {
        "count": len(a.holds),
        "max_holds": s.max_holds,
        "holds": [_hold_dict(h) for h in a.holds],
    }
    problems: list[str] = []
    evidence: list[Evidence] = []
    for h in a.hold_violations:
        if h.end is None:
            problems.append(f"hold {h.start.id} never closed (limit {_s(h.limit_s)})")
            evidence.append(_ev(h.start))
        else:
            assert h.seconds is not None
            problems.append(
                f"hold {h.start.id} -> {h.end.id} lasted {_s(h.seconds)} (limit {_s(h.limit_s)})"
            )
            evidence += [_ev(h.start), _ev(h.end)]
    if a.too_many_holds:
        problems.append(f"{len(a.holds)} holds (at most {s.max_holds})")
        cited = {e.message_id for e in evidence}
        evidence += [_ev(h.start) for h in a.holds if h.start.id not in cited]
    if problems:
        return Verdict("fail", "; ".join(problems), evidence, data)
    return Verdict(
        "pass",
        f"{len(a.holds)} hold{'s' if len(a.holds) > 1 else ''}, each within its limit",
        data=data,
    )


def unanswered_result(a: TimingAnalysis) -> Verdict:
    if a.first_customer is None:
        return Verdict("na", "the customer never wrote")
    data: dict[str, Any] = {
        "messages": [m.id for m in a.last_turn],
        "ack_only": a.last_turn_ack_only,
    }
    if a.needs_reply is not None:
        data["needs_reply"] = [m.id for m in a.needs_reply]
    if not a.last_turn:
        return Verdict("pass", "the customer's last turn was answered", data=data)
    if a.last_turn_ack_only:
        if a.needs_reply is not None:
            return Verdict(
                "pass",
                "the chat ends with a customer turn that asks for nothing "
                "(thanks, goodbye, acknowledgement, nothing else)",
                data=data,
            )
        return Verdict(
            "pass", "the chat ends with the customer's thanks/acknowledgement", data=data
        )
    cited = a.needs_reply if a.needs_reply else a.last_turn
    ids = ", ".join(m.id for m in cited)
    return Verdict(
        "fail",
        f"the customer's last message{'s' if len(cited) > 1 else ''} ({ids}) got no reply",
        [_ev(m) for m in cited if m.text.strip()] or [_ev(cited[0])],
        data,
    )


def typos_result(report: TypoReport, max_typos: int, replies: Sequence[Message]) -> Verdict:
    if not replies:
        return Verdict("na", "the agent never replied")
    data = {
        "count": report.count,
        "max_typos": max_typos,
        "typos": [_typo_dict(t) for t in report.typos],
        "possible": [_typo_dict(t) for t in report.possible],
        # agent messages in a language without a speller: not checked, not flagged
        "skipped": [{"message_id": mid, "language": lang} for mid, lang in report.skipped],
    }
    cited = [evidence_of(t.message_id, t.text) for t in report.typos if t.text]
    listed = ", ".join(
        f"{t.text}->{t.suggestion}" if t.suggestion else t.text for t in report.typos
    )
    detail = f"{report.count} typo{'s' if report.count != 1 else ''} (limit {max_typos})"
    if listed:
        detail += f": {listed}"
    if report.skipped:
        langs = ", ".join(sorted({lang for _, lang in report.skipped}))
        n = len(report.skipped)
        detail += f"; {n} message{'s' if n != 1 else ''} in {langs} not spell-checked"
    return Verdict("fail" if report.count > max_typos else "pass", detail, cited, data)


def analyze_timing_metrics(a: TimingAnalysis) -> Metrics:
    """The timing half of the per-chat metrics (typo_count is filled by the caller)."""
    return trusted(  # what Metrics(...) of these values validates to
        Metrics,
        {
            "first_response_s": _float(a.first_response_s),
            "max_followup_s": _float(a.max_followup_s),
            "avg_response_s": _float(a.avg_response_s),
            "followup_violations": len(a.followup_violations),
            "hold_count": len(a.holds),
            "typo_count": None,
            "unanswered_customer": bool(a.unanswered),
        },
    )


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


# -- the checker ---------------------------------------------------------------------------


class ChatChecker:
    """Every deterministic check of one rubric, compiled once, run per chat.

    ``run(chat)`` returns one Finding per ``kind: check`` criterion in rubric order, and the
    chat's Metrics (computed whether or not the rubric has timing criteria; ``typo_count``
    is None unless the rubric has a ``typos`` criterion, since only then are typos looked for).
    """

    def __init__(self, rubric: Rubric, dictionaries: Sequence[Path] = ()):
        self.rubric = rubric
        self.criteria: list[Criterion] = rubric.check_criteria
        self.timing = TimingAnalyzer(rubric.timing)
        self.phrases = PhraseChecks(rubric.phrases)
        checks = {c.check for c in self.criteria}
        self.typo_checker = (
            TypoChecker(rubric.typos, list(dictionaries)) if "typos" in checks else None
        )
        self.rules = {
            check: CompiledRule(check, rule, compile_condition(rule.condition))
            for check, rule in rubric.rules.items()
        }
        # which agent messages open a hold, from the rubric's hold rule: the common case (a
        # phrase list) is one automaton pass per distinct text, remembered; else the rule
        self._hold_node = self.rules["hold"].node if "hold" in self.rules else None
        self._opens: Callable[[Message], bool] | None = None
        node = self._hold_node
        if (
            isinstance(node, KeywordsNode)
            and node.scope is None
            and node.any is not None
            and node.all is None
            and node.none is None
        ):
            quick = node.any.contains
            memo: dict[str, bool] = {}

            def opens(m: Message) -> bool:
                got = memo.get(m.text)
                if got is None:
                    got = quick(m.text)
                    if len(memo) >= LEAF_CACHE:
                        memo.clear()
                    memo[m.text] = got
                return got

            self._opens = opens

        # per criterion, once: (criterion, check, needs timestamps, reads the rubric's language)
        self._plan: list[tuple[Criterion, str, bool, bool]] = []
        for c in self.criteria:
            assert c.check is not None  # the rubric validator guarantees it
            self._plan.append(
                (c, c.check, c.check in TIMED_CHECKS, self.language_dependent(c.check))
            )

    def language_dependent(self, check: str) -> bool:
        rule = self.rules.get(check)
        if rule is not None and check not in LANGUAGE_CHECKS:
            return rule.rule.language_dependent
        return check in LANGUAGE_CHECKS

    def run(self, chat: Chat, warnings: list[str] | None = None) -> tuple[list[Finding], Metrics]:
        """The chat's findings and metrics; ``warnings`` (if given) gets the chat's warnings
        from the checks (an embeddings server that failed: n-grams were used instead)."""
        view = ChatView(chat)
        covered = chat.language == self.rubric.language
        opens = None
        if covered and self._opens is not None:
            opens = self._opens
        elif covered and self._hold_node is not None:
            node = self._hold_node

            def opens(m: Message) -> bool:
                return node.eval(view, [m]).holds

        analysis = self.timing.analyze(chat, opens)
        reply_rule = self.rules.get("unanswered_customer")
        if reply_rule is not None and analysis.last_turn:
            # read over the whole unanswered turn (a scope such as {role: customer, last: 1}
            # picks its last message); the messages with hits are the ones needing a reply
            out = reply_rule.node.eval(view, analysis.last_turn)
            hit_ids = {h.message_id for h in out.hits}
            needing = [m for m in analysis.last_turn if m.id in hit_ids] if out.holds else []
            if out.holds and not needing:
                needing = list(analysis.last_turn)
            analysis.needs_reply = needing
            analysis.last_turn_ack_only = not needing
        replies = agent_replies(chat)
        report = (
            self.typo_checker.check(chat) if self.typo_checker is not None and covered else None
        )
        metrics = analyze_timing_metrics(analysis)
        values = metrics.__dict__  # set as assignment would (no validation on assignment)
        if not chat.timed:
            values["first_response_s"] = values["max_followup_s"] = None
            values["avg_response_s"] = None
            values["followup_violations"] = values["hold_count"] = 0
        if not covered:
            values["unanswered_customer"] = False
        if report is not None:
            values["typo_count"] = report.count

        done: dict[str, Verdict] = {}
        findings: list[Finding] = []
        timed = chat.timed
        for c, check, needs_times, language_dependent in self._plan:
            result = done.get(check)
            if result is None:
                if needs_times and not timed:
                    result = Verdict("na", "no timestamps: the chat was exported without times")
                elif language_dependent and not covered:
                    result = Verdict("na", language_na(chat.language, self.rubric.language))
                else:
                    result = self._verdict(check, chat, analysis, replies, report, view)
                done[check] = result
            # what Finding(...) validates to (models.trusted): the rubric's values are
            # validated, the verdict's evidence is Evidence; each finding its own list and
            # dict (as validation copies them), a verdict being shared by its criteria
            findings.append(
                trusted(
                    Finding,
                    {
                        "criterion": c.id,
                        "check": check,
                        "status": result.status,
                        "severity": c.severity,
                        "points_lost": c.points if result.status == "fail" else 0.0,
                        "evidence": list(result.evidence),
                        "detail": result.detail,
                        "data": dict(result.data),
                    },
                )
            )
        if warnings is not None:
            warnings.extend(view.warnings)
        return findings, metrics

    def _verdict(
        self,
        check: str,
        chat: Chat,
        analysis: TimingAnalysis,
        replies: list[Message],
        report: TypoReport | None,
        view: ChatView,
    ) -> Verdict:
        rule = self.rules.get(check)
        if rule is not None and rule.verdict_rule:
            return rule.verdict(view)
        match check:
            case "first_response":
                return first_response_result(analysis)
            case "followup_response":
                return followup_result(analysis)
            case "avg_response":
                return avg_response_result(analysis)
            case "hold":
                return hold_result(analysis)
            case "unanswered_customer":
                return unanswered_result(analysis)
            case "typos":
                return typos_result(report or TypoReport(), self.rubric.typos.max_typos, replies)
            case "forbidden_phrase":
                return self.phrases.check_forbidden(replies)
            case "greeting":
                return self.phrases.check_greeting(replies)
            case "closing":
                return self.phrases.check_closing(replies)
            case "polite_address":
                return self.phrases.check_polite_address(chat, replies)
        raise ValueError(f"unknown check {check!r}")  # unreachable: the rubric validates ids
