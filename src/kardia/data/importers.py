"""Importers that turn real human-written dialogues into (partial) KardiaBench records.

- EmpatheticDialogues (`--from ed`): situation = prompt, emotion = the conversation's label; speaker
  turns become user turns and listener turns assistant turns whose emotion span holds the label and
  whose response span holds the listener's words. Understanding and reasoning do not exist in such data,
  so the records are `partial` with `gold_spans = ["emotion", "response"]`.
- ESConv (`--from esconv`): seeker turns are user turns, supporter turns assistant turns (consecutive
  turns of one side are joined). Its 11 emotion types are not among the 32 labels, so they are kept in
  `esconv_emotion` and the emotion span stays empty: `gold_spans = ["response"]`.

Neither source has persona profiles: `person` and `mbti` are empty and `anon_username` is derived from
the conversation, so splits by persona become splits by conversation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from kardia.data.records import Record
from kardia.data.sources import DataError
from kardia.prompts import system_prompt
from kardia.spans import render

IMPORTERS = ("ed", "esconv")


def _pseudonym(prefix: str, key: str) -> str:
    return f"{prefix}_{hashlib.sha1(key.encode('utf-8')).hexdigest()[:10]}"


def _ed_text(text: str) -> str:
    return text.replace("_comma_", ",").strip()


def read_ed_conversations(path: str | Path) -> Iterator[dict]:
    """EmpatheticDialogues conversations as {conv_id, emotion, prompt, turns: [(idx, role, text)]}.

    Reads the raw CSV (six comma-separated fields, commas escaped as `_comma_`, no quoting) or the
    JSONL layout of `../shared/data/empatheticdialogues`.
    """
    path = Path(path)
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    turns = [(int(t["utterance_idx"]), t["role"], _ed_text(t["text"])) for t in obj["turns"]]
                    yield {"conv_id": obj["conv_id"], "emotion": obj["emotion"], "prompt": _ed_text(obj["prompt"]), "turns": turns}
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                    raise DataError(f"{path}:{number}: not an EmpatheticDialogues conversation ({exc!r})") from exc
        return
    current: dict | None = None
    with path.open(encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
        if header[:6] != ["conv_id", "utterance_idx", "context", "prompt", "speaker_role", "utterance"]:
            raise DataError(f"{path}:1: unexpected header {header}; expected the EmpatheticDialogues layout")
        for number, line in enumerate(handle, start=2):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            fields = line.split(",")
            if len(fields) != 6:
                raise DataError(f"{path}:{number}: expected 6 comma-separated fields, found {len(fields)}")
            conv_id, idx, label, prompt, role, text = fields
            if current is None or current["conv_id"] != conv_id:
                if current is not None:
                    yield current
                current = {"conv_id": conv_id, "emotion": label, "prompt": _ed_text(prompt), "turns": []}
            current["turns"].append((int(idx), role, _ed_text(text)))
    if current is not None:
        yield current


def _alternate(turns: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """Join consecutive turns of one side; drop (and return) assistant turns before the first user turn."""
    joined: list[tuple[str, str]] = []
    for role, text in turns:
        if joined and joined[-1][0] == role:
            joined[-1] = (role, f"{joined[-1][1]} {text}".strip())
        else:
            joined.append((role, text))
    dropped = []
    while joined and joined[0][0] == "assistant":
        dropped.append(joined.pop(0)[1])
    return joined, dropped


def ed_records(path: str | Path) -> Iterator[Record]:
    """EmpatheticDialogues conversations as partial KardiaBench records."""
    for conv in read_ed_conversations(path):
        roles = {"speaker": "user", "listener": "assistant"}
        turns = [(roles.get(role, role), text) for _, role, text in sorted(conv["turns"])]
        turns, dropped = _alternate(turns)
        label = conv["emotion"]
        messages = [{"role": "system", "content": system_prompt("", conv["prompt"])}]
        for role, text in turns:
            content = render("", "", label, text) if role == "assistant" else text
            messages.append({"role": role, "content": content})
        extra = {"dropped_opening": dropped} if dropped else {}
        yield Record(
            id=f"ed:{conv['conv_id']}",
            person="",
            mbti="",
            emotion=label,
            situation=conv["prompt"],
            anon_username=_pseudonym("ed", conv["conv_id"]),
            messages=messages,
            partial=True,
            gold_spans=["emotion", "response"],
            source="empatheticdialogues",
            **extra,
        )


def esconv_records(path: str | Path) -> Iterator[Record]:
    """ESConv conversations (one JSON object per line) as partial KardiaBench records."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                raw_turns = [("user" if t["speaker"] == "usr" else "assistant", t["text"].strip()) for t in obj["dialog"]]
                strategies = [t.get("strategy") for t in obj["dialog"] if t["speaker"] == "sys"]
                situation = obj["situation"].strip()
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                raise DataError(f"{path}:{number}: not an ESConv conversation ({exc!r})") from exc
            turns, dropped = _alternate(raw_turns)
            messages = [{"role": "system", "content": system_prompt("", situation)}]
            for role, text in turns:
                messages.append({"role": role, "content": render("", "", "", text) if role == "assistant" else text})
            extra = {"dropped_opening": dropped} if dropped else {}
            yield Record(
                id=f"esconv:{path.stem}:{number}",
                person="",
                mbti="",
                emotion="",
                situation=situation,
                anon_username=_pseudonym("esconv", f"{path.name}:{number}"),
                messages=messages,
                partial=True,
                gold_spans=["response"],
                source="esconv",
                esconv_emotion=obj.get("emotion_type"),
                problem_type=obj.get("problem_type"),
                strategies=strategies,
                **extra,
            )


def import_records(kind: str, path: str | Path) -> Iterator[Record]:
    """Records from a real-data file: `kind` is 'ed' or 'esconv'."""
    if kind == "ed":
        return ed_records(path)
    if kind == "esconv":
        return esconv_records(path)
    raise ValueError(f"unknown importer {kind!r}; expected one of {IMPORTERS}")
