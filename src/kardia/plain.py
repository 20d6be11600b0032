"""Parse the `--mode plain` answer format: two labelled lines, ``Emotion: X`` and ``Reply: Y``.

Models not trained on the span format (baselines, API models) are asked for this format. The result
is a `Spans` with understanding and reasoning None, so plain and span outputs share one evaluation path.

>>> s = parse_plain("Emotion: Sad\\nReply: I'm sorry, that sounds hard.")
>>> s.emotion, s.response, s.codes()
('Sad', "I'm sorry, that sounds hard.", [])
"""

from __future__ import annotations

import re

from kardia.emotions import normalize_emotion
from kardia.spans import MAX_RESPONSE_TOKENS, Problem, Spans, Tokenizer, count_tokens

_LINE = re.compile(r"^\s*[*_#>\-\s]*(?P<key>emotion|reply|response)\s*[*_]*\s*[:：]\s*[*_]*\s*(?P<value>.*)$", re.IGNORECASE)


def parse_plain(text: object, *, tokenizer: Tokenizer | None = None, max_response_tokens: int = MAX_RESPONSE_TOKENS) -> Spans:
    """Emotion and reply from a plain-mode answer; never raises.

    The keys are case-insensitive and may carry Markdown emphasis (``**Emotion:**``); ``Response:`` is
    accepted for ``Reply:``. A reply may continue over the following lines. Problems use the span codes:
    ``missing_span``, ``empty_span``, ``unknown_emotion``, ``response_too_long``.
    """
    lines = text.splitlines() if isinstance(text, str) else []
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines:
        match = _LINE.match(line)
        if match:
            key = "emotion" if match.group("key").lower() == "emotion" else "response"
            current = None if key in found else key
            if current:
                found[current] = [match.group("value").strip()]
        elif current == "response" and line.strip():
            found["response"].append(line.strip())
    emotion = " ".join(found["emotion"]).strip().strip("*_.").strip() if "emotion" in found else None
    response = " ".join(found["response"]).strip() if "response" in found else None
    problems: list[Problem] = []
    for name, value, key in (("emotion", emotion, "Emotion"), ("response", response, "Reply")):
        if value is None:
            problems.append(Problem("missing_span", name, f"no '{key}:' line"))
        elif not value:
            problems.append(Problem("empty_span", name, f"the '{key}:' line is empty"))
    if emotion and normalize_emotion(emotion) is None:
        problems.append(Problem("unknown_emotion", "emotion", f"{emotion[:40]!r} is not one of the 32 labels"))
    if response:
        n = count_tokens(response, tokenizer)
        if n > max_response_tokens:
            unit = "tokens" if tokenizer is not None else "words"
            problems.append(Problem("response_too_long", "response", f"the reply has {n} {unit} (limit {max_response_tokens})"))
    return Spans(emotion=emotion or None, response=response or None, problems=problems)
