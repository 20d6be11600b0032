"""KardiaBench construction: simulate dialogues, critique every assistant turn with the rubric judge, rewrite.

For each (persona, seed) pair `DialogueBuilder` runs ``turns`` exchanges:

1. the user simulator (a chat model playing the persona in the seed's situation and emotion) writes
   the user's message;
2. the assistant model writes a four-span answer (``spans`` or ``joint`` mode, see `kardia.build.prompts`);
3. the judge grades it; while it is malformed or below the thresholds and rounds remain, the assistant
   rewrites it given a critique (the weakest criteria with their rubric descriptions). A rewrite is kept
   only when it is better (well formed first, then the rubric's overall score): the final answer of a
   turn is the best of its attempts, and the first draft's scores are kept for the quality report.

The dialogue is then accepted, or rejected with reasons (``malformed``, ``below_threshold``,
``emotion_disagrees``, ``user_simulator_failed``; ``error`` when a model or the judge failed, which a
re-run retries). `run_build` drives many pairs concurrently, appends each finished dialogue crash-safely
(`kardia.build.store`), resumes by id, honours budgets and writes the manifest and the quality report.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kardia.build.privacy import anon_username, new_salt, scrub
from kardia.build.prompts import (
    EMOTION_PREFIX,
    PROMPT_VERSION,
    clean_text,
    critique_text,
    joint_messages,
    limit_words,
    span_messages,
    user_messages,
)
from kardia.build.seeds import Pair
from kardia.build.store import JsonlStore, read_json, write_json_atomic
from kardia.emotions import EMOTIONS, normalize_emotion
from kardia.judge.items import JudgeItem, JudgeResult
from kardia.judge.rubric import Rubric, denormalize
from kardia.models.base import ChatModel, Generation, GenerationConfig, Usage
from kardia.prompts import system_prompt
from kardia.spans import MAX_RESPONSE_TOKENS, SPAN_NAMES, parse, render

BUILD_FORMAT = 1
"""Version of the layout of dialogues.jsonl / rejects.jsonl / manifest.json."""

REJECT_CODES = ("malformed", "below_threshold", "emotion_disagrees", "user_simulator_failed", "error")
STOP_REASONS = ("completed", "max_dialogues", "max_tokens", "interrupted")

USER_MAX_WORDS = 80
SPAN_MAX_NEW_TOKENS = {"understanding": 72, "reasoning": 96, "emotion": 8, "response": 64}
JOINT_MAX_NEW_TOKENS = 320
USER_MAX_NEW_TOKENS = 96


class BuildError(RuntimeError):
    """The build cannot start (e.g. the output folder belongs to a build with other settings)."""


class Critic(Protocol):
    """What the pipeline needs of a judge (`kardia.judge.Judge` fits)."""

    rubric: Rubric

    async def ascore(self, items: Sequence[JudgeItem]) -> list[JudgeResult]: ...


@dataclass
class BuildConfig:
    """Settings of a build. Those in `content_settings` enter the dialogue ids and must not change on resume."""

    turns: int = 3
    """User/assistant exchanges per dialogue."""
    max_rounds: int = 2
    """Rewrites per assistant turn at most (0: judge only, never rewrite)."""
    min_score: float = 0.5
    """A turn passes when its rubric overall score (0-1) reaches this."""
    thresholds: dict[str, float] = field(default_factory=dict)
    """Per-criterion minimum scores (0-1), e.g. {"empathy": 0.5}; a turn must reach each."""
    min_emotion_agreement: float = 0.5
    """Reject a dialogue whose emotion spans match the seed's emotion on fewer than this fraction of turns."""
    assistant_mode: str = "spans"
    """``spans`` (one call per span, assembled with `render`) or ``joint`` (one call for the whole answer)."""
    emotion_choice: str = "auto"
    """Spans mode: ``logprob`` (pick the likeliest of the 32 labels), ``generate``, or ``auto`` (logprob when supported)."""
    critique_criteria: int = 2
    """How many of the weakest criteria a critique names."""
    user_temperature: float = 0.8
    """Sampling temperature of the user simulator."""
    rewrite_temperature: float = 0.7
    """Sampling temperature of rewrites (first drafts are greedy)."""
    seed: int = 0
    """Base seed of sampled decoding."""
    concurrency: int = 4
    """Dialogues in flight at once (HTTP models); local models run one call at a time regardless."""
    max_dialogues: int | None = None
    """Stop starting dialogues once this many are finished in the output folder (accepted + rejected)."""
    max_tokens: int | None = None
    """Stop starting dialogues once the models have used this many tokens (this and earlier runs)."""

    def __post_init__(self) -> None:
        if self.turns < 1:
            raise ValueError(f"turns must be at least 1, not {self.turns}")
        if self.max_rounds < 0:
            raise ValueError(f"max_rounds must be at least 0, not {self.max_rounds}")
        if self.assistant_mode not in ("spans", "joint"):
            raise ValueError(f"assistant_mode must be 'spans' or 'joint', not {self.assistant_mode!r}")
        if self.emotion_choice not in ("auto", "logprob", "generate"):
            raise ValueError(f"emotion_choice must be 'auto', 'logprob' or 'generate', not {self.emotion_choice!r}")
        for name, value in {"min_score": self.min_score, "min_emotion_agreement": self.min_emotion_agreement, **self.thresholds}.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {self.concurrency}")

    def content_settings(self) -> dict[str, Any]:
        """The settings that change what a dialogue contains (budgets and concurrency do not)."""
        keep = ("turns", "max_rounds", "min_score", "thresholds", "min_emotion_agreement", "assistant_mode",
                "emotion_choice", "critique_criteria", "user_temperature", "rewrite_temperature", "seed")
        return {k: getattr(self, k) for k in keep}


@dataclass
class Attempt:
    """One candidate answer for a turn and its verdict."""

    text: str
    problems: list[str]
    emotion: str | None
    response: str | None
    scores: dict[str, float | None] = field(default_factory=dict)
    raw: dict[str, float | None] = field(default_factory=dict)
    overall: float | None = None
    judge_error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def rank(self) -> tuple[bool, float]:
        """Better attempts rank higher: well formed first, then overall score."""
        return self.ok, self.overall if self.overall is not None else -1.0

    def summary(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "emotion": self.emotion, "overall": self.overall,
                "scores": self.scores, "raw": self.raw}


@dataclass
class TurnTrace:
    """What happened at one assistant turn: first draft, final answer, rewrites tried."""

    first: Attempt
    final: Attempt
    rounds: int
    rewrites: list[Attempt]
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "passed": self.passed,
            "first": self.first.summary(),
            "final": self.final.summary(),
            "rewrites": [{"ok": a.ok, "overall": a.overall} for a in self.rewrites],
        }


class _Retryable(Exception):
    """A model or judge failure: the dialogue is recorded as an error and redone by a re-run."""


class _Rejected(Exception):
    """The dialogue cannot go on (e.g. the user simulator wrote nothing)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class _JudgeBatcher:
    """Collects the judge requests of concurrent dialogues into one `ascore` call at a time."""

    def __init__(self, judge: Critic, lock: asyncio.Lock | None = None) -> None:
        self.judge = judge
        self.lock = lock
        self.queue: asyncio.Queue[tuple[JudgeItem, asyncio.Future[JudgeResult]]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def score(self, item: JudgeItem) -> JudgeResult:
        if self.task is None:
            self.task = asyncio.create_task(self._loop())
        future: asyncio.Future[JudgeResult] = asyncio.get_running_loop().create_future()
        await self.queue.put((item, future))
        return await future

    async def _loop(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                if self.lock is None:
                    results = await _ascore(self.judge, [item for item, _ in batch])
                else:  # the judge shares a local model with the user or the assistant
                    async with self.lock:
                        results = await _ascore(self.judge, [item for item, _ in batch])
            except Exception as exc:  # the judge failed as a whole: every waiting turn learns why
                for _, future in batch:
                    if not future.done():
                        future.set_exception(_Retryable(f"judge failed: {type(exc).__name__}: {exc}"))
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def _ascore(judge: Critic, items: Sequence[JudgeItem]) -> list[JudgeResult]:
    if hasattr(judge, "ascore"):
        return list(await judge.ascore(items))
    return list(await asyncio.to_thread(judge.score, items))  # type: ignore[attr-defined]


def _runs_in_thread(model: ChatModel) -> bool:
    """Backends without a native `agenerate` (local transformers) run one call at a time."""
    return type(model).agenerate is ChatModel.agenerate


def dialogue_id(pair: Pair, settings_hash: str) -> str:
    """Stable id of a dialogue: a hash of the pair's content and the build's settings."""
    return "kb-" + hashlib.sha256(f"{pair.key()}:{settings_hash}".encode()).hexdigest()[:16]


def _seed_for(dialogue: str, *parts: int) -> int:
    return int(hashlib.sha256(f"{dialogue}:{parts}".encode()).hexdigest()[:8], 16)


@dataclass
class _Context:
    """Per-dialogue state."""

    id: str
    persona: str
    mbti: str
    situation: str
    emotion: str
    usage: Usage = field(default_factory=Usage)


class DialogueBuilder:
    """Builds one dialogue at a time (call `build` concurrently for many).

    Args:
        user_model: plays the user (the persona).
        assistant_model: writes the four-span answers.
        judge: grades assistant turns (`Critic`).
        config: the build settings.
        salt: the salt of `anon_username`.
    """

    def __init__(self, user_model: ChatModel, assistant_model: ChatModel, judge: Critic, config: BuildConfig, salt: str) -> None:
        self.user_model = user_model
        self.assistant_model = assistant_model
        self.judge = judge
        self.rubric: Rubric = judge.rubric
        unknown = set(config.thresholds) - set(self.rubric.ids)
        if unknown:
            raise ValueError(f"thresholds for unknown criteria {sorted(unknown)}; the rubric has {list(self.rubric.ids)}")
        self.config = config
        self.salt = salt
        self._locks = {id(m): asyncio.Lock() for m in (user_model, assistant_model) if _runs_in_thread(m)}
        self._batcher: _JudgeBatcher | None = None
        self._use_logprobs: bool | None = None

    # -- model calls -------------------------------------------------------------------------------

    async def _generate(self, ctx: _Context, model: ChatModel, messages: list[dict[str, str]], config: GenerationConfig) -> Generation:
        lock = self._locks.get(id(model))
        if lock is None:
            (generation,) = await model.agenerate([messages], config)
        else:
            async with lock:
                (generation,) = await model.agenerate([messages], config)
        ctx.usage.add(generation)
        if generation.error:
            raise _Retryable(f"{model.name}: {generation.error}")
        return generation

    async def _label_logprobs(self, messages: list[dict[str, str]]) -> dict[str, float] | None:
        model = self.assistant_model
        candidates = [f" {label}" for label in EMOTIONS]
        if hasattr(model, "anext_token_logprobs"):
            (scores,) = await model.anext_token_logprobs([messages], EMOTION_PREFIX, candidates)
        else:
            lock = self._locks.get(id(model)) or asyncio.Lock()
            async with lock:
                (scores,) = await asyncio.to_thread(model.next_token_logprobs, [messages], EMOTION_PREFIX, candidates)
        return scores

    async def _uses_logprobs(self) -> bool:
        if self._use_logprobs is None:
            choice = self.config.emotion_choice
            if choice == "generate" or self.config.assistant_mode == "joint":
                self._use_logprobs = False
            else:
                supported = await asyncio.to_thread(lambda: bool(self.assistant_model.supports_logprobs))
                if choice == "logprob" and not supported:
                    raise BuildError(f"--emotion-choice logprob: {self.assistant_model.name} does not expose log-probabilities")
                self._use_logprobs = supported
        return self._use_logprobs

    # -- one turn ----------------------------------------------------------------------------------

    async def _user_turn(self, ctx: _Context, history: list[dict[str, str]], turn: int) -> str:
        messages = user_messages(ctx.persona, ctx.situation, ctx.emotion, history, _response_of)
        for attempt in range(2):
            config = GenerationConfig(max_new_tokens=USER_MAX_NEW_TOKENS, temperature=self.config.user_temperature,
                                      seed=_seed_for(ctx.id, turn, attempt, self.config.seed))
            generation = await self._generate(ctx, self.user_model, messages, config)
            text = scrub(limit_words(clean_text(generation.text), USER_MAX_WORDS))
            if text:
                return text
        raise _Rejected("user_simulator_failed", f"the user simulator wrote nothing at turn {turn}")

    def _decoding(self, ctx: _Context, turn: int, round_: int, max_new_tokens: int) -> GenerationConfig:
        if round_ == 0:
            return GenerationConfig(max_new_tokens=max_new_tokens, temperature=0.0)
        return GenerationConfig(max_new_tokens=max_new_tokens, temperature=self.config.rewrite_temperature,
                                seed=_seed_for(ctx.id, turn, round_, self.config.seed))

    async def _draft_spans(self, ctx: _Context, history: list[dict[str, str]], turn: int, round_: int, critique: str | None) -> str:
        written: dict[str, str] = {}
        for span in SPAN_NAMES:
            messages = span_messages(ctx.persona, ctx.situation, history, span, written, critique)
            if span == "emotion" and await self._uses_logprobs():
                scores = await self._label_logprobs(messages)
                if scores:
                    written[span] = max(EMOTIONS, key=lambda label: scores[f" {label}"])
                    continue
            generation = await self._generate(ctx, self.assistant_model, messages, self._decoding(ctx, turn, round_, SPAN_MAX_NEW_TOKENS[span]))
            text = clean_text(generation.text)
            if span == "emotion":
                text = normalize_emotion(text) or text[:40]
            elif span == "response":
                text = limit_words(text, MAX_RESPONSE_TOKENS)
            written[span] = scrub(text)
        return render(*(written[name] for name in SPAN_NAMES))

    async def _draft_joint(self, ctx: _Context, history: list[dict[str, str]], turn: int, round_: int, critique: str | None) -> str:
        messages = joint_messages(ctx.persona, ctx.situation, history, critique)
        generation = await self._generate(ctx, self.assistant_model, messages, self._decoding(ctx, turn, round_, JOINT_MAX_NEW_TOKENS))
        spans = parse(generation.text)
        values = [spans.understanding, spans.reasoning, spans.emotion, spans.response]
        if any(v is None for v in values):
            return scrub(generation.text.strip())
        emotion = spans.emotion_label or spans.emotion
        return render(scrub(values[0]), scrub(values[1]), emotion, scrub(values[3]))  # type: ignore[arg-type]

    async def _attempt(self, ctx: _Context, history: list[dict[str, str]], turn: int, round_: int, critique: str | None) -> Attempt:
        draft = self._draft_spans if self.config.assistant_mode == "spans" else self._draft_joint
        text = await draft(ctx, history, turn, round_, critique)
        spans = parse(text, strict=True)
        attempt = Attempt(text=text, problems=[p.message for p in spans.problems], emotion=spans.emotion_label, response=spans.response)
        if self._batcher is None:
            self._batcher = _JudgeBatcher(self.judge, self._locks.get(id(getattr(self.judge, "model", None))))
        result = await self._batcher.score(JudgeItem(history, text, persona=ctx.persona, situation=ctx.situation))
        attempt.scores, attempt.raw, attempt.overall = dict(result.scores), dict(result.raw), result.overall
        if attempt.overall is None:
            attempt.overall = self.rubric.overall(result.scores)
        if attempt.overall is None:
            attempt.judge_error = result.error or "the judge could not score every criterion"
        return attempt

    def _passes(self, attempt: Attempt) -> bool:
        if not attempt.ok or attempt.overall is None or attempt.overall < self.config.min_score:
            return False
        for criterion, threshold in self.config.thresholds.items():
            score = attempt.scores.get(criterion)
            if score is None or score < threshold:
                return False
        return True

    def _critique(self, ctx: _Context, attempt: Attempt) -> str:
        def gap(cid: str) -> float:
            score = attempt.scores.get(cid)
            threshold = self.config.thresholds.get(cid, self.config.min_score)
            return (score if score is not None else 0.0) - threshold

        weakest = sorted(self.rubric.ids, key=gap)[: self.config.critique_criteria]
        scores = {c: None if attempt.scores.get(c) is None else denormalize(attempt.scores[c]) for c in weakest}
        criteria = [(self.rubric.criterion(c).name, scores[c], self.rubric.criterion(c).question,
                     self.rubric.criterion(c).levels[5]) for c in weakest]
        emotion = (attempt.emotion, ctx.emotion) if ctx.emotion and attempt.emotion != ctx.emotion else None
        return critique_text(attempt.response, criteria, attempt.problems, emotion)

    async def _turn(self, ctx: _Context, history: list[dict[str, str]], turn: int) -> TurnTrace:
        first = await self._attempt(ctx, history, turn, 0, None)
        if first.judge_error:
            raise _Retryable(f"judge could not score turn {turn}: {first.judge_error}")
        best, rewrites, rounds = first, [], 0
        while not self._passes(best) and rounds < self.config.max_rounds:
            rounds += 1
            candidate = await self._attempt(ctx, history, turn, rounds, self._critique(ctx, best))
            if candidate.judge_error:
                continue  # an unscored rewrite is never kept
            rewrites.append(candidate)
            if candidate.rank() > best.rank():
                best = candidate
        return TurnTrace(first, best, rounds, rewrites, self._passes(best))

    # -- one dialogue ------------------------------------------------------------------------------

    async def build(self, pair: Pair, identifier: str) -> tuple[str, dict[str, Any]]:
        """Build the dialogue of `pair`: returns ("accepted" | "rejected" | "error", the line to store)."""
        persona, situation = scrub(pair.persona.person), scrub(pair.seed.situation)
        ctx = _Context(identifier, persona, pair.persona.mbti, situation, pair.seed.emotion)
        record: dict[str, Any] = {
            "id": identifier,
            "person": persona,
            "mbti": pair.persona.mbti,
            "emotion": pair.seed.emotion,
            "situation": situation,
            "anon_username": anon_username(pair.persona.person, self.salt),
            "messages": [{"role": "system", "content": system_prompt(persona, situation)}],
            "partial": False,
            "gold_spans": list(SPAN_NAMES),
            "source": "kardia-build",
            "seed_source": pair.seed.source,
        }
        history: list[dict[str, str]] = []
        traces: list[TurnTrace] = []
        started = time.perf_counter()
        try:
            for turn in range(self.config.turns):
                history.append({"role": "user", "content": await self._user_turn(ctx, history, turn)})
                trace = await self._turn(ctx, history, turn)
                traces.append(trace)
                history.append({"role": "assistant", "content": trace.final.text})
        except _Retryable as exc:
            return "error", {"id": identifier, "retryable": True, "reasons": [{"code": "error", "detail": str(exc)}],
                             "seed_source": pair.seed.source, "tokens": _tokens(ctx.usage)}
        except _Rejected as exc:
            reasons = [{"code": exc.code, "detail": str(exc)}]
        else:
            reasons = self._judge_dialogue(ctx, traces)
        record["messages"].extend(history)
        record["build"] = {
            "turns": [t.to_dict() for t in traces],
            "tokens": _tokens(ctx.usage),
            "seconds": round(time.perf_counter() - started, 3),
        }
        if reasons:
            return "rejected", {**record, "reasons": reasons}
        return "accepted", record

    def _judge_dialogue(self, ctx: _Context, traces: Sequence[TurnTrace]) -> list[dict[str, str]]:
        reasons = []
        malformed = [i for i, t in enumerate(traces) if not t.final.ok]
        if malformed:
            problems = "; ".join(traces[malformed[0]].final.problems[:3])
            reasons.append({"code": "malformed", "detail": f"turns {malformed} still malformed after {self.config.max_rounds} rounds (turn {malformed[0]}: {problems})"})
        low = [i for i, t in enumerate(traces) if t.final.ok and not t.passed]
        if low:
            scores = [round(traces[i].final.overall or 0.0, 3) for i in low]
            reasons.append({"code": "below_threshold", "detail": f"turns {low} below the thresholds after {self.config.max_rounds} rounds (overall {scores})"})
        if ctx.emotion:
            agree = sum(t.final.emotion == ctx.emotion for t in traces) / len(traces)
            if agree < self.config.min_emotion_agreement:
                said = [t.final.emotion for t in traces]
                reasons.append({"code": "emotion_disagrees", "detail": f"emotion spans {said} match the seed's {ctx.emotion!r} on {agree:.0%} of turns (need {self.config.min_emotion_agreement:.0%})"})
        return reasons

    def close(self) -> None:
        if self._batcher is not None:
            self._batcher.close()
            self._batcher = None


def _response_of(content: str) -> str:
    spans = parse(content)
    return spans.response if spans.response else content


def _tokens(usage: Usage) -> int:
    return usage.prompt_tokens + usage.completion_tokens


# -- the whole build ------------------------------------------------------------------------------


@dataclass
class BuildSummary:
    """What one `run_build` call did."""

    out_dir: Path
    pairs: int
    accepted: int
    rejected: int
    errors: int
    pending: int
    skipped: int
    stopped: str
    new_accepted: int = 0
    new_rejected: int = 0
    new_errors: int = 0
    repaired_bytes: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        return data


def _describe(model: Any) -> dict[str, Any]:
    try:
        return model.describe()
    except Exception:
        return {"name": getattr(model, "name", type(model).__name__), "backend": type(model).__name__}


def _usage_of(model: Any) -> dict[str, int] | None:
    usage = getattr(model, "usage", None)
    return usage.to_dict() if isinstance(usage, Usage) else None


def _run_tokens(models: dict[str, Any]) -> int:
    seen, total = set(), 0
    for model in models.values():
        usage = getattr(model, "usage", None)
        if isinstance(usage, Usage) and id(usage) not in seen:
            seen.add(id(usage))
            total += usage.prompt_tokens + usage.completion_tokens
    return total


def run_build(
    pairs: Sequence[Pair],
    out_dir: str | Path,
    *,
    user_model: ChatModel,
    assistant_model: ChatModel,
    judge: Critic,
    config: BuildConfig | None = None,
    salt: str | None = None,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
    write_report: bool = True,
) -> BuildSummary:
    """Build every pair not yet finished in `out_dir`; resumable, crash-safe and budgeted.

    `out_dir` receives ``dialogues.jsonl`` (accepted), ``rejects.jsonl`` (rejected, with reasons, and
    errors that a re-run retries), ``manifest.json`` and the quality report (``report.md``/``report.json``).
    `progress(status, line)` is called after each finished dialogue.
    """
    return asyncio.run(arun_build(pairs, out_dir, user_model=user_model, assistant_model=assistant_model, judge=judge,
                                  config=config, salt=salt, progress=progress, write_report=write_report))


async def arun_build(
    pairs: Sequence[Pair],
    out_dir: str | Path,
    *,
    user_model: ChatModel,
    assistant_model: ChatModel,
    judge: Critic,
    config: BuildConfig | None = None,
    salt: str | None = None,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
    write_report: bool = True,
) -> BuildSummary:
    """Async `run_build`."""
    from filelock import FileLock, Timeout

    config = config or BuildConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out / ".build.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise BuildError(f"{out} is being written by another `kardia build` (lock {out / '.build.lock'})") from exc
    try:
        return await _run_locked(pairs, out, user_model, assistant_model, judge, config, salt, progress, write_report)
    finally:
        lock.release()


async def _run_locked(
    pairs: Sequence[Pair],
    out: Path,
    user_model: ChatModel,
    assistant_model: ChatModel,
    judge: Critic,
    config: BuildConfig,
    salt: str | None,
    progress: Callable[[str, dict[str, Any]], None] | None,
    write_report: bool,
) -> BuildSummary:
    from kardia.judge.prompts import PROMPT_VERSION as JUDGE_PROMPT_VERSION

    started = time.perf_counter()
    models = {"user": user_model, "assistant": assistant_model, "judge": judge}
    judge_model = getattr(judge, "model", None)
    settings = {
        **config.content_settings(),
        "prompt_version": PROMPT_VERSION,
        "judge_prompt_version": JUDGE_PROMPT_VERSION,
        "rubric": judge.rubric.key,
        "user_model": user_model.name,
        "assistant_model": assistant_model.name,
        "judge_model": getattr(judge_model, "name", None) or getattr(judge, "name", type(judge).__name__),
    }
    settings_hash = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    manifest_path = out / "manifest.json"
    previous = read_json(manifest_path) or {}
    if previous and previous.get("settings_hash") != settings_hash:
        changed = sorted(k for k in settings if previous.get("settings", {}).get(k) != settings[k])
        raise BuildError(f"{out} holds a build with other settings (changed: {changed}); use another --out or the same options")
    salt = previous.get("salt") or salt or new_salt()
    if previous.get("salt") and salt != previous["salt"]:
        raise BuildError(f"{manifest_path} has another salt; anon_usernames would not be stable")

    accepted_store = JsonlStore(out / "dialogues.jsonl")
    rejects_store = JsonlStore(out / "rejects.jsonl")
    repaired = accepted_store.repaired + rejects_store.repaired
    accepted_ids = accepted_store.ids()
    rejected_ids, error_ids = set(), set()
    for line in rejects_store:
        (error_ids if line.get("retryable") else rejected_ids).add(str(line["id"]))
    finished = accepted_ids | rejected_ids
    ids = [dialogue_id(pair, settings_hash) for pair in pairs]
    todo = [(pair, i) for pair, i in zip(pairs, ids) if i not in finished]
    todo = list({i: (pair, i) for pair, i in todo}.values())  # the same pair twice is built once
    prior_tokens = int(previous.get("usage", {}).get("total_tokens", 0))
    counts = {"accepted": 0, "rejected": 0, "error": 0}
    stopped = "completed"
    finished_total = len(finished & set(ids))
    in_flight = 0
    created = previous.get("created") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def manifest(status: str) -> dict[str, Any]:
        usage = {role: _usage_of(getattr(m, "model", m) if role == "judge" else m) for role, m in models.items()}
        run_tokens = _run_tokens({"user": user_model, "assistant": assistant_model, "judge": judge_model or judge})
        return {
            "format": BUILD_FORMAT,
            "status": status,
            "stopped": stopped if status == "finished" else None,
            "created": created,
            "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "salt": salt,
            "settings": settings,
            "settings_hash": settings_hash,
            "prompt_versions": {"build": PROMPT_VERSION, "judge": JUDGE_PROMPT_VERSION, "rubric": judge.rubric.key},
            "thresholds": {"min_score": config.min_score, "criteria": config.thresholds,
                           "min_emotion_agreement": config.min_emotion_agreement},
            "budgets": {"max_dialogues": config.max_dialogues, "max_tokens": config.max_tokens},
            "models": {"user": _describe(user_model), "assistant": _describe(assistant_model),
                       "judge": _describe(judge_model) if judge_model is not None else _describe(judge)},
            "counts": {
                "pairs": len(set(ids)),
                "accepted": len(accepted_ids & set(ids)) + counts["accepted"],
                "rejected": len(rejected_ids & set(ids)) + counts["rejected"],
                "errors_this_run": counts["error"],
                "this_run": dict(counts),
            },
            "usage": {**usage, "run_tokens": run_tokens, "total_tokens": prior_tokens + run_tokens},
        }

    write_json_atomic(manifest_path, manifest("running"))
    builder = DialogueBuilder(user_model, assistant_model, judge, config, salt)
    queue = list(reversed(todo))

    def budget_reason() -> str | None:
        if config.max_dialogues is not None and finished_total + in_flight >= config.max_dialogues:
            return "max_dialogues"
        run_tokens = _run_tokens({"user": user_model, "assistant": assistant_model, "judge": judge_model or judge})
        if config.max_tokens is not None and prior_tokens + run_tokens >= config.max_tokens:
            return "max_tokens"
        return None

    async def worker() -> None:
        nonlocal stopped, finished_total, in_flight
        while queue:
            reason = budget_reason()
            if reason:
                stopped = reason
                return
            pair, identifier = queue.pop()
            in_flight += 1
            try:
                status, line = await builder.build(pair, identifier)
            finally:
                in_flight -= 1
            (accepted_store if status == "accepted" else rejects_store).append(line)
            counts[status] += 1
            if status != "error":
                finished_total += 1
            write_json_atomic(manifest_path, manifest("running"))
            if progress:
                progress(status, line)

    try:
        await asyncio.gather(*(worker() for _ in range(min(config.concurrency, max(1, len(todo))))))
    except (KeyboardInterrupt, asyncio.CancelledError):
        stopped = "interrupted"
        raise
    finally:
        builder.close()
        accepted_store.close()
        rejects_store.close()
        final = manifest("finished" if stopped != "interrupted" else "interrupted")
        write_json_atomic(manifest_path, final)
    pending = len(queue) + counts["error"]
    if write_report:
        from kardia.build.report import write_report as write_quality_report

        write_quality_report(out)
    return BuildSummary(
        out_dir=out,
        pairs=len(set(ids)),
        accepted=final["counts"]["accepted"],
        rejected=final["counts"]["rejected"],
        errors=counts["error"],
        pending=pending,
        skipped=len(finished & set(ids)),
        stopped=stopped,
        new_accepted=counts["accepted"],
        new_rejected=counts["rejected"],
        new_errors=counts["error"],
        repaired_bytes=repaired,
        seconds=round(time.perf_counter() - started, 3),
    )


__all__ = [
    "BuildConfig",
    "BuildError",
    "BuildSummary",
    "Critic",
    "DialogueBuilder",
    "REJECT_CODES",
    "STOP_REASONS",
    "arun_build",
    "dialogue_id",
    "run_build",
]
