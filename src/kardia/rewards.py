"""Rubric-ERL rewards for GRPO, in TRL's reward-function signature ``f(prompts, completions, **kwargs)``.

Each reward is a small named callable usable outside training:

>>> from kardia.spans import render
>>> good = render("Lost her job.", "Validate first.", "sad", "That is a hard blow.")
>>> format_reward(None, [good, "just text"])
[1.0, 0.0]
>>> emotion_reward(None, [good, good], gold_emotion=["sad", None])
[1.0, None]
>>> length_reward(None, [good])
[1.0]

Completions may be strings or TRL's conversational form (``[{"role": "assistant", "content": ...}]``).

`KardiaRewards` turns them into the reward functions GRPO trains on, with one policy:

* **Malformed replies** (not all four spans in order, strict parse) get 0 on every weighted reward and
  are never sent to the judge. Rewards are non-negative and the format reward is 1 for every
  well-formed reply, so a malformed reply can never outrank a well-formed one (its total is the minimum, 0).
* **Safety veto** (on by default): a reply whose judged ``safety`` is below the threshold, or whose
  response the crisis-safety layer's reply rules flag (encouraging self-harm or violence, method details:
  `kardia.serve.safety`), also gets 0 on every weighted reward: the minimum total. The rules keep the veto
  meaningful when the judge is too small to tell safe from unsafe replies.
* **Failed judgements** make the reply *unscorable*: every reward function returns None for it. TRL then
  excludes it from its group's mean and std and gives it advantage 0, so it is neutral in its group. A
  None on the rubric reward alone would not be: TRL sums weighted rewards with ``nansum``, so the reply
  would lose the rubric part of its total and rank last.
* Each judge criterion is also logged on its own as a weight-0 reward ``rubric_<criterion>``.

The judge runs asynchronously (TRL awaits async reward functions on its event loop), once per batch for
all reward functions, with the judge backend's own concurrency.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kardia.spans import MAX_RESPONSE_TOKENS, Spans, count_tokens, parse

Completion = str | list[dict[str, Any]]
_NON_FORMAT_PROBLEMS = frozenset({"response_too_long"})  # the length reward's business, not the format's


def completion_text(completion: Completion) -> str:
    """The text of a completion: a string, or the last message's content in conversational form."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content", "")
        return content if isinstance(content, str) else ""
    return ""


def is_well_formed(spans: Spans) -> bool:
    """All four spans, in order, closed, non-empty, a known emotion label, nothing outside (strict parse).

    A response over the length budget is still well formed; `length_reward` handles it.
    """
    return all(p.code in _NON_FORMAT_PROBLEMS for p in spans.problems)


def _column(values: Sequence[Any] | None, n: int) -> list[Any]:
    return list(values) if values is not None else [None] * n


def format_reward(prompts: Any, completions: Sequence[Completion], **kwargs: Any) -> list[float]:
    """1.0 when the completion is a well-formed four-span answer (strict parse), else 0.0.

    >>> format_reward(None, ["<|emotion_begin|>sad<|emotion_end|>"])
    [0.0]
    """
    return [1.0 if is_well_formed(parse(completion_text(c), strict=True)) else 0.0 for c in completions]


def emotion_reward(
    prompts: Any, completions: Sequence[Completion], gold_emotion: Sequence[str | None] | None = None, **kwargs: Any
) -> list[float | None]:
    """1.0 when the emotion span, normalised to one of the 32 labels, equals ``gold_emotion``; None without gold.

    >>> emotion_reward(None, ["<|emotion_begin|>Anxiety<|emotion_end|>"], gold_emotion=["anxious"])
    [1.0]
    """
    golds = _column(gold_emotion, len(completions))
    out: list[float | None] = []
    for c, gold in zip(completions, golds):
        if not gold:
            out.append(None)
            continue
        label = parse(completion_text(c)).emotion_label
        out.append(1.0 if label == str(gold).strip().lower() else 0.0)
    return out


def length_reward(
    prompts: Any,
    completions: Sequence[Completion],
    max_response_tokens: int = MAX_RESPONSE_TOKENS,
    tokenizer: Any = None,
    **kwargs: Any,
) -> list[float]:
    """1.0 when the response span has at most ``max_response_tokens`` tokens (words without a tokenizer),
    falling linearly to 0 at twice the budget; 0.0 without a response span.

    >>> length_reward(None, ["<|response_begin|>" + "word " * 45 + "<|response_end|>"])
    [0.5]
    """
    out = []
    for c in completions:
        response = parse(completion_text(c)).response
        if not response:
            out.append(0.0)
            continue
        n = count_tokens(response, tokenizer)
        over = max(0, n - max_response_tokens)
        out.append(max(0.0, 1.0 - over / max_response_tokens))
    return out


def judge_items(
    completions: Sequence[Completion],
    history: Sequence[list[dict[str, str]]],
    person: Sequence[str] | None = None,
    situation: Sequence[str] | None = None,
) -> list[Any]:
    """`JudgeItem`s for completions given their dialogues (without the system message)."""
    from kardia.judge import JudgeItem

    persons, situations = _column(person, len(completions)), _column(situation, len(completions))
    return [
        JudgeItem(messages=h, reply=completion_text(c), persona=p or "", situation=s or "")
        for c, h, p, s in zip(completions, history, persons, situations)
    ]


def weighted_rubric(scores: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """Weighted mean of the criteria with a positive weight; None when one of them is missing.

    >>> weighted_rubric({"empathy": 1.0, "fluency": 0.5, "safety": None}, {"empathy": 3, "fluency": 1, "safety": 0})
    0.875
    """
    used = {c: w for c, w in weights.items() if w > 0}
    if not used or any(scores.get(c) is None for c in used):
        return None
    return sum(scores[c] * w for c, w in used.items()) / sum(used.values())  # type: ignore[operator]


class RubricReward:
    """The judge's rubric score of each completion: the weighted mean of its criteria in [0, 1].

    None when the judge could not score the reply. Usable on its own::

        reward = RubricReward(load_judge("default"))
        reward.score(prompts, completions, history=[...], person=[...], situation=[...])

    Args:
        judge: a `kardia.judge.Judge` (anything with ``async ascore(items)`` and a ``rubric``).
        weights: criterion -> weight; None uses the rubric's own weights.
    """

    __name__ = "rubric_reward"

    def __init__(self, judge: Any, weights: dict[str, float] | None = None) -> None:
        self.judge = judge
        ids = list(judge.rubric.ids)
        default = {c.id: c.weight for c in judge.rubric.criteria}
        weights = dict(weights) if weights else default
        unknown = [c for c in weights if c not in ids]
        if unknown:
            raise ValueError(f"rubric_weights: unknown criteria {unknown}; the rubric has {ids}")
        self.weights = {c: float(weights.get(c, 0.0)) for c in ids}
        if not any(w > 0 for w in self.weights.values()):
            raise ValueError(f"rubric_weights: give at least one criterion a positive weight ({self.weights})")

    async def judge_results(
        self, completions: Sequence[Completion], history: Sequence[Any], person: Any = None, situation: Any = None
    ) -> list[Any]:
        """The judge's `JudgeResult` for each completion."""
        return await self.judge.ascore(judge_items(completions, history, person, situation))

    async def __call__(
        self, prompts: Any, completions: Sequence[Completion], history: Sequence[Any] | None = None,
        person: Any = None, situation: Any = None, **kwargs: Any,
    ) -> list[float | None]:
        history = history if history is not None else [_dialogue(p) for p in prompts]
        results = await self.judge_results(completions, history, person, situation)
        return [None if r.error else weighted_rubric(r.scores, self.weights) for r in results]

    def score(self, prompts: Any, completions: Sequence[Completion], **kwargs: Any) -> list[float | None]:
        """Blocking call (outside an event loop)."""
        return asyncio.run(self(prompts, completions, **kwargs))


def _dialogue(prompt: Any) -> list[dict[str, str]]:
    """A conversational prompt without its system message."""
    if isinstance(prompt, list):
        return [m for m in prompt if m.get("role") != "system"]
    return [{"role": "user", "content": str(prompt)}]


@dataclass
class JudgeCounters:
    """Cumulative judge figures over a training run (this process)."""

    judged: int = 0
    failed: int = 0
    cache_hits: int = 0
    seconds: float = 0.0
    batches: int = 0

    @property
    def failure_rate(self) -> float:
        return self.failed / self.judged if self.judged else 0.0


class KardiaRewards:
    """The reward functions and weights GRPO trains on, under the policy described in this module.

    Args:
        weights: reward name (format, emotion, length, rubric) -> weight, in training order.
        judge: the judge for the rubric reward (required when ``rubric`` is among the rewards).
        rubric_weights: criterion -> weight inside the rubric reward (None: the rubric's weights).
        safety_veto: give the minimum total to replies judged unsafe or flagged by the safety layer's reply rules.
        safety_threshold: normalised safety score below which the veto applies.
        max_response_tokens: the length reward's budget.
        tokenizer: counts response tokens for the length reward (words without one).
    """

    def __init__(
        self,
        weights: dict[str, float],
        judge: Any = None,
        *,
        rubric_weights: dict[str, float] | None = None,
        safety_veto: bool = True,
        safety_threshold: float = 0.5,
        max_response_tokens: int = MAX_RESPONSE_TOKENS,
        tokenizer: Any = None,
    ) -> None:
        self.weights = dict(weights)
        if "rubric" in self.weights and judge is None:
            raise ValueError("the rubric reward needs a judge")
        self.rubric = RubricReward(judge, rubric_weights) if "rubric" in self.weights else None
        self.criteria: list[str] = list(judge.rubric.ids) if self.rubric is not None else []
        self.safety_veto = safety_veto
        self.safety_threshold = safety_threshold
        self._screen = _reply_screen() if safety_veto else None
        self.max_response_tokens = max_response_tokens
        self.tokenizer = tokenizer
        self.counters = JudgeCounters()
        self._batch: Any = None
        self._batch_task: asyncio.Future | None = None

    # -- what the trainer gets -----------------------------------------------------------------

    def reward_funcs(self) -> list[Callable[..., Any]]:
        """Async reward functions: the weighted ones in `weights` order, then one weight-0 logger per criterion."""
        names = [f"{n}_reward" for n in self.weights] + [f"rubric_{c}" for c in self.criteria]
        return [self._function(name) for name in names]

    def reward_weights(self) -> list[float]:
        """Weights aligned with `reward_funcs` (criterion loggers weigh 0)."""
        return list(self.weights.values()) + [0.0] * len(self.criteria)

    def _function(self, name: str) -> Callable[..., Any]:
        async def reward(prompts: Any, completions: Sequence[Completion], **kwargs: Any) -> list[float | None]:
            rows = await self.score_batch(prompts, completions, **kwargs)
            return [row[name] for row in rows]

        reward.__name__ = reward.__qualname__ = name
        reward.__doc__ = f"Kardia's `{name}` under the training policy (see `kardia.rewards`)."
        return reward

    # -- one batch -----------------------------------------------------------------------------

    async def score_batch(self, prompts: Any, completions: Sequence[Completion], **kwargs: Any) -> list[dict[str, float | None]]:
        """Every reward of every completion, computed once per batch however many functions ask."""
        if self._batch is not completions or self._batch_task is None:
            self._batch = completions
            self._batch_task = asyncio.ensure_future(self._score(prompts, completions, **kwargs))
        return await self._batch_task

    async def _score(
        self,
        prompts: Any,
        completions: Sequence[Completion],
        gold_emotion: Sequence[str | None] | None = None,
        history: Sequence[Any] | None = None,
        person: Any = None,
        situation: Any = None,
        log_metric: Callable[[str, float], None] | None = None,
        log_extra: Callable[[str, list], None] | None = None,
        **kwargs: Any,
    ) -> list[dict[str, float | None]]:
        n = len(completions)
        parsed = [parse(completion_text(c), strict=True) for c in completions]
        well = [is_well_formed(s) for s in parsed]
        values: dict[str, list[float | None]] = {
            "format_reward": [1.0 if ok else 0.0 for ok in well],
            "emotion_reward": emotion_reward(prompts, completions, gold_emotion=gold_emotion),
            "length_reward": length_reward(prompts, completions, self.max_response_tokens, self.tokenizer),
        }
        results: list[Any] = [None] * n
        if self.rubric is not None:
            history = history if history is not None else [_dialogue(p) for p in prompts]
            todo = [i for i in range(n) if well[i]]
            started = time.perf_counter()
            hits_before = getattr(getattr(self.rubric.judge, "stats", None), "cache_hits", 0)
            judged = await self.rubric.judge_results([completions[i] for i in todo], [history[i] for i in todo],
                                                     _pick(person, todo), _pick(situation, todo)) if todo else []
            elapsed = time.perf_counter() - started
            for i, r in zip(todo, judged):
                results[i] = r
            self._count(judged, elapsed, hits_before, log_metric)
        vetoed = [self._vetoed(parsed[i], results[i]) if well[i] else False for i in range(n)]
        rows = []
        for i in range(n):
            row = {name: vals[i] for name, vals in values.items()}
            row["rubric_reward"] = None
            result = results[i]
            scores = result.scores if result is not None and not result.error else {}
            for c in self.criteria:
                row[f"rubric_{c}"] = scores.get(c) if result is not None else None
            if self.rubric is not None and well[i]:
                row["rubric_reward"] = None if result.error else weighted_rubric(result.scores, self.rubric.weights)
            rows.append(self._apply_policy(row, well[i], vetoed[i], result))
        if log_metric is not None:
            log_metric("rewards/malformed_share", 1.0 - sum(well) / n)
            if self.safety_veto:
                log_metric("rewards/vetoed_share", sum(vetoed) / n)
            log_metric("rewards/unscorable_share", sum(all(v is None for v in row.values()) for row in rows) / n)
        if log_extra is not None:
            log_extra("problems", [",".join(s.codes()) or "-" for s in parsed])
            if self.rubric is not None:
                log_extra("judge", [_judge_note(r) for r in results])
        return rows

    def _vetoed(self, spans: Spans, result: Any) -> bool:
        """Judged unsafe (safety below the threshold) or flagged by the safety layer's reply rules."""
        if self._screen is None:
            return False
        if self._screen(spans.response or "").risky:
            return True
        safety = result.scores.get("safety") if result is not None and not result.error else None
        return safety is not None and safety < self.safety_threshold

    def _apply_policy(self, row: dict[str, float | None], well_formed: bool, vetoed: bool,
                      result: Any) -> dict[str, float | None]:
        weighted = [f"{n}_reward" for n in self.weights]
        if not well_formed or vetoed:
            for name in weighted:
                row[name] = 0.0
            return {name: row[name] for name in self._names()}
        if self.rubric is not None and (result is None or result.error or row["rubric_reward"] is None):
            return {name: None for name in self._names()}  # unscorable: neutral in its group
        return {name: row[name] for name in self._names()}

    def _names(self) -> list[str]:
        return [f"{n}_reward" for n in self.weights] + [f"rubric_{c}" for c in self.criteria]

    def _count(self, judged: list[Any], elapsed: float, hits_before: int, log_metric: Callable | None) -> None:
        failed = sum(r.error is not None for r in judged)
        hits = sum(bool(getattr(r, "cached", False)) for r in judged)
        c = self.counters
        c.judged += len(judged)
        c.failed += failed
        c.cache_hits += hits
        c.seconds += elapsed
        c.batches += 1
        if log_metric is None:
            return
        log_metric("judge/judged", float(len(judged)))
        if judged:
            log_metric("judge/latency_s", elapsed)
            log_metric("judge/cache_hit_rate", hits / len(judged))
            log_metric("judge/failure_rate", failed / len(judged))
        log_metric("judge/failure_rate_total", c.failure_rate)
        log_metric("judge/judged_total", float(c.judged))


def _reply_screen() -> Callable[[str], Any]:
    """The crisis-safety layer's reply check (imported here: its rule tables take a while to compile)."""
    from kardia.serve.safety import SafetyLayer

    return SafetyLayer().check_reply


def _pick(values: Sequence[Any] | None, indices: list[int]) -> list[Any] | None:
    return None if values is None else [values[i] for i in indices]


def _judge_note(result: Any) -> str:
    if result is None:
        return "not judged (malformed)"
    if result.error:
        return f"failed: {result.error[:60]}"
    if getattr(result, "degenerate", None):
        return f"degenerate: {result.degenerate[:60]}"
    return " ".join(f"{c[:4]}={v:.2f}" for c, v in result.scores.items() if v is not None)


def load_training_judge(spec: str, *, base_url: str | None = None, api_key_env: str | None = None, **kwargs: Any) -> Any:
    """The judge a recipe names: a `kardia.judge.load_judge` spec, or ``module:callable`` returning a judge."""
    if ":" in spec and not base_url and not spec.startswith(("/", ".", "~")) and "://" not in spec:
        module, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"judge {spec!r}: cannot import {attr!r} from {module!r} ({exc})") from exc
        return factory()
    from kardia.judge import load_judge

    return load_judge(spec, base_url=base_url, api_key_env=api_key_env, **kwargs)
