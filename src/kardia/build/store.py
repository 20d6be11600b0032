"""Crash-safe append-only JSONL files and the output folder of a build.

A record is appended as one complete line with a single ``os.write`` on an ``O_APPEND`` descriptor,
followed by ``fsync``: after a crash (even SIGKILL or power loss) the file holds whole lines plus at
most one torn last line, which `JsonlStore` detects and truncates when it opens the file. Each line
carries an ``id``; a re-run skips the ids already present, so nothing is lost or duplicated.

The folder is locked (`filelock`, released by the OS if the process dies) so that two builds never
append to the same files at once. `write_json_atomic` replaces a JSON file by rename, never partially.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class StoreError(RuntimeError):
    """An output file is corrupt beyond a torn last line."""


class JsonlStore:
    """An append-only JSONL file of objects with an ``id`` field.

    Opening repairs a torn last line (a partial write that lacks its newline, or a last line that is
    not valid JSON) by truncating the file to the end of the last complete line; `repaired` says how
    many bytes were cut. Any other unreadable line is an error naming the file and line.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.repaired = self._repair()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _repair(self) -> int:
        if not self.path.exists():
            return 0
        data = self.path.read_bytes()
        keep = len(data) if data.endswith(b"\n") or not data else data.rfind(b"\n") + 1
        if keep:  # a complete but unparsable last line is also a torn write (e.g. a page not flushed)
            start = data.rfind(b"\n", 0, keep - 1) + 1
            try:
                json.loads(data[start:keep])
            except ValueError:
                keep = start
        if keep == len(data):
            return 0
        with self.path.open("r+b") as handle:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
        return len(data) - keep

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter_jsonl(self.path)

    def ids(self) -> set[str]:
        """The ids of the records in the file."""
        return {str(obj["id"]) for obj in self}

    def append(self, obj: dict[str, Any]) -> None:
        """Write `obj` as one line, then fsync: the line is either wholly there or repaired away on open."""
        if "id" not in obj:
            raise ValueError("a stored record needs an 'id'")
        data = (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:  # one write for regular files; the loop only guards against short writes
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> JsonlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """The objects of a store file, read only (a torn last line, not yet repaired, is skipped)."""
    path = Path(path)
    if not path.exists():
        return
    with path.open("rb") as handle:
        lines = handle.read().split(b"\n")
    torn = lines.pop()  # the bytes after the last newline: empty unless the last write was torn
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            if number == len(lines) and not torn:
                return  # a complete but unparsable last line: repaired when the store is opened
            raise StoreError(f"{path}:{number}: not valid JSON ({exc}); fix or remove the line") from exc
        if not isinstance(obj, dict) or "id" not in obj:
            raise StoreError(f"{path}:{number}: expected a JSON object with an 'id' field")
        yield obj


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write JSON to a temporary file, fsync it and rename it over `path`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(obj, handle, ensure_ascii=False, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_json(path: str | Path) -> Any | None:
    """The JSON in `path`, or None when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path}: not valid JSON ({exc.msg})") from exc
