"""Splits by persona: every `anon_username` lands in exactly one split, deterministically under a seed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from kardia.data.records import Record

DEFAULT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def _rank(key: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def split_by_group(
    keys: Sequence[str], fractions: dict[str, float] | None = None, seed: int = 0
) -> dict[str, set[str]]:
    """Assign each distinct key (persona, conversation…) to one split.

    Keys are ordered by a seeded hash and cut by cumulative fraction, so the assignment does not
    depend on input order and each non-empty fraction gets at least one key when there are enough.
    """
    fractions = fractions or DEFAULT_FRACTIONS
    total = sum(fractions.values())
    if total <= 0 or any(f < 0 for f in fractions.values()):
        raise ValueError(f"split fractions must be non-negative and sum to more than 0: {fractions}")
    ordered = sorted(set(keys), key=lambda k: _rank(k, seed))
    n = len(ordered)
    names = list(fractions)
    counts = [round(n * fractions[name] / total) for name in names]
    for i, name in enumerate(names):  # every requested split gets a key when possible
        if fractions[name] > 0 and counts[i] == 0 and n >= len(names):
            counts[i] = 1
    counts[0] = n - sum(counts[1:])  # the first split absorbs rounding
    groups, start = {}, 0
    for name, count in zip(names, counts):
        groups[name] = set(ordered[start : start + count])
        start += count
    return groups


def split_records(
    records: Iterable[Record], fractions: dict[str, float] | None = None, seed: int = 0
) -> dict[str, list[Record]]:
    """Records grouped by split, no persona in two splits."""
    records = list(records)
    groups = split_by_group([r.anon_username for r in records], fractions, seed)
    where = {user: name for name, users in groups.items() for user in users}
    out: dict[str, list[Record]] = {name: [] for name in groups}
    for record in records:
        out[where[record.anon_username]].append(record)
    return out


def write_jsonl(records: Iterable[Record], path: Path) -> int:
    """Write records as JSONL (atomically: a temporary file is renamed at the end)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n
