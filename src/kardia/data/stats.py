"""Summary statistics of a set of records (`kardia data stats`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from statistics import mean, median
from typing import Any

from kardia.data.records import Record


def dataset_stats(records: Iterable[Record]) -> dict[str, Any]:
    """Dialogues, pairs, personas, turns per dialogue, emotion and MBTI distributions."""
    dialogues = pairs = partial = 0
    turns: list[int] = []
    personas: set[str] = set()
    emotions: Counter[str] = Counter()
    mbti: Counter[str] = Counter()
    for record in records:
        n = len(record.assistant_turns())
        dialogues += 1
        pairs += n
        partial += record.partial
        turns.append(n)
        personas.add(record.anon_username)
        emotions[record.emotion or "(none)"] += 1
        mbti[record.mbti.upper() or "(none)"] += 1
    return {
        "dialogues": dialogues,
        "pairs": pairs,
        "personas": len(personas),
        "partial_dialogues": partial,
        "turns_per_dialogue": {
            "min": min(turns, default=0),
            "median": median(turns) if turns else 0,
            "mean": round(mean(turns), 2) if turns else 0,
            "max": max(turns, default=0),
        },
        "emotions": dict(emotions.most_common()),
        "mbti": dict(mbti.most_common()),
    }
