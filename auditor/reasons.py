"""The review queue's reasons, in the order the queue is worked (most urgent first).

A module of its own, importing nothing, so the command line can offer them as choices
without loading the library (``auditor --help`` stays fast); auditor/review/policy.py re-exports
them and explains each.
"""

from __future__ import annotations

LOW_CONFIDENCE = "low_confidence"
UNSCORED = "unscored"
INJECTION = "suspected_injection"
FATAL = "fatal"
CRITICAL = "critical_failure"
RANDOM = "random_sample"
AGENT_QUOTA = "agent_quota"

PRIORITY: tuple[str, ...] = (
    FATAL,
    INJECTION,
    UNSCORED,
    CRITICAL,
    LOW_CONFIDENCE,
    RANDOM,
    AGENT_QUOTA,
)

#: A grade flag: the grader's confidence is not measured (the offline keyword grader), so its
#: grades are advice. They never queue a chat for low confidence; their cue evidence ranks it.
ADVISORY = "advisory"
