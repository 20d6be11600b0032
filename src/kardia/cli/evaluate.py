"""`kardia eval` (generate, judge and score a model on a data source) and `kardia compare` (runs side by side)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kardia.cli.app import app
from kardia.cli.options import ApiKeyEnvOpt, BackendOpt, BaseUrlOpt, ModelOpt

console = Console()
err_console = Console(stderr=True)


class _RichStages:
    """`kardia.evaluate.run.EvalProgress` on a Rich progress bar: one task per stage, with ETA."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def start(self, stage: str, total: int) -> None:
        self.tasks[stage] = self.progress.add_task(stage, total=total)

    def advance(self, stage: str, n: int) -> None:
        self.progress.advance(self.tasks[stage], n)


@app.command("eval")
def evaluate(
    data: Annotated[str, typer.Option("--data", help="Data source: `sample`, a file or directory, `ed:PATH`, `esconv:PATH` or a Hub dataset id.")],
    out: Annotated[Path, typer.Option("--out", help="Run directory; an unfinished run there is resumed.")],
    model: ModelOpt = "default",
    judge: Annotated[str, typer.Option("--judge", help="Judge model spec (`default`: the embedded model; see `kardia judge`).")] = "default",
    judge_base_url: Annotated[str | None, typer.Option("--judge-base-url", help="OpenAI-compatible API root of the judge model.")] = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate the first N turn-level examples only.")] = None,
    mode: Annotated[str, typer.Option(help="`kardia`: four-span prompt and parser; `plain`: 'Emotion:/Reply:' lines (baselines).")] = "kardia",
    seed: Annotated[int, typer.Option(help="Seed of sampling, bootstrap and the report's random examples.")] = 0,
    batch_size: Annotated[int, typer.Option(help="Prompts per batch (local models) or requests in flight (HTTP).")] = 8,
    max_new_tokens: Annotated[int, typer.Option(help="Most tokens per answer.")] = 256,
    temperature: Annotated[float, typer.Option(help="0 is greedy decoding.")] = 0.0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass (with temperature > 0).")] = 1.0,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    backend: BackendOpt = None,
) -> None:
    """Evaluate a model: generate for every turn-level example, parse, judge the responses, write metrics,
    report.md and plots into --out (resumable).

    Example: kardia eval --model default --data sample --out runs/smollm2 --limit 16 --mode plain
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from kardia.data.sources import DataError
    from kardia.evaluate.report import fmt, fmt_ci, metric_rows
    from kardia.evaluate.run import REPORT, EvalConfig, EvalError, run_evaluation
    from kardia.models.local import ModelLoadError

    columns = (TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    try:
        config = EvalConfig(model=model, data=data, out=out, base_url=base_url, api_key_env=api_key_env, backend=backend,
                            judge=judge, judge_base_url=judge_base_url, limit=limit, mode=mode, seed=seed,
                            batch_size=batch_size, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p)
        with Progress(*columns, console=err_console) as bar:
            result = run_evaluation(config, progress=_RichStages(bar))
    except (DataError, EvalError, ModelLoadError, ImportError) as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    table = Table(title=f"{model} ({mode}) on {data}: {result.metrics['n']} examples")
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    table.add_column("95% CI")
    for name, label, value, interval in metric_rows(result.metrics):
        digits = 1 if name == "response_tokens_mean" else 3
        table.add_row(label, fmt(value, digits), fmt_ci(interval, digits))
    console.print(table)
    console.print(f"judge failures: {result.metrics['judge_failures']}; report → {out / REPORT}")


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Run directories of `kardia eval`; the first is the baseline of the paired tests.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write compare.md, compare.csv and compare_radar.png here.")] = None,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples of the paired tests.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the paired bootstrap.")] = 0,
) -> None:
    """Compare evaluation runs: each metric with its CI and a paired-bootstrap p-value against the first run.

    Example: kardia compare runs/base runs/sft --out runs/compare
    """
    from kardia.evaluate.compare import compare_runs, to_markdown, write_comparison
    from kardia.evaluate.metrics import BootstrapSettings
    from kardia.evaluate.run import EvalError

    try:
        comparison = compare_runs(runs, BootstrapSettings(n_resamples=resamples, seed=seed))
    except (EvalError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    console.print(to_markdown(comparison), highlight=False, markup=False)
    if out:
        for path in write_comparison(comparison, out):
            console.print(f"→ {path}")
