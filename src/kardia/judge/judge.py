"""`Judge`: score replies against the rubric with a chat model, cached, deduplicated and never crashing.

>>> judge = load_judge("default")                                    # doctest: +SKIP
>>> [r.scores for r in judge.score([JudgeItem(messages, reply)])]    # doctest: +SKIP

Per item the judge (1) extracts the shown reply, (2) applies the defences and gives degenerate
replies the minimum score without a call, (3) looks the item up in the persistent cache, (4) judges
each distinct remaining (context, reply) once, (5) caps the rubric's grounded criteria by the reply's
context grounding (local logprob judges, `kardia.judge.grounding`), and (6) reports failures as
``scores=None`` with a reason. Modes:

* ``logprob``: the expected score Σ s·p(s) over the tokens "1"-"5" per criterion. Local models use the
  KV-cache prefix tree of `kardia.judge.local_scoring`; HTTP models get one request per reply per
  criterion, ordered so the server's prefix cache hits.
* ``generate``: one request per reply, a rationale then a JSON object of all criteria.
* ``auto``: ``logprob`` when the model exposes log-probabilities, else ``generate``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Coroutine, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from kardia.judge.cache import SCHEMA_VERSION, JudgeCache, cache_key
from kardia.judge.defences import (
    REMOVED,
    candidate_nonce,
    degenerate_reason,
    judge_salt,
    neutralise,
    salt_fingerprint,
)
from kardia.judge.grounding import DEFAULT_FULL_NATS, capped
from kardia.judge.items import JudgeItem, JudgeResult
from kardia.judge.prompts import (
    JUDGE_SYSTEM,
    PROMPT_VERSION,
    candidate_parts,
    context_segment,
    rubric_segment,
    shown_reply,
    user_text,
)
from kardia.judge.rubric import Rubric, load_rubric, normalize
from kardia.judge.scoring import GenerateScorer, PreparedItem, RemoteLogprobScorer, Verdict
from kardia.models.base import ChatModel

MODES = ("auto", "logprob", "generate")
T = TypeVar("T")


@dataclass
class JudgeStats:
    """Counters over the judge's lifetime (every `score` call adds to them)."""

    items: int = 0
    judged: int = 0
    cache_hits: int = 0
    duplicates: int = 0
    degenerate: int = 0
    failures: int = 0
    calls: int = 0
    seconds: float = 0.0

    @property
    def seconds_per_judged(self) -> float | None:
        return self.seconds / self.judged if self.judged else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds_per_judged": self.seconds_per_judged}


def model_fingerprint(model: ChatModel) -> dict[str, Any]:
    """What identifies the judge model in cache keys: name, backend, dtype, revision, server, and for a
    local checkpoint directory a hash of its files' names, sizes and modification times."""
    info = model.describe()
    fingerprint = {k: info.get(k) for k in ("name", "backend", "dtype", "revision", "base_url")}
    path = Path(str(info.get("name", "")))
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".safetensors", ".bin", ".json", ".model"))
        stamp = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        fingerprint["files"] = hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:16]
    return fingerprint


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, also when an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="kardia-judge")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


class Judge:
    """Scores replies against a rubric.

    Args:
        model: a `ChatModel`, or a spec for `kardia.models.resolve.load_chat_model` ("default", a path, a hub id).
        rubric: a `Rubric`, a rubric file, or None for the packaged rubric.
        mode: "auto", "logprob" or "generate".
        cache: a `JudgeCache`, a path to its SQLite file, True for the default location, or False/None for none.
        include_reasoning: show the understanding, reasoning and emotion spans to the judge as well.
        defences: neutralise grader-directed text and use nonce delimiters (disable only to measure them).
        max_prompt_tokens: the judge's context budget; local models default to their context window.
            Long dialogues lose turns from the front; an item that still does not fit fails.
        max_new_tokens: generate-mode answer budget.
        retries: generate-mode retries on unparseable answers.
        max_batch_tokens: local logprob mode: most cached tokens per forward (bounds memory).
        grounding_nats: local logprob mode: the grounding (nats) from which the rubric's grounded criteria
            are no longer capped (`kardia.judge.grounding`); None neither measures nor caps.
    """

    def __init__(
        self,
        model: ChatModel | str,
        rubric: Rubric | str | Path | None = None,
        *,
        mode: str = "auto",
        cache: JudgeCache | str | Path | bool | None = True,
        include_reasoning: bool = False,
        defences: bool = True,
        max_prompt_tokens: int | None = None,
        max_new_tokens: int = 256,
        retries: int = 2,
        max_batch_tokens: int = 32768,
        grounding_nats: float | None = DEFAULT_FULL_NATS,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if isinstance(model, str):
            from kardia.models.resolve import load_chat_model

            model = load_chat_model(model)
        self.model = model
        self.rubric = load_rubric(rubric)
        self.include_reasoning = include_reasoning
        self.defences = defences
        self.max_new_tokens = max_new_tokens
        self.stats = JudgeStats()
        self._local = hasattr(model, "model") and hasattr(model, "tokenizer")
        if mode == "auto":
            mode = "logprob" if self._local or getattr(model, "supports_logprobs", False) else "generate"
        self.mode = mode
        if grounding_nats is not None and grounding_nats <= 0:
            raise ValueError(f"grounding_nats must be positive or None, not {grounding_nats!r}")
        grounded = mode == "logprob" and self._local and grounding_nats is not None and any(c.grounded for c in self.rubric.criteria)
        self.grounding_nats = grounding_nats if grounded else None
        if mode == "logprob" and self._local:
            from kardia.judge.local_scoring import PrefixCacheScorer

            self._scorer: Any = PrefixCacheScorer(
                model.model, model.tokenizer, self.rubric, max_batch_tokens=max_batch_tokens, grounding=grounded
            )
        elif mode == "logprob":
            self._scorer = RemoteLogprobScorer(model, self.rubric)
        else:
            self._scorer = GenerateScorer(model, self.rubric, max_new_tokens=max_new_tokens, retries=retries)
        if max_prompt_tokens is None and self._local:
            max_prompt_tokens = self._local_context_length()
            if mode == "generate":
                max_prompt_tokens -= max_new_tokens
        self.max_prompt_tokens = max_prompt_tokens
        if cache is True:
            cache = JudgeCache()
        elif isinstance(cache, str | Path):
            cache = JudgeCache(cache)
        self.cache: JudgeCache | None = cache if isinstance(cache, JudgeCache) else None
        self._rubric_text = rubric_segment(self.rubric)
        self._terms = [t for c in self.rubric.criteria for t in (c.id, c.name)]
        self._key_base = {
            "judge": model_fingerprint(model),
            "rubric": self.rubric.key,
            "prompt": PROMPT_VERSION,
            "mode": mode,
            "include_reasoning": include_reasoning,
            "defences": defences,
            "salt": salt_fingerprint(),
            "decoding": {"temperature": 0.0, "max_new_tokens": max_new_tokens if mode == "generate" else 1},
            "max_prompt_tokens": max_prompt_tokens,
            "grounding": grounded,
            "cache_schema": SCHEMA_VERSION,
        }

    def describe(self) -> dict[str, Any]:
        """What an output file records about the judge."""
        return {
            "model": self.model.describe().get("name"),
            "rubric_version": self.rubric.version,
            "rubric_hash": self.rubric.content_hash,
            "prompt_version": PROMPT_VERSION,
            "mode": self.mode,
            "include_reasoning": self.include_reasoning,
            "grounding_nats": self.grounding_nats,
        }

    # -- preparation -------------------------------------------------------------------------------

    def _local_context_length(self) -> int:
        return self._scorer.context_length() if hasattr(self._scorer, "context_length") else 4096

    def _count_tokens(self, context: str, candidate: str) -> int:
        if hasattr(self._scorer, "prompt_tokens"):
            return self._scorer.prompt_tokens(self._rubric_text, context, candidate)
        if self._local:
            tokenizer = self.model.tokenizer  # type: ignore[attr-defined]
            text = JUDGE_SYSTEM + self._rubric_text + context + candidate + self._scorer.ending_tokens()
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])
        text = JUDGE_SYSTEM + self._rubric_text + context + candidate + self._scorer.ending_tokens()
        return len(text) // 3 + 16  # conservative estimate for an unknown server tokenizer

    def _degenerate(self, reason: str, shown: str) -> JudgeResult:
        scores = {c: 0.0 for c in self.rubric.ids}
        return JudgeResult(scores, {c: 1.0 for c in self.rubric.ids}, 0.0, degenerate=reason, shown=shown)

    def _failed(self, reason: str, shown: str) -> JudgeResult:
        return JudgeResult({c: None for c in self.rubric.ids}, {c: None for c in self.rubric.ids}, None, error=reason, shown=shown)

    def _prepare(self, item: JudgeItem) -> JudgeResult | tuple[str, str, tuple[str, str, str], str]:
        """A final result (degenerate, too long), or (key, context, candidate parts, shown) to judge."""
        extracted = shown_reply(item.reply, include_reasoning=self.include_reasoning)
        if extracted.problem:
            return self._degenerate(extracted.problem, "")
        shown = extracted.text
        dialogue = user_text(item.messages)
        last_user = next((m["content"] for m in reversed(item.messages) if m.get("role") == "user"), "")
        reason = degenerate_reason(shown, dialogue, last_user)
        if reason is None and self.defences:
            cleaned = neutralise(shown, self._terms)
            if cleaned.changed:
                residual = degenerate_reason(cleaned.text.replace(REMOVED, " "), dialogue, last_user)
                if residual:
                    reason = f"{residual} once the text aimed at the grader is removed"
            shown = cleaned.text
        if reason:
            return self._degenerate(reason, shown)
        history = [m for m in item.messages if m.get("role") != "system"]
        inputs = {
            "persona": item.persona,
            "situation": item.situation,
            "messages": history,
            "shown": shown,
            "reference": item.reference,
        }
        nonce = candidate_nonce(json.dumps(inputs, sort_keys=True, ensure_ascii=False), judge_salt()) if self.defences else "reply"
        parts = candidate_parts(shown, nonce)
        candidate = "".join(parts)
        last_user = max((i for i, m in enumerate(history) if m.get("role") == "user"), default=0)
        for start in range(0, last_user + 1):
            context = context_segment(item, history_start=start)
            if self.max_prompt_tokens is None:
                break
            needed = self._count_tokens(context, candidate)
            if needed <= self.max_prompt_tokens:
                break
        else:
            return self._failed(
                f"input too long for the judge: {needed} tokens with only the last user turn > {self.max_prompt_tokens}", shown
            )
        return cache_key({**self._key_base, **inputs}), context, parts, shown

    # -- scoring -----------------------------------------------------------------------------------

    def _result(self, verdict: Verdict, *, cached: bool, shown: str) -> JudgeResult:
        assert verdict.raw is not None
        scores = capped({c: normalize(verdict.raw[c]) for c in self.rubric.ids}, self.rubric, verdict.grounding, self.grounding_nats)
        return JudgeResult(
            scores, dict(verdict.raw), self.rubric.overall(scores), cached=cached, shown=shown, grounding=verdict.grounding
        )

    async def ascore(self, items: Sequence[JudgeItem]) -> list[JudgeResult]:
        """Judge `items`; one result per item, in order. Never raises for a bad item or a failing backend."""
        results: list[JudgeResult | None] = [None] * len(items)
        pending: dict[str, PreparedItem] = {}
        shown_by_key: dict[str, str] = {}
        for i, item in enumerate(items):
            try:
                prepared = self._prepare(item)
            except Exception as exc:  # a malformed item fails alone
                prepared = self._failed(f"could not build the judge prompt: {type(exc).__name__}: {exc}", "")
            if isinstance(prepared, JudgeResult):
                results[i] = prepared
                continue
            key, context, parts, shown = prepared
            if key in pending:
                self.stats.duplicates += 1
            else:
                pending[key] = PreparedItem(key, self._rubric_text, context, parts)
                shown_by_key[key] = shown
            pending[key].indices.append(i)
        hits = self.cache.get_many(pending) if self.cache is not None and pending else {}
        for key, stored in hits.items():
            for i in pending[key].indices:
                results[i] = self._result(Verdict(stored["raw"], grounding=stored.get("grounding")), cached=True, shown=shown_by_key[key])
            self.stats.cache_hits += len(pending[key].indices)
        todo = [p for k, p in pending.items() if k not in hits]
        verdicts = await self._judge(todo) if todo else []
        fresh: dict[str, dict[str, Any]] = {}
        for prepared, verdict in zip(todo, verdicts):
            for i in prepared.indices:
                if verdict.raw is None:
                    results[i] = self._failed(verdict.error or "not scored", shown_by_key[prepared.key])
                else:
                    results[i] = self._result(verdict, cached=False, shown=shown_by_key[prepared.key])
            if verdict.raw is not None:
                fresh[prepared.key] = {"raw": verdict.raw, "grounding": verdict.grounding}
        if self.cache is not None and fresh:
            try:
                self.cache.put_many(fresh)
            except Exception:  # a locked or read-only cache must not lose the scores
                pass
        final = [r if r is not None else self._failed("not scored", "") for r in results]
        self.stats.items += len(items)
        self.stats.judged += len(todo)
        self.stats.degenerate += sum(r.degenerate is not None for r in final)
        self.stats.failures += sum(r.error is not None for r in final)
        return final

    async def _judge(self, todo: list[PreparedItem]) -> list[Verdict]:
        started = time.perf_counter()
        calls_before = self._scorer.stats.calls
        try:
            if self.mode == "logprob" and self._local:
                verdicts = await asyncio.to_thread(self._scorer.score, todo)
            else:
                verdicts = await self._scorer.score(todo)
        except Exception as exc:  # a backend bug must not lose the batch's other results
            verdicts = [Verdict(None, f"judge backend failed: {type(exc).__name__}: {exc}") for _ in todo]
        self.stats.calls += self._scorer.stats.calls - calls_before
        self.stats.seconds += time.perf_counter() - started
        return verdicts

    def score(self, items: Sequence[JudgeItem]) -> list[JudgeResult]:
        """Blocking `ascore` (works inside a running event loop too)."""
        return _run(self.ascore(items))

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        self.model.close()


def load_judge(
    spec: str = "default",
    *,
    base_url: str | None = None,
    api_key_env: str | None = None,
    rubric: Rubric | str | Path | None = None,
    mode: str = "auto",
    cache: JudgeCache | str | Path | bool | None = True,
    **kwargs: Any,
) -> Judge:
    """A `Judge` on the model `spec` names ("default" = the embedded SmolLM2; a path; a hub id; with
    `base_url`, a model served over an OpenAI-compatible API). `kwargs` go to `Judge`."""
    from kardia.models.resolve import load_chat_model

    model = load_chat_model(spec, base_url=base_url, api_key_env=api_key_env)
    return Judge(model, rubric, mode=mode, cache=cache, **kwargs)
