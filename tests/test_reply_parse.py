"""ReplySpec.parse validates a well-formed grade once (CriterionReply) and leaves everything
else to the per-criterion model: the outcome must be the per-criterion model's in every case."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from fake_openai.data import rubric_zh
from pydantic import ValidationError

from auditor.grading.schema import CriterionReply, ReplySpec


def reference(spec: ReplySpec, cid: str, item: Any) -> CriterionReply | str:
    """What the per-criterion model alone makes of ``item``: the reply, or 'invalid'."""
    try:
        valid = spec.models[cid].model_validate(item)
    except ValidationError:
        return "invalid"
    return CriterionReply.model_validate(valid.model_dump())


def test_every_item_gets_the_per_criterion_models_verdict():
    spec = ReplySpec(rubric_zh())
    cid = "empathy"
    evidence_variants: list[Any] = [
        [],
        [{"message_id": "m2", "quote": "您好"}],
        [{"message_id": "m2", "quote": "您好", "extra": 1}],
        [{"message_id": 2, "quote": "您好"}],
        [{"message_id": "m2"}],
        ["m2"],
        "m2",
        None,
    ]
    fields: dict[str, list[Any]] = {
        "criterion": [cid, "solution", None, 1],
        "level": ["good", "na", "excellent", None, 3, ["good"]],
        "rationale": ["ok", "", None, 5],
        "evidence": evidence_variants,
    }
    seen = {"valid": 0, "invalid": 0}
    for values in itertools.product(*fields.values()):
        item = dict(zip(fields, values, strict=True))
        item["extra"] = "ignored"
        want = reference(spec, cid, item)
        parsed = spec.parse(orjson.dumps({cid: item}).decode())
        got = parsed.grades.get(cid, "invalid")
        assert got == want, item
        if want == "invalid":
            assert parsed.errors[cid]  # worded by the per-criterion model
        seen["valid" if want != "invalid" else "invalid"] += 1
    assert seen["valid"] and seen["invalid"]
