"""A saved column mapping (``--mapping FILE.yaml``), so a team writes its export's names once.

::

    # mapping for our console's Excel export
    columns:          # our field: the header in the file (as --column FIELD=HEADER)
      chat_id: 会话ID
      agent_id: 客服
      role: 发送方
      ts: 发送时间
      text: 消息内容
    role_values:      # a word in the role column: the role (as --role-value WORD=ROLE)
      小二: agent
    tz: Asia/Shanghai # read naive times in this zone (as --tz)

Every key is optional. Options given on the command line win over the file (one column
at a time). An unknown key, field or role is an error naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import UsageError
from ..models import ROLES
from .options import CSV_FIELDS

_KEYS = ("columns", "role_values", "tz")


@dataclass(frozen=True)
class SavedMapping:
    columns: dict[str, str] = field(default_factory=dict)
    role_values: dict[str, str] = field(default_factory=dict)
    tz: str | None = None


def load_mapping(path: str | Path) -> SavedMapping:
    """Read and check a mapping file; every problem is a :class:`UsageError` naming it."""
    p = Path(path)
    try:
        data: Any = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"cannot read the mapping {p}: {e.strerror or e}") from e
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UsageError(f"{p}: not valid YAML ({e})") from e
    if data is None:
        return SavedMapping()
    if not isinstance(data, dict):
        raise UsageError(f"{p}: expected a mapping with keys {', '.join(_KEYS)}")
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise UsageError(f"{p}: unknown key(s) {', '.join(unknown)}; expected {', '.join(_KEYS)}")
    columns = _str_dict(data.get("columns"), p, "columns")
    for ours in columns:
        if ours not in CSV_FIELDS:
            raise UsageError(
                f"{p}: columns.{ours}: unknown field; known fields: {', '.join(CSV_FIELDS)}"
            )
    roles = _str_dict(data.get("role_values"), p, "role_values")
    for word, role in roles.items():
        if role not in ROLES:
            raise UsageError(
                f"{p}: role_values.{word}: {role!r} is not a role; expected {', '.join(ROLES)}"
            )
    tz = data.get("tz")
    if tz is not None and not isinstance(tz, str):
        raise UsageError(f"{p}: tz must be a zone name such as Asia/Shanghai")
    return SavedMapping(columns=columns, role_values=roles, tz=tz)


def _str_dict(value: Any, path: Path, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{path}: {key} must be a mapping of names, e.g. chat_id: 会话ID")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str | int) or isinstance(v, bool) or not str(v).strip():
            raise UsageError(f"{path}: {key}.{k}: expected a name, not {v!r}")
        out[str(k).strip()] = str(v).strip()
    return out
