"""KardiaBench records (one dialogue each) and examples (one assistant turn each), with validation.

A `Record` has the dataset card's fields — person, mbti, emotion, situation, anon_username, messages —
where messages are a system message, then alternating user / assistant turns whose assistant contents
carry the four spans. Records imported from data without understanding and reasoning (EmpatheticDialogues,
ESConv) are `partial`: `gold_spans` names the spans that hold real gold text.

`check_record(obj)` returns the record and a list of `Issue`s (errors and warnings) naming the field;
it never raises, so `kardia data validate` can report every problem of every record.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kardia.emotions import EMOTIONS
from kardia.prompts import replies_only
from kardia.spans import SPAN_NAMES, parse

Message = dict[str, str]
_MBTI = re.compile(r"^[EI][NS][TF][JP](-[AT])?$")
# Problems of a gold assistant turn that make a record invalid; the others are warnings.
_WARNING_CODES = frozenset({"response_too_long"})


class Record(BaseModel):
    """One KardiaBench dialogue."""

    model_config = ConfigDict(extra="allow", frozen=False)

    person: str = Field(description="Full raw user profile: MBTI, About, Signature, Recent Activities.")
    mbti: str = Field(description="MBTI type extracted from the profile, e.g. 'INFP' (may be empty).")
    emotion: str = Field(description="Target emotion of the scenario, one of the 32 labels (empty for ESConv).")
    situation: str = Field(description="Background context of the conversation.")
    anon_username: str = Field(description="Pseudonymous user id; splits never share one.")
    messages: list[dict[str, str]] = Field(description="System message, then alternating user/assistant turns.")
    partial: bool = Field(default=False, description="True when some spans have no gold text (imported data).")
    gold_spans: list[str] = Field(default_factory=lambda: list(SPAN_NAMES), description="Spans holding gold text.")

    @property
    def record_id(self) -> str:
        """A stable id: the `id` field when the source has one, else a hash of the dialogue."""
        explicit = getattr(self, "id", None)
        if explicit:
            return str(explicit)
        payload = json.dumps([self.anon_username, self.situation, self.messages[1:3]], ensure_ascii=False, sort_keys=True)
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:12]

    def assistant_turns(self) -> list[int]:
        """Indices in `messages` of the assistant turns."""
        return [i for i, m in enumerate(self.messages) if m.get("role") == "assistant"]


@dataclass
class Example:
    """One turn-level pair: the prompt up to an assistant turn and that turn's gold four-span target."""

    id: str
    record_id: str
    turn: int
    messages: list[Message]
    target: str
    gold_emotion: str | None
    person: str
    situation: str
    mbti: str
    anon_username: str
    gold_spans: list[str] = field(default_factory=lambda: list(SPAN_NAMES))

    @property
    def history(self) -> list[Message]:
        """The dialogue so far without the system message (ends with the user's turn)."""
        return self.messages[1:]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "record_id": self.record_id,
            "turn": self.turn,
            "messages": self.messages,
            "target": self.target,
            "gold_emotion": self.gold_emotion,
            "person": self.person,
            "situation": self.situation,
            "mbti": self.mbti,
            "anon_username": self.anon_username,
            "gold_spans": self.gold_spans,
        }


@dataclass(frozen=True)
class Issue:
    """A problem in one record: `field` is a path such as `messages[3].content`."""

    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def check_record(obj: Any) -> tuple[Record | None, list[Issue]]:
    """Validate one raw record. Returns (record or None, issues); never raises."""
    if not isinstance(obj, dict):
        return None, [Issue("<record>", f"expected a JSON object, got {type(obj).__name__}")]
    try:
        record = Record.model_validate(obj)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"]).replace(".[", "[")
            issues.append(Issue(loc or "<record>", err["msg"]))
        return None, issues
    issues = _check_fields(record) + _check_messages(record)
    return record, issues


def _check_fields(record: Record) -> list[Issue]:
    issues = []
    unknown = [s for s in record.gold_spans if s not in SPAN_NAMES]
    if unknown:
        issues.append(Issue("gold_spans", f"unknown span names {unknown}; expected a subset of {list(SPAN_NAMES)}"))
    if not record.partial and set(record.gold_spans) != set(SPAN_NAMES):
        issues.append(Issue("gold_spans", "a record that is not partial must have all four gold spans"))
    if record.emotion and record.emotion not in EMOTIONS:
        issues.append(Issue("emotion", f"{record.emotion!r} is not one of the 32 labels"))
    if not record.emotion and not record.partial:
        issues.append(Issue("emotion", "empty (only partial records may leave it empty)"))
    if record.mbti and not _MBTI.match(record.mbti.strip().upper()):
        issues.append(Issue("mbti", f"{record.mbti!r} is not an MBTI type such as 'INFP'", "warning"))
    if not record.anon_username.strip():
        issues.append(Issue("anon_username", "empty: splits by persona need a user id"))
    return issues


def _check_messages(record: Record) -> list[Issue]:
    msgs = record.messages
    if not msgs:
        return [Issue("messages", "empty dialogue")]
    issues = []
    for i, m in enumerate(msgs):
        if not isinstance(m.get("content"), str):
            issues.append(Issue(f"messages[{i}].content", "missing or not a string"))
    if msgs[0].get("role") != "system":
        issues.append(Issue("messages[0].role", f"expected 'system', got {msgs[0].get('role')!r}"))
    for i, m in enumerate(msgs[1:], start=1):
        expected = "user" if i % 2 == 1 else "assistant"
        if m.get("role") != expected:
            issues.append(Issue(f"messages[{i}].role", f"expected {expected!r} (turns must alternate), got {m.get('role')!r}"))
            return issues
    if not record.assistant_turns():
        issues.append(Issue("messages", "no assistant turn: the dialogue gives no turn-level example", "warning"))
    for i in record.assistant_turns():
        content = msgs[i].get("content")
        if not isinstance(content, str):
            continue
        for problem in parse(content, strict=True).problems:
            allowed = record.partial and problem.span not in record.gold_spans and problem.code in ("empty_span", "missing_span")
            if allowed:
                continue
            severity = "warning" if problem.code in _WARNING_CODES else "error"
            issues.append(Issue(f"messages[{i}].content", f"{problem.code}: {problem.message}", severity))
    return issues


def prompt_messages_of(record: Record) -> list[Message]:
    """The messages a prompt shows. A full record's earlier assistant turns keep their four spans (what a
    Kardia model sees of its own past turns in `kardia chat`). A partial record's earlier assistant turns
    are reduced to their reply (the response span): they were written by people, not by a model, and their
    spans without gold text are empty tags a model would copy (every later turn then comes out malformed),
    while their gold emotion label would leak the label of the turn being predicted (EmpatheticDialogues
    labels a whole conversation with one emotion).
    """
    return replies_only(record.messages) if record.partial else list(record.messages)


def expand_record(record: Record) -> list[Example]:
    """One example per assistant turn: the prompt up to it and its gold target.

    This is the paper's relation between 22,080 dialogues and 178,080 turn-level pairs. The gold
    emotion is the turn's own emotion span (it may shift during a dialogue). Prompts show earlier turns
    as `prompt_messages_of` says.
    """
    rid = record.record_id
    shown = prompt_messages_of(record)
    examples = []
    for turn, i in enumerate(record.assistant_turns()):
        target = record.messages[i]["content"]
        label = parse(target, strict=True).emotion if "emotion" in record.gold_spans else None
        examples.append(
            Example(
                id=f"{rid}:{turn}",
                record_id=rid,
                turn=turn,
                messages=shown[:i],
                target=target,
                gold_emotion=label or None,
                person=record.person,
                situation=record.situation,
                mbti=record.mbti,
                anon_username=record.anon_username,
                gold_spans=list(record.gold_spans),
            )
        )
    return examples
