"""Context grounding: how much the dialogue explains a reply, and the cap it puts on grounded criteria.

A judge that scores every fluent, kind reply alike cannot tell a generic platitude ("Everything happens
for a reason. Stay positive!") from a reply written for this user. The judge model can still tell, as a
language model: a reply that picks up the user's specifics is far more likely after reading them. The
grounding of a reply is that gain, the pointwise mutual information between the context and the reply
under the judge model, summed over the reply's tokens, in nats::

    grounding = log p(reply | rubric, profile, situation, dialogue) - log p(reply | rubric, empty context)

A local logprob judge reads both terms off forward passes it shares with scoring (the candidate's
tokens are run on the context's KV cache anyway; the empty context is encoded once per rubric). With
SmolLM2-135M, generic replies score about -5 to +5 nats, specific replies 20 to 40 (see
``benchmarks/judge_grounding.py``).

The rubric describes Relevance level 1 as a reply that "could have been written without reading" the
message, and level 3 as one that "could fit many similar messages". A criterion marked
``grounded: true`` in the rubric is therefore capped by the reply's grounding, on the 0-1 scale::

    score <= ceiling(grounding) = clip(grounding / full_nats, 0, 1)

The cap only ever lowers a score, so nothing can be gained by padding a reply to raise its grounding
(copying the user's message back is caught earlier, as a degenerate reply). It needs the judge model's
log-probabilities over the reply, so only local judges apply it; their results carry ``grounding``, and
other judges leave it None and their scores uncapped.

>>> grounding_ceiling(4.0, 16.0), grounding_ceiling(-3.0, 16.0), grounding_ceiling(30.0, 16.0)
(0.25, 0.0, 1.0)
>>> from kardia.judge.rubric import load_rubric
>>> capped({"relevance": 0.5, "empathy": 0.5}, load_rubric(), 2.0, 16.0)
{'relevance': 0.125, 'empathy': 0.5}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kardia.judge.items import JudgeItem
from kardia.judge.prompts import context_segment
from kardia.judge.rubric import Rubric

DEFAULT_FULL_NATS = 12.0
"""Grounding (nats) from which a grounded criterion is no longer capped: the value that best separates real
EmpatheticDialogues replies from generic ones in the same contexts (``benchmarks/judge_grounding.py``)."""

EMPTY_CONTEXT = context_segment(JudgeItem([], ""))
"""The context segment with no profile, situation or dialogue: the baseline of the grounding."""


def grounding_ceiling(grounding: float, full_nats: float) -> float:
    """The highest 0-1 score a grounded criterion may keep: ``clip(grounding / full_nats, 0, 1)``."""
    return min(1.0, max(0.0, grounding / full_nats))


def capped(scores: Mapping[str, float | None], rubric: Rubric, grounding: float | None, full_nats: float | None) -> dict[str, float | None]:
    """`scores` with every grounded criterion lowered to the ceiling (unchanged when `grounding` or `full_nats` is None)."""
    if grounding is None or full_nats is None:
        return dict(scores)
    ceiling = grounding_ceiling(grounding, full_nats)
    grounded = {c.id for c in rubric.criteria if c.grounded}
    return {c: (min(v, ceiling) if c in grounded and v is not None else v) for c, v in scores.items()}


def logits_to_keep(width: int, spans: Sequence[tuple[int, int]]) -> int:
    """How many trailing positions of rows `width` tokens wide must keep logits to score every span's tokens."""
    return width - min(a for a, _ in spans) + 1


def reply_logprobs(logits: Any, ids: Any, spans: Sequence[tuple[int, int]]) -> list[float]:
    """Per row, the summed log-probability of its tokens ``ids[row, a:b]`` for ``(a, b)`` in `spans`.

    `logits` are the model's outputs for the last ``logits.shape[1]`` positions of the same rows (as with
    transformers' ``logits_to_keep``); each position predicts the next token.
    """
    import torch

    offset = ids.shape[1] - logits.shape[1]
    totals = []
    for row, (a, b) in enumerate(spans):
        if b <= a:
            totals.append(0.0)
            continue
        rows = logits[row, a - 1 - offset:b - 1 - offset].float()
        picked = rows.gather(1, ids[row, a:b, None]).squeeze(1) - torch.logsumexp(rows, dim=-1)
        totals.append(float(picked.sum()))
    return totals
