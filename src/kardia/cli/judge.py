"""`kardia judge IN.jsonl --out OUT.jsonl` (score replies with the rubric judge) and `kardia judge agree A B`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from kardia.cli.app import app

console = Console()
err_console = Console(stderr=True)


class _ScoreByDefault(TyperGroup):
    """Runs `score` when the first argument is not a subcommand, so `kardia judge IN.jsonl …` works."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["score", *args]
        return super().parse_args(ctx, args)


judge_app = typer.Typer(
    cls=_ScoreByDefault,
    help=(
        "Score replies with the rubric judge (relevance, empathy, persona consistency, safety, fluency) and "
        "measure agreement between judges.\n\n"
        "Example: kardia judge replies.jsonl --out judged.jsonl\n\n"
        "Example: kardia judge agree judged.jsonl human.jsonl --human-field human_scores"
    ),
    no_args_is_help=True,
)
app.add_typer(judge_app, name="judge")


def _fail(message: str) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


@judge_app.command()
def score(
    input_path: Annotated[Path, typer.Argument(metavar="IN.jsonl", help="Lines with messages, reply (or output), persona/person, situation.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL: each input line plus scores, judge_error, judge. Resumed when it exists.")],
    judge_spec: Annotated[str, typer.Option("--judge", "-j", help="`default` (embedded SmolLM2), a checkpoint directory, a Hub id, or with --base-url a served model name.")] = "default",
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible API root of the judge model.")] = None,
    api_key_env: Annotated[str, typer.Option("--api-key-env", help="Environment variable holding the judge API key.")] = "OPENAI_API_KEY",
    rubric: Annotated[Path | None, typer.Option("--rubric", help="A rubric YAML file (default: the packaged five-criterion rubric).")] = None,
    mode: Annotated[str, typer.Option("--mode", help="`auto`, `logprob` (expected score from log-probabilities) or `generate` (JSON verdict).")] = "auto",
    cache: Annotated[Path | None, typer.Option("--cache", help="Judge cache SQLite file (default: <kardia cache>/judge.sqlite).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not read or write the judge cache.")] = False,
    include_reasoning: Annotated[bool, typer.Option("--include-reasoning", help="Show the understanding and reasoning spans to the judge too.")] = False,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Lines judged (and appended) per step: the granularity of resumption.")] = 32,
    grounding_nats: Annotated[float | None, typer.Option("--grounding-nats", min=0.0, help="Local logprob judges: the context grounding (nats) from which the rubric's grounded criteria (Relevance) are no longer capped; 0 turns grounding off. Default: the packaged calibration, 12 (docs/results.md).")] = None,
) -> None:
    """Score every line of IN.jsonl with the rubric judge; print mean, n and failures per criterion.

    Lines already in OUT (by their stable id) are kept and skipped, so an interrupted run resumes.

    Example: kardia judge outputs/eval/stages/generations.jsonl --judge default --out judged.jsonl
    """
    from kardia.judge import Judge, JudgeCache
    from kardia.judge.grounding import DEFAULT_FULL_NATS
    from kardia.judge.records import JudgeInputError, item_from_record, line_id, read_jsonl, scored_ids
    from kardia.models.resolve import load_chat_model

    if mode not in ("auto", "logprob", "generate"):
        _fail(f"--mode must be auto, logprob or generate, not {mode!r}")
    if not input_path.is_file():
        _fail(f"input file not found: {input_path}")
    try:
        todo: list[tuple[str, dict[str, Any], Any]] = []
        done = scored_ids(out)
        seen: set[str] = set()
        for number, record in read_jsonl(input_path):
            item = item_from_record(record, f"{input_path}:{number}")
            key = line_id(record, item)
            if key in seen:
                key = f"{key}#{number}"
            seen.add(key)
            if key not in done:
                todo.append((key, record, item))
    except (JudgeInputError, OSError) as exc:
        _fail(str(exc))
    kept = len(seen) - len(todo)
    if todo:
        with console.status(f"loading judge {judge_spec} …"):
            model = load_chat_model(judge_spec, base_url=base_url, api_key_env=api_key_env)
            judge = Judge(model, rubric, mode=mode, include_reasoning=include_reasoning, grounding_nats=DEFAULT_FULL_NATS if grounding_nats is None else grounding_nats or None,
                          cache=False if no_cache else JudgeCache(cache) if cache else True)
        _score_to_file(judge, todo, out, chunk_size)
        judge.close()
        console.print(f"judged {len(todo)} lines ({judge.stats.cache_hits} from cache, {judge.stats.degenerate} degenerate, "
                      f"{judge.stats.failures} failed) in {judge.stats.seconds:.1f}s; kept {kept} already in {out}")
    else:
        console.print(f"all {kept} lines are already in {out}")
    _print_summary(out)


def _score_to_file(judge: Any, todo: list[tuple[str, dict[str, Any], Any]], out: Path, chunk_size: int) -> None:
    from rich.progress import Progress

    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_file() and out.stat().st_size and not out.read_bytes().endswith(b"\n"):
        with out.open("a", encoding="utf-8") as handle:  # a crash left a torn line: start on a fresh one
            handle.write("\n")
    info = judge.describe()
    with Progress(console=console) as progress:
        task = progress.add_task("judging", total=len(todo))
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start:start + chunk_size]
            results = judge.score([item for _, _, item in chunk])
            with out.open("a", encoding="utf-8") as handle:
                for (key, record, _), result in zip(chunk, results):
                    line = {**record, "judge_id": key, "scores": result.scores, "judge_raw": result.raw,
                            "judge_grounding": result.grounding, "judge_overall": result.overall, "judge_error": result.error,
                            "judge_degenerate": result.degenerate, "judge": info}
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            progress.advance(task, len(chunk))


def _print_summary(out: Path) -> None:
    from kardia.judge.records import read_jsonl

    rows = [record for _, record in read_jsonl(out)]
    criteria: list[str] = []
    for row in rows:
        for key in row.get("scores") or {}:
            if key not in criteria:
                criteria.append(key)
    table = Table(title=f"{out} — {len(rows)} lines")
    for column in ("criterion", "mean", "n", "failures", "degenerate"):
        table.add_column(column, justify="left" if column == "criterion" else "right")
    for criterion in criteria:
        values = [(row.get("scores") or {}).get(criterion) for row in rows]
        scored = [v for v in values if v is not None]
        mean = f"{sum(scored) / len(scored):.3f}" if scored else "–"
        failures = sum(v is None for v in values)
        degenerate = sum(bool(row.get("judge_degenerate")) for row in rows)
        table.add_row(criterion, mean, str(len(scored)), str(failures), str(degenerate))
    console.print(table)
    errors = [row["judge_error"] for row in rows if row.get("judge_error")]
    if errors:
        console.print(f"[yellow]{len(errors)} lines failed[/yellow]; first reason: {errors[0]}")


def _scores_by_id(path: Path, field: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    from kardia.judge.records import read_jsonl

    order: list[str] = []
    found: dict[str, dict[str, Any]] = {}
    for number, record in read_jsonl(path):
        scores = record.get(field)
        if not isinstance(scores, dict):
            raise ValueError(f"{path}:{number}: field '{field}' must be an object of criterion → score")
        key = str(record.get("judge_id") or record.get("id") or f"line-{number}")
        order.append(key)
        found[key] = scores
    return order, found


@judge_app.command()
def agree(
    a: Annotated[Path, typer.Argument(help="Judge output (or any JSONL with per-criterion scores).")],
    b: Annotated[Path, typer.Argument(help="Second judge output, or human ratings.")],
    field: Annotated[str, typer.Option("--field", help="Field of A holding the scores.")] = "scores",
    human_field: Annotated[str, typer.Option("--human-field", help="Field of B holding the scores (e.g. human ratings 1-5).")] = "scores",
) -> None:
    """Per criterion: Spearman, Kendall, quadratic-weighted kappa and Krippendorff's alpha between A and B.

    Lines are matched by `judge_id` or `id` (else by line number). Scores in [0, 1] are read as
    normalised, others as 1-5.

    Example: kardia judge agree judged.jsonl ratings.jsonl --human-field human
    """
    from kardia.judge.agreement import agreement
    from kardia.judge.records import JudgeInputError

    try:
        order, left = _scores_by_id(a, field)
        _, right = _scores_by_id(b, human_field)
    except (ValueError, JudgeInputError, OSError) as exc:
        _fail(str(exc))
    shared = [k for k in order if k in right]
    if not shared:
        _fail(f"no line of {a} matches a line of {b} (by judge_id / id / line number)")
    criteria = [c for c in left[shared[0]] if any(c in right[k] for k in shared)]
    table = Table(title=f"agreement: {a.name} vs {b.name} ({len(shared)} matched lines)")
    for column in ("criterion", "n", "spearman", "kendall", "qwk", "alpha"):
        table.add_column(column, justify="left" if column == "criterion" else "right")
    for criterion in criteria:
        stats = agreement([left[k].get(criterion) for k in shared], [right[k].get(criterion) for k in shared])
        table.add_row(criterion, str(stats["n"]),
                      *("–" if stats[s] is None else f"{stats[s]:.3f}" for s in ("spearman", "kendall", "qwk", "alpha")))
    console.print(table)
