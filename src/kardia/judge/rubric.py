"""The judge's rubric as data: criteria with a question, a weight and a description of each level 1-5.

The packaged rubric (`rubric.yaml` next to this module) has Kardia-R1's five criteria. A user rubric is
a YAML file of the same shape: criteria can be added, dropped, reworded or re-weighted. The rubric's
`version` and a hash of its content are part of every judge cache key, so editing the rubric never
returns stale scores.

>>> rubric = load_rubric()
>>> rubric.ids
('relevance', 'empathy', 'persona_consistency', 'safety', 'fluency')
>>> normalize(5), normalize(1), normalize(3.5), denormalize(0.625)
(1.0, 0.0, 0.625, 3.5)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

PACKAGED_RUBRIC = Path(__file__).with_name("rubric.yaml")
SCORE_LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)


def normalize(score: float) -> float:
    """Map a 1-5 score to 0-1: (s - 1) / 4."""
    return (float(score) - 1.0) / 4.0


def denormalize(score: float) -> float:
    """Map a 0-1 score back to 1-5: 1 + 4 s."""
    return 1.0 + 4.0 * float(score)


class Criterion(BaseModel):
    """One graded aspect of a reply."""

    id: str = Field(description="Stable key used in score dictionaries and output files (snake_case).")
    name: str = Field(description="Human-readable name shown to the judge.")
    question: str = Field(description="The question the judge answers for this criterion.")
    weight: float = Field(1.0, ge=0.0, description="Weight in the overall (weighted mean) score.")
    levels: dict[int, str] = Field(description="What a reply at each level 1-5 looks like.")
    grounded: bool = Field(
        False,
        description="Cap this criterion by the reply's context grounding: a reply that the dialogue does not "
        "make likelier cannot score high on it (see kardia.judge.grounding). Local judges only.",
    )

    @field_validator("id")
    @classmethod
    def _id_is_key(cls, value: str) -> str:
        if not value.replace("_", "").isalnum() or not value.islower():
            raise ValueError(f"criterion id must be lowercase snake_case, got {value!r}")
        return value

    @field_validator("levels")
    @classmethod
    def _all_levels(cls, value: dict[int, str]) -> dict[int, str]:
        if sorted(value) != list(SCORE_LEVELS):
            raise ValueError(f"levels must describe exactly 1, 2, 3, 4 and 5, got {sorted(value)}")
        return {k: " ".join(v.split()) for k, v in sorted(value.items())}

    @field_validator("name", "question")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())


class Rubric(BaseModel):
    """A versioned list of criteria."""

    version: str = Field(description="Bump whenever the text changes; enters the cache key.")
    name: str = "custom"
    description: str = ""
    criteria: list[Criterion]

    @model_validator(mode="after")
    def _unique_ids(self) -> Rubric:
        ids = [c.id for c in self.criteria]
        if not ids:
            raise ValueError("a rubric needs at least one criterion")
        if len(set(ids)) != len(ids):
            raise ValueError(f"criterion ids must be unique, got {ids}")
        if sum(c.weight for c in self.criteria) <= 0:
            raise ValueError("at least one criterion needs a positive weight")
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)

    @property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of the rubric (first 16 hex digits)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def key(self) -> str:
        """`version+hash`, the rubric's part of a judge cache key."""
        return f"{self.version}+{self.content_hash}"

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(f"no criterion {criterion_id!r} in rubric {self.name} (has {list(self.ids)})")

    def overall(self, scores: Mapping[str, float | None]) -> float | None:
        """Weighted mean of the normalised scores; None when any criterion could not be scored."""
        values = [(scores.get(c.id), c.weight) for c in self.criteria]
        if any(v is None for v, _ in values):
            return None
        total = sum(w for _, w in values)
        return sum(v * w for v, w in values) / total  # type: ignore[operator]


def load_rubric(source: str | Path | Mapping[str, Any] | Rubric | None = None) -> Rubric:
    """The packaged rubric (None), a rubric from a YAML/JSON file, a mapping, or a `Rubric` as is.

    Raises ValueError naming the file and the problem when the rubric is malformed.
    """
    if isinstance(source, Rubric):
        return source
    if isinstance(source, Mapping):
        return _validate(dict(source), "<mapping>")
    path = Path(source) if source is not None else PACKAGED_RUBRIC
    if not path.is_file():
        raise FileNotFoundError(f"rubric file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a rubric must be a mapping with 'version' and 'criteria'")
    return _validate(data, str(path))


def _validate(data: dict[str, Any], origin: str) -> Rubric:
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{origin}: invalid rubric: {problems}") from exc
