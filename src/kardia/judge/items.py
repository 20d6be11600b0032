"""What the judge grades (`JudgeItem`) and what it returns (`JudgeResult`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Message = dict[str, str]


@dataclass(frozen=True)
class JudgeItem:
    """One reply to grade, in its context.

    Attributes:
        messages: the dialogue so far, ending with the user's turn (no system message).
        reply: the candidate: a full four-span answer or a plain reply.
        persona: the user's profile text (may be empty).
        situation: the situation the user is in (may be empty).
        reference: an optional gold reply, shown to the judge for comparison.
    """

    messages: tuple[Message, ...]
    reply: str
    persona: str = ""
    situation: str = ""
    reference: str | None = None

    def __init__(
        self,
        messages: Any,
        reply: str,
        persona: str = "",
        situation: str = "",
        reference: str | None = None,
    ) -> None:
        msgs = tuple({"role": str(m["role"]), "content": str(m["content"])} for m in messages)
        object.__setattr__(self, "messages", msgs)
        object.__setattr__(self, "reply", reply if isinstance(reply, str) else "")
        object.__setattr__(self, "persona", persona or "")
        object.__setattr__(self, "situation", situation or "")
        object.__setattr__(self, "reference", reference or None)


@dataclass
class JudgeResult:
    """The judge's verdict on one item.

    Attributes:
        scores: criterion id -> normalised score in [0, 1], or None when it could not be scored.
        raw: criterion id -> expected 1-5 score (logprob mode) or parsed 1-5 score (generate mode).
        overall: the rubric-weighted mean of `scores`, None when any criterion is None.
        error: why the item could not be scored (scores are then None, never 0).
        degenerate: why the reply got the minimum score without a judge call (empty, wrong language, ...).
        cached: True when the verdict came from the persistent cache.
        shown: the candidate text the judge saw (after extraction and defences).
        grounding: how much the context raises the reply's likelihood under the judge model, in nats
            (`kardia.judge.grounding`); the rubric's grounded criteria in `scores` are capped by it, while
            `raw` keeps the judge's own scores. None when not measured.
    """

    scores: dict[str, float | None]
    raw: dict[str, float | None] = field(default_factory=dict)
    overall: float | None = None
    error: str | None = None
    degenerate: str | None = None
    cached: bool = False
    shown: str = ""
    grounding: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
