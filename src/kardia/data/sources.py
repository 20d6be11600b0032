"""Where records come from: the bundled sample, local JSON / JSONL / Parquet files, or a Hub dataset.

A source is a string: `sample`, a path (file or directory of data files), real data through an
importer (`ed:PATH` for EmpatheticDialogues, `esconv:PATH` for ESConv), or a Hugging Face Hub dataset
id (default `Jhcircle/KardiaBench`, optionally `ID:split`). Files are streamed record by
record, so large files never need to fit in memory as JSON text.

>>> records = list(load_records("sample"))
>>> len(records) >= 40
True
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kardia.data.records import Example, Issue, Record, check_record, expand_record

SAMPLE = "sample"
SAMPLE_PATH = Path(__file__).with_name("sample") / "dialogues.jsonl"
HUB_DEFAULT = "Jhcircle/KardiaBench"
DATA_SUFFIXES = (".jsonl", ".json", ".parquet")


class DataError(ValueError):
    """Bad input: names the source, the record (line number) and the field."""


@dataclass(frozen=True)
class RawRecord:
    """A record as read, before validation. `location` is e.g. 'data.jsonl:12'."""

    location: str
    value: Any
    error: str | None = None


def resolve_source(source: str | Path) -> tuple[str, Any]:
    """Classify a source as ('file'|'dir'|'import'|'hub', payload)."""
    text = str(source)
    if text == SAMPLE:
        return "file", SAMPLE_PATH
    prefix, _, rest = text.partition(":")
    if prefix in ("ed", "esconv") and rest:
        if not Path(rest).expanduser().exists():
            raise DataError(f"{rest}: no such file (source {text!r})")
        return "import", (prefix, Path(rest).expanduser())
    path = Path(text).expanduser()
    if path.is_dir():
        return "dir", path
    if path.exists():
        return "file", path
    if path.suffix in DATA_SUFFIXES or text.startswith((".", "/", "~")):
        raise DataError(f"{text}: no such file")
    return "hub", text


def read_raw(source: str | Path) -> Iterator[RawRecord]:
    """Stream raw records with their locations; unreadable lines come back with `error` set."""
    kind, payload = resolve_source(source)
    if kind == "file":
        yield from _read_file(payload)
    elif kind == "dir":
        files = sorted(p for p in payload.iterdir() if p.suffix in DATA_SUFFIXES)
        if not files:
            raise DataError(f"{payload}: no {', '.join(DATA_SUFFIXES)} files in this directory")
        for path in files:
            yield from _read_file(path)
    elif kind == "import":
        from kardia.data.importers import import_records

        name, path = payload
        for index, record in enumerate(import_records(name, path)):
            yield RawRecord(f"{path}#{index}", record.model_dump(mode="json"))
    else:
        yield from _read_hub(payload)


def _read_file(path: Path) -> Iterator[RawRecord]:
    if path.suffix == ".parquet":
        yield from _read_parquet(path)
        return
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    if path.suffix == ".json":
        yield from _read_json(path)
        return
    seen = False
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            location = f"{path}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield RawRecord(location, None, f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
                continue
            if not line.strip():
                continue
            seen = True
            try:
                yield RawRecord(location, json.loads(line))
            except json.JSONDecodeError as exc:
                yield RawRecord(location, None, f"malformed JSON: {exc.msg} at column {exc.colno}")
    if not seen:
        raise DataError(f"{path}: the file has no records (only blank lines)")


def _read_json(path: Path) -> Iterator[RawRecord]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of records (or {{'data': [...]}})")
    for index, value in enumerate(data):
        yield RawRecord(f"{path}[{index}]", value)


def _read_parquet(path: Path) -> Iterator[RawRecord]:
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for value in batch.to_pylist():
            yield RawRecord(f"{path}#row{row}", value)
            row += 1


def _read_hub(spec: str) -> Iterator[RawRecord]:
    name, _, split = spec.partition(":")
    split = split or "train"
    try:
        from datasets import load_dataset

        dataset = load_dataset(name, split=split, streaming=True)
        iterator = iter(dataset)
        first = next(iterator, None)
    except Exception as exc:  # offline, gated, missing: say what to do
        raise DataError(hub_help(name, exc)) from exc
    if first is None:
        return
    yield RawRecord(f"{name}:{split}#0", dict(first))
    for index, value in enumerate(iterator, start=1):
        yield RawRecord(f"{name}:{split}#{index}", dict(value))


def hub_help(name: str, exc: BaseException) -> str:
    """The message for a Hub dataset that could not be read."""
    gated = " It is gated: request access on its Hub page, wait for approval," if name == HUB_DEFAULT else ""
    return (
        f"could not load the Hub dataset {name!r}: {type(exc).__name__}: {str(exc)[:300]}\n"
        f"{gated} then log in (`hf auth login` or set HF_TOKEN) on a machine with network access.\n"
        "Offline, download it once elsewhere and pass the local files instead "
        "(a .jsonl/.json/.parquet file or a directory of them), or use the bundled `sample`."
    )


def iter_checked(source: str | Path) -> Iterator[tuple[RawRecord, Record | None, list[Issue]]]:
    """Every raw record with its validation result (for `kardia data validate`)."""
    for raw in read_raw(source):
        if raw.error is not None:
            yield raw, None, [Issue("<line>", raw.error)]
        else:
            record, issues = check_record(raw.value)
            yield raw, record, issues


def load_records(source: str | Path) -> Iterator[Record]:
    """Stream valid records; the first invalid one raises `DataError` naming its location and field."""
    for raw, record, issues in iter_checked(source):
        errors = [i for i in issues if i.severity == "error"]
        if errors:
            detail = "; ".join(str(e) for e in errors[:5])
            raise DataError(f"{raw.location}: {detail} (run `kardia data validate` for a full report)")
        yield record  # type: ignore[misc]


def load_examples(source: str | Path, limit: int | None = None) -> list[Example]:
    """Turn-level examples of a source, in order; `limit` stops after that many."""
    examples: list[Example] = []
    for record in load_records(source):
        examples.extend(expand_record(record))
        if limit is not None and len(examples) >= limit:
            return examples[:limit]
    return examples
