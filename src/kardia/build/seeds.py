"""Inputs of `kardia build`: persona profiles and seeds (a situation and a target emotion), and their pairing.

Personas are raw profile strings in KardiaBench's style (``MBTI:``, ``About:``, ``Signature:``,
``Recent Activities:``), one JSON object per line with ``person`` and optionally ``mbti`` (extracted from
the profile when absent). Seeds are ``{"situation", "emotion"}`` lines, or come from real data:

- EmpatheticDialogues (``--from ed``): the conversation's prompt and its label (already one of the 32).
- ESConv (``--from esconv``): the seeker's situation and its emotion type mapped by `ESCONV_EMOTIONS`.

The package ships invented examples (`PACKAGED_PERSONAS`, `PACKAGED_SEEDS`) for smoke runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kardia.emotions import EMOTIONS

PACKAGED_PERSONAS = Path(__file__).with_name("personas.jsonl")
PACKAGED_SEEDS = Path(__file__).with_name("seeds.jsonl")

ESCONV_EMOTIONS: dict[str, str] = {
    "anxiety": "anxious",
    "depression": "sad",
    "sadness": "sad",
    "anger": "angry",
    "fear": "afraid",
    "shame": "ashamed",
    "disgust": "disgusted",
    "nervousness": "apprehensive",
    "guilt": "guilty",
    "jealousy": "jealous",
    "pain": "devastated",
}
"""ESConv's 11 emotion types → the 32 labels.

Seven types are the noun of a label (anxiety → anxious, sadness → sad, anger → angry, fear → afraid,
shame → ashamed, disgust → disgusted, guilt → guilty, jealousy → jealous). The other three have no
label of their own:

- depression → sad: the 32 labels have no clinical category; the low mood ESConv seekers describe
  (loss of interest, hopelessness) is closest to sadness, and `devastated` would overstate most of them.
- nervousness → apprehensive: ED's `apprehensive` is worry about something that is about to happen,
  which is how ESConv uses nervousness (interviews, exams); `anxious` is already anxiety's label.
- pain → devastated: ESConv's single "pain" conversation is about emotional hurt after a loss, the
  intense distress that `devastated` names.
"""

_MBTI = re.compile(r"\b([EI][NS][TF][JP])(?:-[AT])?\b")
_MBTI_FIELD = re.compile(r"MBTI\s*[:：]\s*([EI][NS][TF][JP](?:-[AT])?)", re.IGNORECASE)


class SeedError(ValueError):
    """A persona or seed file is malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class Persona:
    """A user profile: the raw text and its MBTI type (may be empty)."""

    person: str
    mbti: str = ""


@dataclass(frozen=True)
class Seed:
    """A scenario: what happened to the user and the emotion it should evoke (one of the 32 labels)."""

    situation: str
    emotion: str
    source: str = ""
    """Where the seed came from, e.g. ``ed:hit:3_conv:6`` or ``file:seeds.jsonl:4``."""


def extract_mbti(profile: str) -> str:
    """The MBTI type named in a profile (the ``MBTI:`` field first, else any type token), or ''.

    >>> extract_mbti("MBTI: infp\\nAbout: ...")
    'INFP'
    >>> extract_mbti("About: no type here")
    ''
    """
    field = _MBTI_FIELD.search(profile)
    if field:
        return field.group(1).upper().split("-")[0]
    token = _MBTI.search(profile)
    return token.group(1) if token else ""


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    if not path.is_file():
        raise SeedError(f"{path}: file not found")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SeedError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise SeedError(f"{path}:{number}: expected a JSON object, got {type(obj).__name__}")
            yield number, obj


def _text_field(path: Path, number: int, obj: dict, name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value.strip():
        raise SeedError(f"{path}:{number}: field {name!r} is missing or not a non-empty string")
    return value.strip()


def load_personas(path: str | Path = PACKAGED_PERSONAS) -> list[Persona]:
    """Personas from a JSONL file of ``{"person", "mbti"?}`` objects."""
    path = Path(path)
    personas = []
    for number, obj in _jsonl(path):
        person = _text_field(path, number, obj, "person")
        mbti = obj.get("mbti")
        if mbti is not None and not isinstance(mbti, str):
            raise SeedError(f"{path}:{number}: field 'mbti' must be a string")
        personas.append(Persona(person, (mbti or "").strip().upper() or extract_mbti(person)))
    if not personas:
        raise SeedError(f"{path}: no personas")
    return personas


def load_seeds(path: str | Path = PACKAGED_SEEDS) -> list[Seed]:
    """Seeds from a JSONL file of ``{"situation", "emotion"}`` objects (emotion: one of the 32 labels)."""
    path = Path(path)
    seeds = []
    for number, obj in _jsonl(path):
        situation = _text_field(path, number, obj, "situation")
        emotion = _text_field(path, number, obj, "emotion").lower()
        if emotion not in EMOTIONS:
            raise SeedError(f"{path}:{number}: field 'emotion' is {emotion!r}, not one of the 32 labels {list(EMOTIONS)}")
        seeds.append(Seed(situation, emotion, f"file:{path.name}:{number}"))
    if not seeds:
        raise SeedError(f"{path}: no seeds")
    return seeds


def ed_seeds(path: str | Path) -> list[Seed]:
    """One seed per EmpatheticDialogues conversation: its prompt and label."""
    from kardia.data.importers import read_ed_conversations

    seeds = []
    for conv in read_ed_conversations(path):
        if conv["emotion"] not in EMOTIONS:
            raise SeedError(f"{path}: conversation {conv['conv_id']}: label {conv['emotion']!r} is not one of the 32")
        seeds.append(Seed(conv["prompt"], conv["emotion"], f"ed:{conv['conv_id']}"))
    return seeds


def esconv_seeds(path: str | Path) -> list[Seed]:
    """One seed per ESConv conversation: its situation and its emotion type mapped by `ESCONV_EMOTIONS`."""
    path = Path(path)
    if path.is_dir():
        raise SeedError(f"{path}: is a folder; pass one ESConv file such as {path / 'valid.txt'}")
    seeds = []
    for number, obj in _jsonl(path):
        situation = _text_field(path, number, obj, "situation")
        kind = str(obj.get("emotion_type", "")).strip().lower()
        if kind not in ESCONV_EMOTIONS:
            raise SeedError(f"{path}:{number}: field 'emotion_type' is {kind!r}, not one of {sorted(ESCONV_EMOTIONS)}")
        seeds.append(Seed(situation, ESCONV_EMOTIONS[kind], f"esconv:{path.stem}:{number}"))
    return seeds


@dataclass(frozen=True)
class Pair:
    """One dialogue to build: a persona in a seed's scenario."""

    persona: Persona
    seed: Seed

    def key(self) -> str:
        """A hash of the pair's content (the dialogue id adds the build settings to it)."""
        payload = json.dumps([self.persona.person, self.seed.situation, self.seed.emotion], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def pair_up(personas: Sequence[Persona], seeds: Sequence[Seed], *, per_seed: int = 1) -> list[Pair]:
    """Each seed with `per_seed` personas, taken in turn (seed i starts at persona i * per_seed).

    Deterministic, so a re-run builds the same pairs; `per_seed = len(personas)` is the full product.
    """
    if not personas or not seeds:
        raise ValueError("need at least one persona and one seed")
    if not 1 <= per_seed <= len(personas):
        raise ValueError(f"per_seed must be between 1 and the number of personas ({len(personas)}), not {per_seed}")
    return [
        Pair(personas[(i * per_seed + k) % len(personas)], seed)
        for i, seed in enumerate(seeds)
        for k in range(per_seed)
    ]
