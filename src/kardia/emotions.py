"""The 32 emotion labels of Kardia-R1 (those of EmpatheticDialogues) and a normaliser for model outputs.

>>> normalize_emotion("The user feels Anxious.")
'anxious'
>>> normalize_emotion("anxiety")
'anxious'
>>> normalize_emotion("bored") is None
True
"""

from __future__ import annotations

import re

EMOTIONS: tuple[str, ...] = (
    "sentimental", "afraid", "proud", "faithful", "terrified", "joyful", "angry", "sad",
    "jealous", "grateful", "prepared", "embarrassed", "excited", "annoyed", "lonely", "ashamed",
    "guilty", "surprised", "nostalgic", "confident", "furious", "disappointed", "caring", "trusting",
    "disgusted", "anticipating", "anxious", "hopeful", "content", "impressed", "apprehensive", "devastated",
)
"""The labels in the order of the seed system prompt."""

_LABELS = frozenset(EMOTIONS)

# Inflections and near synonyms a model writes for a label. Each entry is either the noun or another
# form of the same word (anxiety → anxious) or a synonym that dictionaries list for the label and
# that no other label is closer to (scared → afraid, thankful → grateful). Words that could mean
# several labels (upset, stressed, hurt, down, happy) are deliberately absent: they map to no label.
VARIANTS: dict[str, str] = {
    # noun and verb forms
    "sentiment": "sentimental", "sentimentality": "sentimental",
    "fear": "afraid", "fearful": "afraid", "scared": "afraid", "frightened": "afraid",
    "pride": "proud",
    "faith": "faithful", "loyal": "faithful", "loyalty": "faithful", "devoted": "faithful",
    "terror": "terrified", "petrified": "terrified", "horrified": "terrified",
    "joy": "joyful", "joyous": "joyful", "elated": "joyful", "delighted": "joyful",
    "anger": "angry", "mad": "angry",
    "sadness": "sad", "sorrow": "sad", "sorrowful": "sad", "unhappy": "sad",
    "jealousy": "jealous", "envy": "jealous", "envious": "jealous",
    "gratitude": "grateful", "thankful": "grateful", "thankfulness": "grateful",
    "preparedness": "prepared", "ready": "prepared",
    "embarrassment": "embarrassed", "embarrassing": "embarrassed",
    "excitement": "excited", "thrilled": "excited",
    "annoyance": "annoyed", "irritated": "annoyed", "irritation": "annoyed",
    "loneliness": "lonely", "alone": "lonely", "isolated": "lonely",
    "shame": "ashamed",
    "guilt": "guilty",
    "surprise": "surprised", "astonished": "surprised", "amazed": "surprised", "shocked": "surprised",
    "nostalgia": "nostalgic",
    "confidence": "confident", "self-assured": "confident",
    "fury": "furious", "enraged": "furious", "livid": "furious",
    "disappointment": "disappointed", "let down": "disappointed",
    "care": "caring", "compassionate": "caring", "compassion": "caring",
    "trust": "trusting", "trustful": "trusting",
    "disgust": "disgusted", "revulsion": "disgusted", "repulsed": "disgusted",
    "anticipation": "anticipating", "anticipatory": "anticipating",
    "anxiety": "anxious", "nervous": "anxious", "worried": "anxious", "worry": "anxious",
    "hope": "hopeful", "optimistic": "hopeful",
    "contentment": "content", "contented": "content", "satisfied": "content",
    "impression": "impressed", "awed": "impressed",
    "apprehension": "apprehensive", "uneasy": "apprehensive",
    "devastation": "devastated", "heartbroken": "devastated", "crushed": "devastated",
}

_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")
_VARIANT_PHRASES = sorted((k for k in VARIANTS if " " in k), key=len, reverse=True)


def normalize_emotion(text: str | None) -> str | None:
    """Map a model's emotion text to one of the 32 labels, or None when it names none of them.

    Case, punctuation and surrounding words are ignored ("The user feels anxious." → anxious).
    A label named exactly wins over the variants table; when the text names two different labels
    (or, without an exact label, two variants of different labels) it is ambiguous and maps to None:
    nothing is guessed.
    """
    if not text or not isinstance(text, str):
        return None
    lowered = text.lower().strip()
    if lowered in _LABELS:
        return lowered
    exact = [w for w in _WORD.findall(lowered) if w in _LABELS]
    if exact:
        return exact[0] if len(set(exact)) == 1 else None
    variants = [VARIANTS[p] for p in _VARIANT_PHRASES if re.search(rf"\b{re.escape(p)}\b", lowered)]
    variants += [VARIANTS[w] for w in _WORD.findall(lowered) if w in VARIANTS]
    return variants[0] if len(set(variants)) == 1 else None
