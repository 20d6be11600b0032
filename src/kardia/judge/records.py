"""Reading judge inputs from JSONL lines: plain judge records and the files `kardia generate`/`eval` write.

A line is accepted when it has a dialogue and a reply:

* ``messages``: the dialogue ending with the user's turn. A leading system message is dropped; when
  it is a Kardia (or plain-mode) system prompt and the line has no profile or situation, they are
  read from it.
* the reply: ``reply``, else ``output`` (generate files), ``raw``, ``response`` or ``completion``; when
  none is present and ``messages`` ends with an assistant turn, that turn is the reply.
* ``persona`` or ``person``, ``situation``, optional ``reference``.

Each line gets a stable id (`line_id`): its ``id`` field, else a hash of its judge inputs, so a
resumed run recognises the lines it already scored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kardia.judge.items import JudgeItem

REPLY_FIELDS = ("reply", "output", "raw", "response", "completion")
# The profile and situation inside a Kardia or plain-mode system prompt (see kardia.prompts).
_SYSTEM_FIELDS = re.compile(
    r"### User Profile\n(?P<profile>.*?)\n### Situation ###\n(?P<situation>.*?)\n(?:### <\|understanding_begin\|>|Reply to the user's last message)",
    re.DOTALL,
)


class JudgeInputError(ValueError):
    """A judge input line is malformed; the message names the file, line and field."""


def profile_and_situation(system: str) -> tuple[str, str] | None:
    """(profile, situation) filled into a Kardia or plain-mode system prompt, or None for other text."""
    match = _SYSTEM_FIELDS.search(system or "")
    if not match:
        return None
    profile = match.group("profile").strip()
    return ("" if profile == "(not given)" else profile), match.group("situation").strip()


def item_from_record(record: Any, where: str = "<record>") -> JudgeItem:
    """The `JudgeItem` of one JSON object; raises `JudgeInputError` naming `where` and the field."""
    if not isinstance(record, dict):
        raise JudgeInputError(f"{where}: expected a JSON object, got {type(record).__name__}")
    messages = record.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) and "role" in m and "content" in m for m in messages):
        raise JudgeInputError(f"{where}: field 'messages' must be a list of {{'role', 'content'}} objects")
    persona = record.get("persona", record.get("person"))
    situation = record.get("situation")
    if messages and messages[0].get("role") == "system":
        extracted = profile_and_situation(str(messages[0].get("content", "")))
        if extracted:
            persona = persona if persona is not None else extracted[0]
            situation = situation if situation is not None else extracted[1]
        messages = messages[1:]
    reply = next((record[f] for f in REPLY_FIELDS if isinstance(record.get(f), str)), None)
    if reply is None and messages and messages[-1].get("role") == "assistant":
        reply, messages = str(messages[-1]["content"]), messages[:-1]
    if reply is None:
        raise JudgeInputError(f"{where}: no reply: expected one of the fields {', '.join(REPLY_FIELDS)}")
    if not messages or messages[-1].get("role") != "user":
        raise JudgeInputError(f"{where}: field 'messages' must end with the user's turn")
    for name, value in (("persona", persona), ("situation", situation), ("reference", record.get("reference"))):
        if value is not None and not isinstance(value, str):
            raise JudgeInputError(f"{where}: field '{name}' must be a string")
    return JudgeItem(messages, reply, persona=persona or "", situation=situation or "", reference=record.get("reference"))


def line_id(record: dict[str, Any], item: JudgeItem) -> str:
    """The record's ``id``, else the first 16 hex digits of a sha256 of its judge inputs."""
    if record.get("id") not in (None, ""):
        return str(record["id"])
    payload = json.dumps(
        [item.persona, item.situation, list(item.messages), item.reply, item.reference], ensure_ascii=False, sort_keys=True
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-empty line; raises `JudgeInputError` on invalid JSON."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise JudgeInputError(f"{path}:{number}: invalid JSON: {exc.msg}") from exc


def scored_ids(path: str | Path) -> set[str]:
    """Ids of the lines already written to a judge output file (a torn last line is ignored)."""
    from kardia.generate import completed_ids

    return completed_ids(path, key="judge_id")
