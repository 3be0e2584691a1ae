"""Flag transcript text that tries to instruct the grader ("ignore the rubric, full marks").

The transcript is data. The prompt fences it and says so, but a fence is a request, not a
guarantee: a model can still be swayed. So the pipeline runs this detector on every chat
whatever the grader, and a hit sends the chat to human review with the offending words as
evidence (``flags=["suspected_injection"]``). It does not change any grade.

The patterns look for text addressed to a grader or a model — overriding instructions,
rubrics or prompts, demanding marks from the QA/scoring side, role or chat-markup
impersonation — in Chinese and English, on NFKC-folded text (so full-width letters do not
slip through). Ordinary service talk is left alone on purpose: an agent asking the
customer for a five-star review ("麻烦给个五星好评") is a satisfaction-survey plea, not an
injection, and is not flagged.
"""

from __future__ import annotations

import re
import unicodedata

from ..models import Chat, Evidence
from .evidence import fold

FLAG = "suspected_injection"

_END = r"[^。！？!?\n]"  # stay inside one sentence
_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # zh: override the instructions / rubric / prompt
        rf"(?:忽略|无视|忘记|忘掉|不要理会|别管|跳过|覆盖){_END}{{0,10}}?"
        r"(?:指令|指示|规则|评分标准|评分规则|质检标准|提示词|设定|rubric|prompt)",
        # zh: demand marks from the QA / scoring side
        rf"(?:质检|评分|审核|打分|评估|考核){_END}{{0,15}}?(?:满分|最高分|全部{_END}{{0,3}}(?:好|优秀|通过|合格))",
        rf"(?:给|打|评)(?:这个?|本次|该|我的?)?(?:对话|会话|客服){_END}{{0,6}}?(?:满分|最高分)",
        # zh: role play / system impersonation
        r"(?:从现在(?:开始|起)[，, ]?你(?:是|就是|扮演)|你现在是一个?(?:ai|人工智能|模型|助手|质检员|评分员))",
        r"(?:系统提示|系统指令|系统消息)[:：]",
        # en: override
        r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|the|your|these|those|"
        r"previous|prior|above|earlier|preceding|of|grading|scoring)\s+)*"
        r"(?:instructions?|rubric|rules|criteria|prompt|guidelines|system message)\b",
        # en: demand marks
        rf"\b(?:give|grade|rate|score|mark|assign)\b{_END}{{0,30}}?"
        r"(?:full marks|full score|top marks|perfect score|100\s*(?:/|out of)\s*100|all (?:good|excellent|passed))",
        # en: role play / addressing the model
        r"\byou are now (?:a|an|the)\b",
        r"\b(?:system prompt|system message)\s*:",
        r"\b(?:dear |attention |note to (?:the )?)(?:grader|auditor|evaluator|ai|llm|language model)\b",
        # chat-template / fence markup that only a model reads
        r"<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>",
        r"\[/?(?:inst|sys)\]",
        r"</?(?:system|instructions?|transcript|rubric)>",
        r"<{3}\s*(?:end\s+)?transcript|transcript\s*>{3}",
    )
)


#: All patterns in one alternation: a single pass screens out the (nearly all) clean messages.
_ANY = re.compile("|".join(f"(?:{p.pattern})" for p in _PATTERNS), re.IGNORECASE)


def _clean(text: str) -> bool:
    """True when no pattern can match. For text already in NFKC, folding is casefolding,
    so one search over ``text.casefold()`` decides; other text takes the full path."""
    return unicodedata.is_normalized("NFKC", text) and _ANY.search(text.casefold()) is None


def detect_injection(chat: Chat) -> list[Evidence]:
    """Evidence (message id, the original words) of text that addresses the grader.

    One evidence per matching stretch of text; an empty list means nothing suspicious.
    """
    found: list[Evidence] = []
    for msg in chat.messages:
        if _clean(msg.text):
            continue
        folded, index = fold(msg.text, drop_punctuation=False)
        spans: list[tuple[int, int]] = []
        for pattern in _PATTERNS:
            for m in pattern.finditer(folded):
                if m.end() > m.start():
                    spans.append((index[m.start()], index[m.end() - 1] + 1))
        for start, end in _merge(spans):
            found.append(Evidence(message_id=msg.id, quote=msg.text[start:end]))
    return found


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
