"""`kardia data …` (validate, stats, split, convert, show) and `kardia parse`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kardia.cli.app import app

console = Console()
err_console = Console(stderr=True)
data_app = typer.Typer(
    help="Load, validate, split, inspect and import KardiaBench-format dialogues.\n\nExample: kardia data stats sample",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")

SourceArg = Annotated[str, typer.Argument(help="`sample`, a .jsonl/.json/.parquet file or directory, `ed:PATH`, `esconv:PATH`, or a Hub dataset id.")]


def _fail(message: str) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


@data_app.command()
def validate(
    source: SourceArg,
    skip_invalid: Annotated[Path | None, typer.Option("--skip-invalid", help="Write valid records to this JSONL file and the others, with reasons, to OUT.rejects.jsonl.")] = None,
    max_errors: Annotated[int, typer.Option(help="Print at most this many error lines.")] = 50,
) -> None:
    """Check every record; print errors naming the record (line) and field; exit 1 on any error.

    Example: kardia data validate data.jsonl --skip-invalid clean.jsonl
    """
    from kardia.data.sources import DataError, iter_checked

    valid = invalid = partial = warnings = printed = 0
    clean = rejects = None
    if skip_invalid:
        skip_invalid.parent.mkdir(parents=True, exist_ok=True)
        clean = skip_invalid.open("w", encoding="utf-8")
        rejects = skip_invalid.with_suffix(".rejects.jsonl").open("w", encoding="utf-8")
    try:
        for raw, record, issues in iter_checked(source):
            errors = [i for i in issues if i.severity == "error"]
            warnings += len(issues) - len(errors)
            if errors:
                invalid += 1
                for issue in errors:
                    if printed < max_errors:
                        console.print(f"[red]{raw.location}[/red] {issue}", highlight=False)
                    printed += 1
                if rejects:
                    rejects.write(json.dumps({"location": raw.location, "errors": [str(e) for e in errors], "record": raw.value}, ensure_ascii=False) + "\n")
            else:
                valid += 1
                partial += bool(record and record.partial)
                if clean and record:
                    clean.write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n")
    except DataError as exc:
        _fail(str(exc))
    finally:
        for handle in (clean, rejects):
            if handle:
                handle.close()
    if printed > max_errors:
        console.print(f"… {printed - max_errors} more errors not shown")
    colour = "green" if not invalid else "red"
    console.print(f"[{colour}]{valid} valid ({partial} partial), {invalid} invalid, {warnings} warnings[/{colour}]")
    if skip_invalid:
        console.print(f"clean records → {skip_invalid}; rejects with reasons → {skip_invalid.with_suffix('.rejects.jsonl')}")
    raise typer.Exit(1 if invalid else 0)


@data_app.command()
def stats(
    source: SourceArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Dialogues, turn-level pairs, personas, turns per dialogue, emotion and MBTI distributions.

    Example: kardia data stats sample --json
    """
    from kardia.data.sources import DataError, load_records
    from kardia.data.stats import dataset_stats

    try:
        result = dataset_stats(load_records(source))
    except DataError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(result, indent=2))
        return
    summary = Table(title=f"KardiaBench data: {source}")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    for key in ("dialogues", "pairs", "personas", "partial_dialogues"):
        summary.add_row(key, str(result[key]))
    for key, value in result["turns_per_dialogue"].items():
        summary.add_row(f"turns per dialogue ({key})", str(value))
    console.print(summary)
    for name in ("emotions", "mbti"):
        table = Table(title=name)
        table.add_column(name[:-1] if name == "emotions" else name)
        table.add_column("dialogues", justify="right")
        for key, count in result[name].items():
            table.add_row(key, str(count))
        console.print(table)


@data_app.command()
def split(
    source: SourceArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for train.jsonl, validation.jsonl, test.jsonl.")],
    train: Annotated[float, typer.Option(help="Fraction of personas in train.")] = 0.8,
    validation: Annotated[float, typer.Option(help="Fraction of personas in validation.")] = 0.1,
    test: Annotated[float, typer.Option(help="Fraction of personas in test.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the persona assignment.")] = 0,
) -> None:
    """Split by persona (`anon_username`): no persona appears in two splits.

    Example: kardia data split sample --out splits/
    """
    from kardia.data.sources import DataError, load_records
    from kardia.data.split import split_records, write_jsonl

    try:
        parts = split_records(load_records(source), {"train": train, "validation": validation, "test": test}, seed)
    except (DataError, ValueError) as exc:
        _fail(str(exc))
    table = Table(title=f"split of {source} by persona (seed {seed})")
    for column in ("split", "dialogues", "personas", "file"):
        table.add_column(column)
    for name, records in parts.items():
        path = out / f"{name}.jsonl"
        write_jsonl(records, path)
        table.add_row(name, str(len(records)), str(len({r.anon_username for r in records})), str(path))
    console.print(table)


@data_app.command()
def convert(
    path: Annotated[Path, typer.Argument(help="The real-data file (EmpatheticDialogues CSV/JSONL or ESConv JSONL).", exists=True, dir_okay=False)],
    source_format: Annotated[str, typer.Option("--from", help="ed (EmpatheticDialogues) or esconv (ESConv).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL of partial KardiaBench records.")],
) -> None:
    """Import real dialogues as partial KardiaBench records (only some spans are gold).

    Example: kardia data convert --from ed ../shared/data/empatheticdialogues/valid.csv -o ed.jsonl
    """
    from kardia.data.importers import IMPORTERS, import_records
    from kardia.data.sources import DataError
    from kardia.data.split import write_jsonl

    if source_format not in IMPORTERS:
        _fail(f"--from must be one of {', '.join(IMPORTERS)}, not {source_format!r}")
    try:
        n = write_jsonl(import_records(source_format, path), out)
    except DataError as exc:
        _fail(str(exc))
    console.print(f"{n} records → {out} (partial: check with `kardia data validate {out}`)")


@data_app.command()
def show(
    source: SourceArg,
    index: Annotated[int, typer.Option(help="Which dialogue (0-based).")] = 0,
) -> None:
    """Print one dialogue with its assistant turns parsed into spans.

    Example: kardia data show sample --index 3
    """
    from itertools import islice

    from rich.panel import Panel

    from kardia.data.sources import DataError, load_records
    from kardia.spans import parse

    try:
        record = next(islice(load_records(source), index, None), None)
    except DataError as exc:
        _fail(str(exc))
    if record is None:
        _fail(f"{source} has no dialogue at index {index}")
    console.print(Panel(record.person or "(no profile)", title=f"{record.anon_username} · {record.mbti or '-'} · {record.emotion or '-'}"))
    console.print(f"[bold]Situation:[/bold] {record.situation}")
    for message in record.messages[1:]:
        if message["role"] == "user":
            console.print(f"\n[bold cyan]User:[/bold cyan] {message['content']}")
            continue
        spans = parse(message["content"])
        console.print(f"[dim]  understanding: {spans.understanding}\n  reasoning: {spans.reasoning}[/dim]")
        console.print(f"[bold magenta]Assistant[/bold magenta] [yellow]({spans.emotion})[/yellow]: {spans.response}")


@app.command("parse")
def parse_command(
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the model output from this file instead of stdin.")] = None,
    strict: Annotated[bool, typer.Option(help="Strict mode: canonical tags only, no recovery.")] = False,
) -> None:
    """Parse a four-span model output; print JSON with problems; exit 0 if well formed, else 1.

    Example: echo '<|emotion_begin|>sad<|emotion_end|>' | kardia parse
    """
    from kardia.spans import parse

    text = file.read_text(encoding="utf-8", errors="replace") if file else sys.stdin.read()
    spans = parse(text, strict=strict)
    print(json.dumps(spans.to_dict(), indent=2, ensure_ascii=False))
    raise typer.Exit(0 if spans.ok else 1)
