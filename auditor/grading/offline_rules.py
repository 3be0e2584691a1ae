"""The offline grader's rules: cue hits in, one verdict per rule set out (pure functions).

Each rule reads the cue hits that ``auditor.grading.offline`` found in one chat (which cue
groups fired, in which message) and returns an ``Outcome``: a rank on the common three-step
scale (0 = poor, 1 = average, 2 = good, ``None`` = nothing to judge), a confidence, a
rationale naming the cues, and the spans to cite as evidence. The cue *words* live in the
YAML files of ``cues/``; this module holds only the logic, so a reviewer can read each rule
top to bottom and know exactly why a grade came out.

Confidence is deliberately low and is **not a probability**: a phrase match is weaker
evidence than a reading of the chat. The scale (docs/offline-grader.md):

- ``STRONG`` 0.55: two or more independent cues agree (e.g. an apology *and* a soothing
  phrase after the customer's anger).
- ``CUE`` 0.45-0.5: one explicit cue decides the verdict.
- ``WEAK`` 0.4: a structural or ambiguous signal (a repeated question, a hedged promise).
- ``ABSENCE`` 0.3: the verdict rests on cues *not* being there (no emotion -> n/a).
- ``NOTHING`` 0.25: no cue either way; the rule returns its default middle level.

Bump ``RULES_VERSION`` whenever a rule's logic changes so stored grades are re-graded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

RULES_VERSION = "3"

POOR, AVERAGE, GOOD = 0, 1, 2
RANK_NAMES = {POOR: "poor", AVERAGE: "average", GOOD: "good", None: "n/a"}

STRONG = 0.55
CUE = 0.45
CUE_PLUS = 0.5
WEAK = 0.4
SOFT = 0.35
ABSENCE = 0.3
NOTHING = 0.25


class Cite(NamedTuple):
    """A span of one message to quote as evidence (offsets into the *original* text)."""

    pos: int  # position of the message in the chat
    start: int
    end: int


class Hit(NamedTuple):
    """One cue of one group found in one message."""

    group: str
    cue: str  # the cue as written in the cue file
    pos: int  # position of the message in the chat
    message_id: str
    role: str
    start: int  # offsets into the original message text
    end: int
    text: str  # the original text that matched (traditional stays traditional)

    @property
    def cite(self) -> Cite:
        return Cite(self.pos, self.start, self.end)

    @property
    def label(self) -> str:
        return f"「{self.text}」({self.message_id})"


@dataclass
class Signals:
    """Everything the rules may look at for one chat, computed once per chat."""

    hits: dict[str, list[Hit]]  # group -> hits, in message order
    message_ids: list[str]
    roles: list[str]
    agent_indexes: list[int]  # messages a human agent typed (auto/bot messages excluded)
    repeats: list[tuple[int, int]] = field(default_factory=list)  # (earlier, later) customer
    long_agent: list[int] = field(default_factory=list)  # agent messages too long / unbroken
    pii_agent: list[Hit] = field(default_factory=list)  # unmasked personal data by the agent

    def of(self, group: str) -> list[Hit]:
        return self.hits.get(group, [])

    def after(self, group: str, index: int) -> list[Hit]:
        """Hits of ``group`` in messages after message ``index``."""
        return [h for h in self.of(group) if h.pos > index]

    def answered(self, group: str) -> list[Hit]:
        """Hits of ``group`` after the agent's first reply (none without one): what the
        customer says before it is the request itself, not a reaction to an answer."""
        if not self.agent_indexes:
            return []
        return self.after(group, self.agent_indexes[0])

    def agent_before(self, index: int) -> int | None:
        """The last agent message before ``index`` (the reply a customer reacts to)."""
        prev = [i for i in self.agent_indexes if i < index]
        return prev[-1] if prev else None

    def agent_after(self, index: int) -> int | None:
        nxt = [i for i in self.agent_indexes if i > index]
        return nxt[0] if nxt else None


@dataclass
class Outcome:
    rank: int | None  # POOR / AVERAGE / GOOD, or None = nothing to judge (n/a)
    confidence: float
    rationale: str
    hits: list[Hit] = field(default_factory=list)  # cues to cite, most telling first
    context: list[int] = field(default_factory=list)  # whole messages to cite (by index)


def labels(hits: Iterable[Hit], limit: int = 3) -> str:
    """``「抱歉」(m3), 「请您放心」(m3)`` - distinct cues, first ``limit``."""
    seen: list[str] = []
    for h in hits:
        lab = h.label
        if lab not in seen:
            seen.append(lab)
    more = f" +{len(seen) - limit}" if len(seen) > limit else ""
    return ", ".join(seen[:limit]) + more


def _distinct(hits: Iterable[Hit]) -> int:
    return len({h.cue for h in hits})


# --- the rules, one per rule set ------------------------------------------------------


def empathy(s: Signals) -> Outcome:
    """No emotion -> n/a; soothing after the emotion -> good; only an apology -> average."""
    # an emotion voiced after the agent's last reply (the thread ends there) gave the agent no
    # turn to soothe it: not graded (STC-3 en: the customer's closing complaint)
    emotion = [h for h in s.of("customer_emotion") if s.agent_after(h.pos) is not None]
    if not emotion:
        if s.of("customer_emotion"):
            return Outcome(None, ABSENCE, "customer emotion only after the agent's last reply")
        return Outcome(None, ABSENCE, "no customer-emotion cue in the chat")
    first = emotion[0].pos
    why = f"customer emotion {labels(emotion, 2)}"
    soothing = s.after("soothing", first)
    apology = s.after("apology", first)
    if soothing and apology:
        return Outcome(
            GOOD,
            STRONG,
            f"{why}; agent soothed {labels(soothing)} and apologised {labels(apology)}",
            soothing + apology,
        )
    if soothing:
        return Outcome(GOOD, CUE, f"{why}; agent soothed {labels(soothing)}", soothing)
    if apology:
        return Outcome(
            AVERAGE,
            WEAK,
            f"{why}; agent only apologised {labels(apology)}, no soothing phrase",
            apology,
        )
    reply = s.agent_after(first)
    return Outcome(
        POOR,
        SOFT,
        f"{why}; no apology or soothing cue from the agent afterwards",
        context=[reply] if reply is not None else [],
    )


def proactiveness(s: Signals) -> Outcome:
    """Next step with timing / alternatives / risk warnings; a bare refusal is poor."""
    followup, timing = s.of("followup"), s.of("timing")
    alternative, risk = s.of("alternative"), s.of("risk_warning")
    refusal = s.of("refusal")
    if refusal:
        first = refusal[0].pos
        remedy = s.after("alternative", first - 1) + s.after("followup", first - 1)
        if not remedy:
            return Outcome(
                POOR,
                CUE,
                f"agent refused {labels(refusal, 2)} and offered no alternative or next step",
                refusal,
            )
    # chasing is asking again after an answer: the opening question ("any news?", 什么时候能到)
    # is the request itself (STC-3 en, JDDC), not a next step the agent failed to give
    chase = s.answered("customer_asks_next")
    if chase:
        last = chase[-1].pos
        answered = (
            s.after("followup", last) + s.after("timing", last) + s.after("alternative", last)
        )
        if not answered:
            reply = s.agent_after(last)
            return Outcome(
                POOR,
                WEAK,
                f"customer had to ask for the next step {labels(chase, 2)}; "
                "no next step, timing or alternative followed",
                context=[reply] if reply is not None else [],
            )
    kinds = {
        name: hits
        for name, hits in (
            ("next step", followup),
            ("timing", timing),
            ("alternative", alternative),
            ("risk warning", risk),
        )
        if hits
    }
    timed = {h.pos for h in followup} & {h.pos for h in timing}
    fired = "; ".join(f"{name} {labels(hits, 2)}" for name, hits in kinds.items())
    cited = [h for hits in kinds.values() for h in hits]
    if len(kinds) >= 3:
        return Outcome(GOOD, STRONG, f"volunteered {fired}", cited)
    if timed or len(kinds) == 2:
        return Outcome(GOOD, CUE_PLUS, f"volunteered {fired}", cited)
    if kinds:
        return Outcome(AVERAGE, WEAK, f"only {fired}", cited)
    return Outcome(AVERAGE, NOTHING, "no next-step, timing, alternative or risk-warning cue")


def solution(s: Signals) -> Outcome:
    """Customer-confirmed resolution vs. "still not working"; concrete steps in between.

    It cannot tell whether the answer is *correct* against the knowledge base.
    """
    steps = s.of("solution_steps")
    # what the customer says before the agent's first reply describes the problem itself:
    # neither "still not working" nor "...to get it back to normal" there is about an answer
    resolved = s.answered("customer_resolved")
    unresolved = s.answered("customer_unresolved")
    if steps:  # "it doesn't work" only counts once the agent has proposed something
        unresolved = sorted(
            unresolved + s.after("customer_problem_persists", steps[0].pos),
            key=lambda h: (h.pos, h.start),
        )
    if unresolved:
        last = unresolved[-1].pos
        cleared = s.after("customer_resolved", last)
        if not cleared:
            reply = s.agent_before(last)
            conf = STRONG if s.repeats else CUE_PLUS
            return Outcome(
                POOR,
                conf,
                f"customer says it is not solved {labels(unresolved, 2)}"
                " and never confirms a fix afterwards",
                context=[reply] if reply is not None else [],
            )
    if resolved:
        why = f"customer confirmed the fix {labels(resolved, 2)}"
        if steps:
            return Outcome(GOOD, STRONG, f"{why}; concrete steps {labels(steps, 2)}", steps)
        return Outcome(GOOD, CUE_PLUS, why, context=_last_agent_before(s, resolved[-1].pos))
    if s.repeats:
        later = s.repeats[-1][1]
        return Outcome(
            AVERAGE,
            SOFT,
            f"customer repeated the question ({s.message_ids[later]}); no confirmed fix",
            context=_last_agent_before(s, later),
        )
    unknown = s.of("agent_unknown")
    if unknown and not steps:
        # passed on or pointed elsewhere in the same message or the agent's next one
        # (JDDC: 小妹不清楚呢 ... 小妹帮您转达专员给您回电; 建议您联系一下商家): not a dead end
        near = {u.pos for u in unknown} | {s.agent_after(u.pos) for u in unknown}
        onward = [h for h in s.of("followup") + s.of("alternative") if h.pos in near]
        if onward:
            return Outcome(
                AVERAGE,
                WEAK,
                f"agent could not answer {labels(unknown, 2)} but offered a way on "
                f"{labels(onward, 2)}",
                unknown + onward,
            )
        return Outcome(
            POOR, CUE, f"agent could not answer {labels(unknown, 2)} and gave no steps", unknown
        )
    if steps:
        thanks = s.after("customer_thanks", steps[0].pos)
        if thanks:
            return Outcome(
                GOOD,
                WEAK,
                f"concrete steps {labels(steps, 2)}, customer thanked {labels(thanks, 1)}",
                steps,
            )
        return Outcome(
            AVERAGE, SOFT, f"concrete steps {labels(steps, 2)} but no confirmation", steps
        )
    return Outcome(AVERAGE, NOTHING, "no solution step and no confirmation either way")


def _last_agent_before(s: Signals, index: int) -> list[int]:
    reply = s.agent_before(index)
    return [reply] if reply is not None else []


def understanding(s: Signals) -> Outcome:
    """ "That's not what I asked" / repeated questions / the agent asking again."""
    # only in reply to an answer of this chat's agent: "As I said" or "how many times" in the
    # opening message is about earlier contacts (STC-3 en, MAIA), no answer here missed anything
    missed = s.answered("customer_misunderstood")
    reask = s.of("agent_reask")
    if missed:
        conf = STRONG if (s.repeats or _distinct(missed) >= 2) else CUE_PLUS
        context = _last_agent_before(s, missed[0].pos)
        return Outcome(
            POOR,
            conf,
            f"customer says the answer missed the point {labels(missed, 2)}",
            context=context,
        )
    if len(s.repeats) >= 2:
        ids = ", ".join(s.message_ids[later] for _, later in s.repeats[:3])
        return Outcome(
            POOR,
            WEAK,
            f"customer had to repeat themselves {len(s.repeats)} times ({ids})",
            context=_last_agent_before(s, s.repeats[0][1]),
        )
    if s.repeats or reask:
        parts = []
        if s.repeats:
            parts.append(f"customer repeated once ({s.message_ids[s.repeats[0][1]]})")
        if reask:
            parts.append(f"agent asked again {labels(reask, 2)}")
        context = _last_agent_before(s, s.repeats[0][1]) if s.repeats else []
        return Outcome(AVERAGE, WEAK, "; ".join(parts), reask, context)
    return Outcome(GOOD, ABSENCE, "no repeated question, off-topic complaint or re-ask cue")


def expression(s: Signals) -> Outcome:
    """Over-long unbroken messages, internal jargon and filler, counted together."""
    jargon, filler = s.of("jargon"), s.of("filler")
    problems = len(s.long_agent) + _distinct(jargon) + _distinct(filler)
    if not problems:
        return Outcome(GOOD, ABSENCE, "no jargon, filler or over-long unbroken message")
    parts = []
    if s.long_agent:
        ids = ", ".join(s.message_ids[i] for i in s.long_agent[:3])
        parts.append(f"over-long unbroken message ({ids})")
    if jargon:
        parts.append(f"jargon {labels(jargon)}")
    if filler:
        parts.append(f"filler {labels(filler)}")
    kinds = sum(1 for x in (s.long_agent, jargon, filler) if x)
    why = "; ".join(parts)
    if problems >= 3:
        conf = CUE_PLUS if kinds >= 2 else CUE
        return Outcome(POOR, conf, why, jargon + filler, s.long_agent[:2])
    return Outcome(AVERAGE, WEAK, why, jargon + filler, s.long_agent[:2])


def attitude(s: Signals) -> Outcome:
    """Blame-shifting or dismissive words are poor; flat/perfunctory replies are average."""
    blame, dismissive = s.of("blame_shifting"), s.of("dismissive")
    perfunctory, terse = s.of("perfunctory"), s.of("terse_reply")
    if blame or dismissive:
        parts = []
        if blame:
            parts.append(f"blame-shifting {labels(blame)}")
        if dismissive:
            parts.append(f"dismissive {labels(dismissive)}")
        conf = STRONG if (blame and dismissive) or _distinct(blame + dismissive) >= 2 else CUE_PLUS
        return Outcome(POOR, conf, "; ".join(parts), blame + dismissive)
    if perfunctory or len(terse) >= 2:
        parts = []
        if perfunctory:
            parts.append(f"perfunctory {labels(perfunctory)}")
        if len(terse) >= 2:
            parts.append(f"{len(terse)} bare one-word replies {labels(terse, 2)}")
        return Outcome(AVERAGE, WEAK, "; ".join(parts), perfunctory + terse)
    polite = s.of("politeness")
    if polite:
        return Outcome(
            GOOD, SOFT, f"courteous {labels(polite, 2)}; no blame-shifting or cold cue", polite[:2]
        )
    return Outcome(GOOD, ABSENCE, "no blame-shifting, dismissive or perfunctory cue")


def info_security(s: Signals) -> Outcome:
    """Verification before disclosure; asking for a password or SMS code is poor.

    Nothing personal asked for or disclosed -> nothing to judge (n/a where the rubric allows
    it, otherwise the top level: seed 004 records a pure inquiry as a pass).
    """
    secret = s.of("asks_secret")
    if secret:
        return Outcome(
            POOR,
            STRONG,
            f"agent asked for a password or verification code {labels(secret)}",
            secret,
        )
    verify, weak = s.of("verification"), s.of("verification_weak")
    disclosed = sorted(s.of("disclosure") + s.pii_agent, key=lambda h: (h.pos, h.start))
    if disclosed:
        first = disclosed[0].pos
        strong_before = [h for h in verify if h.pos < first]
        weak_before = [h for h in weak if h.pos < first]
        if strong_before:
            return Outcome(
                GOOD,
                CUE_PLUS,
                f"verified first {labels(strong_before, 2)}, then disclosed {labels(disclosed, 2)}",
                strong_before + disclosed,
            )
        if weak_before:
            return Outcome(
                AVERAGE,
                WEAK,
                f"only a generic check {labels(weak_before, 2)} with no identity factor"
                f" before disclosing {labels(disclosed, 2)}",
                weak_before + disclosed,
            )
        return Outcome(
            POOR,
            CUE_PLUS,
            f"disclosed {labels(disclosed, 2)} with no verification before it",
            disclosed,
        )
    if verify:
        return Outcome(GOOD, CUE, f"asked for an identity factor {labels(verify, 2)}", verify)
    if weak:
        return Outcome(
            GOOD, WEAK, f"asked for verification {labels(weak, 1)}; nothing disclosed", weak
        )
    topic = s.of("personal_data_topic")
    if topic:
        return Outcome(
            GOOD,
            ABSENCE,
            f"customer raised personal/order data {labels(topic, 2)}; agent disclosed nothing",
        )
    return Outcome(None, ABSENCE, "no personal or order data asked for or disclosed")


def honesty(s: Signals) -> Outcome:
    """Unhedged guarantees of outcomes are poor; hedged or vague ones average.

    No commitment at all -> nothing to judge (n/a where allowed, otherwise the top level).
    It cannot detect fake records (虚假行为) the chat does not show.
    """
    hedge = s.of("hedge")
    committed = {h.pos for h in s.of("followup") + s.of("timing")}
    # "without fail" guarantees only what the same message commits to (a next step, a time);
    # on its own it states a rule ("codes expire after 7 days without fail")
    promise = s.of("false_promise")
    emphatic = [h for h in s.of("emphatic") if h.pos in committed]
    if emphatic:
        promise = sorted(promise + emphatic, key=lambda h: (h.pos, h.start))
    hedged_msgs = {h.pos for h in hedge}
    if promise:
        bare = [h for h in promise if h.pos not in hedged_msgs]
        if bare:
            conf = STRONG if _distinct(bare) >= 2 else CUE_PLUS
            return Outcome(POOR, conf, f"unhedged guarantee {labels(bare)}", bare)
        hedges = [h for h in hedge if h.pos in {p.pos for p in promise}]
        return Outcome(
            AVERAGE,
            WEAK,
            f"guarantee {labels(promise, 2)} softened by {labels(hedges, 1)}",
            promise + hedges,
        )
    vague = s.of("soft_overpromise")
    if vague:
        return Outcome(AVERAGE, WEAK, f"leans toward over-promising {labels(vague, 2)}", vague)
    commitments = s.of("followup") + s.of("timing")
    if commitments or hedge:
        cited = sorted(commitments + hedge, key=lambda h: (h.pos, h.start))
        conf = WEAK if hedge else SOFT
        return Outcome(
            GOOD, conf, f"commitments {labels(cited, 2)} with no absolute guarantee", cited[:3]
        )
    return Outcome(None, ABSENCE, "no commitment or promise made")


Rule = Callable[[Signals], Outcome]

#: Rule sets by name; a criterion picks one with ``offline_rules`` (default: its id).
RULES: dict[str, Rule] = {
    "empathy": empathy,
    "proactiveness": proactiveness,
    "solution": solution,
    "understanding": understanding,
    "expression": expression,
    "attitude": attitude,
    "info_security": info_security,
    "honesty": honesty,
}
