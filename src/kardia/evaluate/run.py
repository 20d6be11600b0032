"""`kardia eval` as a library: generate, parse, judge and score every turn-level example of a data source.

A run writes into one directory::

    stages/manifest.json   what the run is (model, data, mode, sampling, judge); a resume must match it
    stages/generate.jsonl  append-only, one line per example (`kardia.generate.generate_to_file`)
    stages/judge.jsonl     append-only, one line per example: the judge's scores of the response span
    stages/model.json      the model's description, written when it is first loaded
    stages/judge_info.json the judge's description, written when it is first loaded
    generations.jsonl      the merged rows in example order (context, output, spans, gold, prediction, scores)
    metrics.json           deterministic metrics, 95% bootstrap intervals, model/data/judge/settings
    report.md, radar.png, confusion.png
    run.json               what varies between runs: timestamps, durations, token usage, judge cache stats

The two stages skip the example ids already in their files, so an interrupted run continues where it
stopped; everything after them is recomputed from the files, so the final files of a resumed run are
identical to those of an uninterrupted one. Generation and judging run in chunks aligned to the
example order, so a resumed chunk holds the same examples (and batches) as it would have.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from kardia.data.records import Example
from kardia.evaluate.metrics import CRITERIA, BootstrapSettings, compute_metrics, format_ok
from kardia.generate import MODES, completed_ids, generate_to_file
from kardia.models.base import ChatModel, GenerationConfig

GENERATIONS = "generations.jsonl"
METRICS = "metrics.json"
REPORT = "report.md"
RADAR = "radar.png"
CONFUSION = "confusion.png"
RUN_INFO = "run.json"
STAGES = "stages"
SCORE_DIGITS = 6
"""Judge scores are rounded to this many decimals in generations.jsonl (float noise never shows)."""


class EvalError(ValueError):
    """An evaluation that cannot start or continue; the message says why and what to do."""


class EvalProgress(Protocol):
    """Receives progress: `start` once per stage with its total, then `advance` as examples finish."""

    def start(self, stage: str, total: int) -> None: ...

    def advance(self, stage: str, n: int) -> None: ...


@dataclass
class EvalConfig:
    """Everything that defines an evaluation run."""

    model: str = "default"
    """Model spec: `default` (embedded SmolLM2), a checkpoint directory, a hub id, or a served name with base_url."""
    data: str = "sample"
    """Data source: `sample`, a file or directory, `ed:PATH`, `esconv:PATH` or a hub dataset id."""
    out: Path = Path("eval")
    """Output directory (created; an existing run there is resumed)."""
    base_url: str | None = None
    """OpenAI-compatible API root of the evaluated model."""
    api_key_env: str | None = None
    """Environment variable holding the evaluated model's API key."""
    backend: str | None = None
    """Local engine: `transformers` (default) or `vllm`; ignored with base_url."""
    judge: str = "default"
    """Judge spec passed to `kardia.judge.load_judge`."""
    judge_base_url: str | None = None
    """OpenAI-compatible API root of the judge model."""
    limit: int | None = None
    """Evaluate only the first N turn-level examples."""
    mode: str = "kardia"
    """`kardia` (four spans, the example's own prompt) or `plain` (two labelled lines)."""
    seed: int = 0
    """Seed of sampled decoding, of the bootstrap and of the report's random examples."""
    batch_size: int = 8
    """Prompts per forward pass of a local model."""
    max_new_tokens: int = 256
    """Generation length limit."""
    temperature: float = 0.0
    """0 is greedy decoding."""
    top_p: float = 1.0
    """Nucleus sampling threshold (with temperature > 0)."""
    chunk_size: int = 32
    """Examples generated (and judged) per appended chunk: the granularity of resumption."""
    n_resamples: int = 2000
    """Bootstrap resamples of the confidence intervals."""

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.mode not in MODES:
            raise EvalError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.limit is not None and self.limit < 1:
            raise EvalError(f"limit must be at least 1, not {self.limit}")
        if self.chunk_size < 1 or self.batch_size < 1:
            raise EvalError("chunk_size and batch_size must be at least 1")

    def generation_config(self) -> GenerationConfig:
        return GenerationConfig(max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                                top_p=self.top_p, seed=self.seed)

    def bootstrap(self) -> BootstrapSettings:
        return BootstrapSettings(n_resamples=self.n_resamples, seed=self.seed)

    def manifest(self) -> dict[str, Any]:
        """The fields a resumed run must share with the run it continues."""
        return {
            "model": self.model, "base_url": self.base_url, "data": self.data, "mode": self.mode,
            "judge": self.judge, "judge_base_url": self.judge_base_url,
            "generation": self.generation_config().to_dict(),
        }

    def settings(self) -> dict[str, Any]:
        """The settings metrics.json records."""
        return {"mode": self.mode, "limit": self.limit, "seed": self.seed, "batch_size": self.batch_size,
                "chunk_size": self.chunk_size, "generation": self.generation_config().to_dict(),
                "bootstrap": asdict(self.bootstrap())}


@dataclass
class EvalResult:
    """What `run_evaluation` produced."""

    out: Path
    metrics: dict[str, Any]
    run_info: dict[str, Any]
    rows: list[dict[str, Any]] = field(repr=False, default_factory=list)


def run_evaluation(config: EvalConfig, *, model: ChatModel | None = None, judge: Any = None,
                   progress: EvalProgress | None = None) -> EvalResult:
    """Generate, judge and score every example of `config.data`, resuming what `config.out` holds.

    `model` and `judge` replace loading them from the config (tests, notebooks); they are loaded
    only when a stage still has work, so re-running a finished directory just rewrites the reports.
    """
    from kardia.data.sources import load_examples

    started = _now()
    out = config.out
    stages = out / STAGES
    stages.mkdir(parents=True, exist_ok=True)
    _check_manifest(stages / "manifest.json", config.manifest())
    examples = load_examples(config.data, config.limit)
    if not examples:
        raise EvalError(f"{config.data}: no turn-level examples to evaluate")
    _check_unique_ids(examples, config.data)
    timings: dict[str, float] = {}
    info: dict[str, Any] = {"started_at": started}

    generate_path = stages / "generate.jsonl"
    todo = len(examples) - len(completed_ids(generate_path) & {e.id for e in examples})
    if progress:
        progress.start("generate", len(examples))
    owns_model = False
    if todo:
        if model is None:
            model, owns_model = load_model(config), True
        _write_once(stages / "model.json", model.describe())
        tick = time.perf_counter()
        summary = generate_to_file(model, examples, generate_path, mode=config.mode, config=config.generation_config(),
                                   chunk_size=config.chunk_size,
                                   progress=(lambda n: progress.advance("generate", n)) if progress else None)
        timings["generate_s"] = time.perf_counter() - tick
        info.update(generated_now=summary.written, generation_usage=summary.usage)
        if owns_model:
            model.close()
    elif progress:
        progress.advance("generate", len(examples))
    generated = _read_stage(generate_path)

    judge_path = stages / "judge.jsonl"
    if progress:
        progress.start("judge", len(examples))
    judged_ids = completed_ids(judge_path)
    if any(e.id not in judged_ids for e in examples):
        owns_judge = judge is None
        judge = load_evaluation_judge(config) if owns_judge else judge
        _write_once(stages / "judge_info.json", describe_judge(judge, config))
        tick = time.perf_counter()
        info["judged_now"] = judge_examples(judge, examples, generated, judge_path, chunk_size=config.chunk_size, progress=progress)
        timings["judge_s"] = time.perf_counter() - tick
        info["judge_stats"] = _plain(getattr(judge, "stats", None))
        if owns_judge:
            judge.close()
    elif progress:
        progress.advance("judge", len(examples))

    tick = time.perf_counter()
    judged = _read_stage(judge_path)
    rows = merge_rows(examples, generated, judged)
    metrics = write_outputs(out, rows, config, criteria=judge_criteria(judged.values()))
    timings["report_s"] = time.perf_counter() - tick
    info.update(finished_at=_now(), timings=timings)
    (out / RUN_INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return EvalResult(out=out, metrics=metrics, run_info=info, rows=rows)


# -- loading ----------------------------------------------------------------------------------------------

def load_model(config: EvalConfig) -> ChatModel:
    """The evaluated model named by the config."""
    from kardia.models.resolve import load_chat_model

    if config.base_url:
        kwargs = {"concurrency": config.batch_size}
    else:
        kwargs = {} if config.backend == "vllm" else {"batch_size": config.batch_size}
    return load_chat_model(config.model, base_url=config.base_url, api_key_env=config.api_key_env,
                           backend=config.backend, **kwargs)


def load_evaluation_judge(config: EvalConfig) -> Any:
    """The rubric judge named by the config."""
    from kardia.judge import load_judge

    return load_judge(config.judge, base_url=config.judge_base_url)


def describe_judge(judge: Any, config: EvalConfig) -> dict[str, Any]:
    """What metrics.json records about the judge: its spec and, when it has one, its own description."""
    described = judge.describe() if callable(getattr(judge, "describe", None)) else {}
    return {"spec": config.judge, "base_url": config.judge_base_url, **_plain(described)}


# -- judging ----------------------------------------------------------------------------------------------

def judge_item(example: Example, generated: dict[str, Any]) -> Any:
    """The `JudgeItem` for one generated answer: the response span in the dialogue.

    The system message is dropped and earlier assistant turns are shown as their response span only
    (the four-span history of KardiaBench-format data), so the judge reads a plain conversation.
    """
    from kardia.judge.items import JudgeItem
    from kardia.prompts import replies_only

    history = replies_only([m for m in generated["messages"] if m.get("role") != "system"])
    reply = (generated.get("spans") or {}).get("response") or ""
    return JudgeItem(history, reply, persona=example.person, situation=example.situation)


def judge_examples(judge: Any, examples: Sequence[Example], generated: dict[str, dict[str, Any]], path: Path, *,
                   chunk_size: int = 32, progress: EvalProgress | None = None) -> int:
    """Judge every generated example not yet in `path` and append one line each; returns lines written.

    Chunks are aligned to the example order. An example whose generation failed is not sent to the
    judge: its line has no scores and `error` says why (counted as a judge failure, never a 0).
    """
    done = completed_ids(path)
    if progress and done:
        progress.advance("judge", sum(e.id in done for e in examples))
    written = 0
    _end_torn_line(path)
    for chunk in _chunks(examples, chunk_size):
        todo = [e for e in chunk if e.id not in done]
        if not todo:
            continue
        failed = {e.id for e in todo if generated[e.id].get("error")}
        scored = [e for e in todo if e.id not in failed]
        results = iter(judge.score([judge_item(e, generated[e.id]) for e in scored]) if scored else [])
        lines = []
        for example in todo:
            if example.id in failed:
                lines.append({"id": example.id, "scores": {}, "error": f"generation failed: {generated[example.id]['error']}",
                              "degenerate": None})
            else:
                result = next(results)
                lines.append({"id": example.id, "scores": dict(result.scores), "error": result.error,
                              "degenerate": result.degenerate})
        with path.open("a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        written += len(lines)
        if progress:
            progress.advance("judge", len(lines))
    return written


def judge_criteria(judged: Any) -> tuple[str, ...]:
    """The criteria the judge scored (the keys of its first scored line), else the packaged five."""
    for line in judged:
        if line.get("scores"):
            return tuple(line["scores"])
    return CRITERIA


# -- merging and writing --------------------------------------------------------------------------------

def merge_rows(examples: Sequence[Example], generated: dict[str, dict[str, Any]],
               judged: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per example, in example order: the generation line, the prediction and the judge's verdict."""
    rows = []
    for example in examples:
        if example.id not in generated or example.id not in judged:
            raise EvalError(f"example {example.id} is missing from the stage files in the run directory")
        gen, verdict = generated[example.id], judged[example.id]
        spans = gen.get("spans") or {}
        predicted = spans.get("emotion_label")
        row = dict(gen)
        row.update(
            person=example.person,
            situation=example.situation,
            format_ok=format_ok(gen),
            predicted_emotion=predicted,
            emotion_correct=None if not example.gold_emotion else predicted == example.gold_emotion,
            response_tokens=response_tokens(spans.get("response")),
            judge_scores={k: None if v is None else round(float(v), SCORE_DIGITS) for k, v in verdict["scores"].items()},
            judge_error=verdict.get("error"),
            judge_degenerate=verdict.get("degenerate"),
        )
        rows.append(row)
    return rows


def response_tokens(response: str | None) -> int | None:
    """Tokens of the response span by the embedded SmolLM2 tokenizer (one tokenizer for every model, so
    runs compare); None without a response."""
    from kardia.spans import count_tokens

    return None if not response else count_tokens(response, _reference_tokenizer())


def write_outputs(out: Path, rows: Sequence[dict[str, Any]], config: EvalConfig,
                  *, criteria: Sequence[str] = CRITERIA) -> dict[str, Any]:
    """generations.jsonl, metrics.json, report.md and the plots, all recomputed from `rows`."""
    from kardia import __version__
    from kardia.evaluate.plots import confusion_heatmap, radar_chart
    from kardia.evaluate.report import render_report
    from kardia.models.resolve import describe_spec

    with (out / GENERATIONS).open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    stages = out / STAGES
    spec = describe_spec(config.model, config.base_url)
    spec.pop("converted", None)
    metrics = {
        **compute_metrics(rows, criteria=criteria, settings=config.bootstrap()),
        "model": {**spec, **_read_json(stages / "model.json")},
        "data": {"source": config.data, "limit": config.limit, "n_examples": len(rows)},
        "judge": _read_json(stages / "judge_info.json") or {"spec": config.judge, "base_url": config.judge_base_url},
        "settings": config.settings(),
        "kardia_version": __version__,
    }
    (out / METRICS).write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / REPORT).write_text(render_report(metrics, rows, seed=config.seed), encoding="utf-8")
    label = f"{config.model} ({config.mode})"
    radar_chart([(label, metrics)], out / RADAR)
    confusion_heatmap(rows, out / CONFUSION, title=f"Emotion confusion: {label}")
    return metrics


def load_run(directory: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The metrics and rows of a finished run directory."""
    path = Path(directory)
    if not (path / METRICS).is_file() or not (path / GENERATIONS).is_file():
        raise EvalError(f"{path}: not a finished evaluation run (expected {METRICS} and {GENERATIONS}); run `kardia eval --out {path}`")
    metrics = json.loads((path / METRICS).read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (path / GENERATIONS).read_text(encoding="utf-8").splitlines() if line.strip()]
    return metrics, rows


# -- helpers --------------------------------------------------------------------------------------------

_TOKENIZER: list[Any] = []


def _reference_tokenizer() -> Any:
    if not _TOKENIZER:
        from transformers import AutoTokenizer

        from kardia.models.embedded import embedded_checkpoint

        _TOKENIZER.append(AutoTokenizer.from_pretrained(embedded_checkpoint()))
    return _TOKENIZER[0]


def _check_manifest(path: Path, manifest: dict[str, Any]) -> None:
    manifest = json.loads(json.dumps(manifest))  # tuples read back as lists
    if not path.is_file():
        path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return
    previous = json.loads(path.read_text(encoding="utf-8"))
    changed = {k: (previous.get(k), v) for k, v in manifest.items() if previous.get(k) != v}
    if changed:
        detail = "; ".join(f"{k}: {old!r} there, {new!r} now" for k, (old, new) in changed.items())
        raise EvalError(f"{path.parent.parent} holds a different run ({detail}). Resume it with the same options, "
                        "or choose another --out directory.")


def _check_unique_ids(examples: Sequence[Example], source: str) -> None:
    seen: set[str] = set()
    for example in examples:
        if example.id in seen:
            raise EvalError(f"{source}: example id {example.id!r} occurs twice (duplicate record?); "
                            "resumable runs need unique ids")
        seen.add(example.id)


def _read_stage(path: Path) -> dict[str, dict[str, Any]]:
    """id → line of an append-only stage file (the first line of an id wins; torn lines are skipped)."""
    lines: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return lines
    with path.open(encoding="utf-8") as handle:
        for text in handle:
            try:
                line = json.loads(text)
            except json.JSONDecodeError:
                continue
            if isinstance(line, dict) and "id" in line:
                lines.setdefault(line["id"], line)
    return lines


def _end_torn_line(path: Path) -> None:
    if path.is_file() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
        with path.open("a", encoding="utf-8") as handle:
            handle.write("\n")


def _chunks(items: Sequence[Example], size: int) -> Iterator[Sequence[Example]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _write_once(path: Path, value: Any) -> None:
    if not path.is_file():
        path.write_text(json.dumps(_plain(value), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _plain(value: Any) -> Any:
    """A JSON-ready copy of dataclasses, objects with `to_dict`, mappings and sequences."""
    if hasattr(value, "to_dict"):
        return _plain(value.to_dict())
    if hasattr(value, "__dataclass_fields__"):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
