"""Chinese real-chat sources of the hand-labelled development set (``labels-zh.jsonl``).

Each converter takes the shared data folder (``../shared/data``) and yields EVERY chat of
its source, in file order, as a native chat dict (docs/input-format.md)::

    {"chat_id": "<source>-<stable id>", "agent_id"?: ..., "channel": ...,
     "messages": [{"role": "customer"|"agent", "text": ...}, ...]}

No ``ts`` (none of these datasets has timestamps: the product must audit what it can of
such a chat) and no ``language`` (the product must detect it). No text is altered.

- ``jddc``: ``chats/jddc/jddc_dialogues.jsonl``; id = the dataset's ``dialogue_id``
  (``jddc-jddc_uss_test_000``); one message per turn; masked tokens ([数字x], [ORDERID_…],
  #E-s[数字x]) kept as they are.
- ``csds``: ``chats/csds/csds_val_topic_segments.json``; several topic segments share one
  dialogue, so the dialogues are the distinct ``Dialogue`` strings in order of first
  appearance; id = that index (``csds-0`` …). Turns are split on ``[SEP][CLS]``; the speaker
  is the text before the first ``:`` — ``客服`` is the agent, every other speaker (用户, 商家
  (a merchant asking JD), 物流师傅) is the customer side. Utterances are cut at 30 characters
  in this data.
- ``stc3-zh``: ``chats/stc3/stc3_cn_dev.jsonl``; id = the Weibo ``id``
  (``stc3-zh-3938105709223946``); each utterance of a turn is one message; empty utterances
  (emoji or images the crawl lost) are kept as empty messages, as an export would show them.

How the labelled chats were picked (``sample_ids``): for each source, the list of all chat
ids in file order is shuffled with ``random.Random(SEED)`` (``SEED = 20261202``) and the
labeller read the chats in that shuffled order, labelling every one read (none skipped for
its content), so the labelled chats of a source are a prefix of the shuffled list — a
random sample. Read: JDDC shuffled picks 0-81, CSDS 0-93, STC-3 zh 0-99 (276 chats).

Enriched picks (13, all JDDC): the agent messages of JDDC shuffled picks 82-139 were read and
the chats that looked likely to hold an agent typo or a forbidden phrase were labelled; their
``notes`` say "enriched pick" and give the shuffled position. Labels were decided by reading
each whole transcript, never by a keyword search or the product.

    python eval/real/sources_zh.py jddc 10 20     # show shuffled picks 10..19, numbered
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

SEED = 20261202
AGENT_SPEAKER = "客服"


def jddc(data: Path) -> Iterator[dict]:
    path = data / "chats" / "jddc" / "jddc_dialogues.jsonl"
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            obj = json.loads(line)
            yield {
                "chat_id": f"jddc-{obj['dialogue_id']}",
                "agent_id": "JD",
                "channel": "jd-chat",
                "messages": [
                    {"role": "agent" if t["role"] == "agent" else "customer", "text": t["text"]}
                    for t in obj["turns"]
                ],
            }


def csds(data: Path) -> Iterator[dict]:
    path = data / "chats" / "csds" / "csds_val_topic_segments.json"
    with path.open(encoding="utf-8") as fh:
        segments = json.load(fh)
    dialogues: dict[str, None] = {}
    for seg in segments:
        dialogues.setdefault(seg["Dialogue"], None)
    for index, dialogue in enumerate(dialogues):
        messages = []
        for turn in dialogue.split("[SEP][CLS]"):
            speaker, sep, text = turn.partition(":")
            if not sep:
                speaker, text = "", turn
            role = "agent" if speaker == AGENT_SPEAKER else "customer"
            messages.append({"role": role, "text": text})
        yield {
            "chat_id": f"csds-{index}",
            "agent_id": "JD",
            "channel": "jd-chat",
            "messages": messages,
        }


def stc3_zh(data: Path) -> Iterator[dict]:
    path = data / "chats" / "stc3" / "stc3_cn_dev.jsonl"
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            obj = json.loads(line)
            messages = []
            for turn in obj["turns"]:
                role = "customer" if turn["role"] == "customer" else "agent"
                for text in turn["utterances"]:
                    messages.append({"role": role, "text": text})
            yield {"chat_id": f"stc3-zh-{obj['id']}", "channel": "weibo", "messages": messages}


SOURCES: dict[str, Callable[[Path], Iterator[dict]]] = {
    "jddc": jddc,
    "csds": csds,
    "stc3-zh": stc3_zh,
}


def sample_ids(source: str, data: Path, seed: int = SEED) -> list[str]:
    """All chat ids of ``source`` in the shuffled order the labeller read them."""
    ids = [chat["chat_id"] for chat in SOURCES[source](data)]
    random.Random(seed).shuffle(ids)
    return ids


def _show(source: str, start: int, stop: int, data: Path) -> None:
    chats = {chat["chat_id"]: chat for chat in SOURCES[source](data)}
    for n, chat_id in enumerate(sample_ids(source, data)[start:stop], start):
        print(f"\n#### pick {n}  {chat_id}")
        for i, m in enumerate(chats[chat_id]["messages"]):
            mark = "AG" if m["role"] == "agent" else "cu"
            print(f"{i:>3} {mark} {m['text']}")


if __name__ == "__main__":
    _here = Path(__file__).resolve()
    _data = next(
        (p / "shared" / "data" for p in _here.parents if (p / "shared" / "data").is_dir()),
        Path("../shared/data"),
    )
    _show(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), _data)
