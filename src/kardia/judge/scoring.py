"""Turning judge outputs into scores: expected scores from log-probabilities, parsing generated verdicts,
and the two HTTP-friendly scorers (logprob per criterion, generate with JSON).

The fast local path, which reuses KV caches across criteria and replies, is `kardia.judge.local_scoring`.

>>> round(expected_score({"1": -9.0, "2": -9.0, "3": -2.0, "4": -0.2, "5": -2.0}), 3)
3.999
>>> parse_scores('Kind and on topic. {"relevance": 4, "empathy": 5}', ["relevance", "empathy"])
{'relevance': 4.0, 'empathy': 5.0}
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kardia.judge.prompts import (
    criterion_segment,
    generate_segment,
    judge_conversation,
    json_schema,
)
from kardia.judge.rubric import SCORE_LEVELS, Rubric
from kardia.models.base import ChatModel, GenerationConfig

DIGITS: tuple[str, ...] = tuple(str(s) for s in SCORE_LEVELS)


@dataclass
class PreparedItem:
    """One distinct (context, reply) to score: the prompt segments and the cache key.

    `candidate_parts` is the candidate segment as (opening, reply, closing): `kardia.judge.prompts.candidate_parts`.
    """

    key: str
    rubric_text: str
    context: str
    candidate_parts: tuple[str, str, str]
    indices: list[int] = field(default_factory=list)

    @property
    def candidate(self) -> str:
        return "".join(self.candidate_parts)

    def user_content(self, ending: str) -> str:
        return self.rubric_text + self.context + self.candidate + ending


@dataclass
class Verdict:
    """Raw 1-5 scores per criterion, or why there are none; `grounding` in nats when measured."""

    raw: dict[str, float] | None
    error: str | None = None
    grounding: float | None = None


def expected_score(logprobs: Mapping[Any, float]) -> float | None:
    """Σ s·p(s) over the five score tokens, probabilities renormalised over those tokens.

    `logprobs` maps each score (int or digit string) to its log-probability; None when all are -inf/NaN.
    """
    pairs = [(float(k), v) for k, v in logprobs.items() if v is not None and not math.isnan(v)]
    finite = [v for _, v in pairs if math.isfinite(v)]
    if not finite:
        return None
    peak = max(finite)
    weights = [(s, math.exp(v - peak)) for s, v in pairs if math.isfinite(v)]
    total = sum(w for _, w in weights)
    return sum(s * w for s, w in weights) / total


# --- generate mode parsing ----------------------------------------------------------------------

_JSON_BLOB = re.compile(r"\{[^{}]*\}", re.DOTALL)
_NUMBER = r"\**\s*([1-5](?:\.\d+)?)\s*\**(?:\s*(?:/|out\s+of)\s*5)?"
_GENERIC = re.compile(r"(?:\bscore\s*(?:\(1-5\))?\s*[:=]\s*\**\s*([1-5](?:\.\d+)?)\b)|(?:\b([1-5](?:\.\d+)?)\s*/\s*5\b)", re.IGNORECASE)


def _norm_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _valid(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 1.0 <= number <= 5.0 else None


def _from_json(text: str, aliases: Mapping[str, str]) -> dict[str, float]:
    for blob in reversed(_JSON_BLOB.findall(text)):
        candidates = [blob, re.sub(r",\s*}", "}", blob.replace("'", '"'))]
        for candidate in candidates:
            try:
                data = json.loads(candidate)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict):
                found = {}
                for key, value in data.items():
                    cid = aliases.get(_norm_key(str(key)))
                    if cid and _valid(value) is not None:
                        found[cid] = _valid(value)
                if found:
                    return found
    return {}


def parse_scores(text: str, criteria: Sequence[str], names: Mapping[str, str] | None = None) -> dict[str, float] | None:
    """Every criterion's 1-5 score from a generated verdict, or None when some criterion is missing.

    Accepts, in this order: a JSON object (the last one wins; single quotes and trailing commas are
    tolerated), lines such as ``Relevance: 4``, ``**Empathy** - 4/5`` or ``Persona consistency = 3``
    (the last mention of each criterion wins), and, for exactly as many generic ``Score: n`` / ``n/5``
    mentions as there are criteria, those in rubric order.

    Args:
        text: the judge's output.
        criteria: the criterion ids, in rubric order.
        names: criterion id -> display name (also accepted as a key).
    """
    if not isinstance(text, str):
        return None
    aliases = {_norm_key(c): c for c in criteria}
    for cid, name in (names or {}).items():
        aliases[_norm_key(name)] = cid
    found = _from_json(text, aliases)
    if len(found) < len(criteria):
        for alias, cid in aliases.items():
            if cid in found:
                continue
            words = r"[\s_\-]*".join(re.escape(ch) for ch in alias)
            pattern = re.compile(rf"\b{words}\b\s*\**\s*(?:score)?\s*[:=\-–—]?\s*{_NUMBER}", re.IGNORECASE)
            matches = pattern.findall(text)
            if matches and _valid(matches[-1]) is not None:
                found[cid] = _valid(matches[-1])
    if len(found) < len(criteria) and not found:
        generic = [_valid(a or b) for a, b in _GENERIC.findall(text)]
        if len(generic) == len(criteria):
            found = dict(zip(criteria, generic))
    if len(found) < len(criteria):
        return None
    return {c: found[c] for c in criteria}


# --- HTTP scorers -------------------------------------------------------------------------------


@dataclass
class CallStats:
    """Requests or forward passes made, and the wall time spent in them."""

    calls: int = 0
    seconds: float = 0.0


class RemoteLogprobScorer:
    """Logprob mode over `ChatModel.next_token_logprobs`: one request per reply per criterion.

    Requests are issued reply-major (a reply's criteria one after another) with the rubric and dialogue
    first, so a server with automatic prefix caching (vLLM, SGLang) reuses everything but the short
    criterion ending. No assistant prefix is sent: the criterion ending asks for the digit only, so the
    first generated token is the score on any OpenAI-compatible server.
    """

    def __init__(self, model: ChatModel, rubric: Rubric) -> None:
        self.model = model
        self.rubric = rubric
        self.stats = CallStats()

    def ending_tokens(self) -> str:
        """The longest criterion ending (for context-length checks)."""
        return max((criterion_segment(c) for c in self.rubric.criteria), key=len)

    async def score(self, items: Sequence[PreparedItem]) -> list[Verdict]:
        conversations = [
            judge_conversation(item.user_content(criterion_segment(c))) for item in items for c in self.rubric.criteria
        ]
        if not conversations:
            return []
        started = time.perf_counter()
        method = getattr(self.model, "anext_token_logprobs", None) or self.model.next_token_logprobs
        if inspect.iscoroutinefunction(method):
            outputs = await method(conversations, "", list(DIGITS))
        else:
            outputs = await asyncio.to_thread(method, conversations, "", list(DIGITS))
        self.stats.calls += len(conversations)
        self.stats.seconds += time.perf_counter() - started
        verdicts = []
        n = len(self.rubric.criteria)
        for k, _item in enumerate(items):
            raw: dict[str, float] = {}
            missing = []
            for j, criterion in enumerate(self.rubric.criteria):
                logprobs = outputs[k * n + j]
                value = expected_score(logprobs) if logprobs else None
                if value is None:
                    missing.append(criterion.id)
                else:
                    raw[criterion.id] = value
            if missing:
                verdicts.append(Verdict(None, f"the judge returned no score-token log-probabilities for {', '.join(missing)}"))
            else:
                verdicts.append(Verdict(raw))
        return verdicts


class GenerateScorer:
    """Generate mode: one request per reply, a short rationale then a JSON object of all criteria.

    Guided JSON (vLLM's ``extra_body={"guided_json": schema}``) is requested when the model's
    `agenerate` accepts an ``extra_body`` argument; if the server then fails every request, the batch
    is retried once without it. Unparseable answers are asked again (up to `retries` times) with a
    follow-up message that asks for the JSON object only.
    """

    def __init__(self, model: ChatModel, rubric: Rubric, *, max_new_tokens: int = 256, retries: int = 2) -> None:
        self.model = model
        self.rubric = rubric
        self.retries = retries
        self.config = GenerationConfig(max_new_tokens=max_new_tokens, temperature=0.0, seed=0)
        self.stats = CallStats()
        self._guided = "extra_body" in inspect.signature(model.agenerate).parameters

    def ending_tokens(self) -> str:
        return generate_segment(self.rubric)

    async def _generate(self, conversations: list[list[dict[str, str]]]) -> list[Any]:
        started = time.perf_counter()
        kwargs: dict[str, Any] = {}
        if self._guided:
            kwargs["extra_body"] = {"guided_json": json_schema(self.rubric)}
        generations = await self.model.agenerate(conversations, self.config, **kwargs)
        if self._guided and generations and all(g.error for g in generations):
            self._guided = False  # the server does not take guided decoding: fall back to free text
            generations = await self.model.agenerate(conversations, self.config)
        self.stats.calls += len(conversations)
        self.stats.seconds += time.perf_counter() - started
        return generations

    async def score(self, items: Sequence[PreparedItem]) -> list[Verdict]:
        names = {c.id: c.name for c in self.rubric.criteria}
        conversations = [judge_conversation(item.user_content(generate_segment(self.rubric))) for item in items]
        verdicts: list[Verdict | None] = [None] * len(items)
        pending = list(range(len(items)))
        last_text: dict[int, str] = {}
        for attempt in range(self.retries + 1):
            if not pending:
                break
            generations = await self._generate([conversations[i] for i in pending])
            retry = []
            for i, generation in zip(pending, generations):
                if generation.error:
                    verdicts[i] = Verdict(None, f"judge request failed: {generation.error}")
                    continue
                parsed = parse_scores(generation.text, self.rubric.ids, names)
                if parsed is not None:
                    verdicts[i] = Verdict(parsed)
                    continue
                last_text[i] = generation.text
                conversations[i] = [
                    *conversations[i],
                    {"role": "assistant", "content": generation.text},
                    {"role": "user", "content": "Your answer could not be read. Reply with only the JSON object of "
                     "integer scores 1-5, one per criterion: " + json.dumps({c: 0 for c in self.rubric.ids}).replace("0", "n")},
                ]
                retry.append(i)
            pending = retry
        for i in pending:
            snippet = " ".join(last_text.get(i, "").split())[:80]
            verdicts[i] = Verdict(None, f"unparseable judge output after {self.retries + 1} attempts: {snippet!r}")
        return [v if v is not None else Verdict(None, "not scored") for v in verdicts]
