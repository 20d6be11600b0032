"""Privacy of built dialogues: pseudonymous user ids and scrubbing of contact details.

Every dialogue gets ``anon_username = "user_" + HMAC-SHA256(salt, profile)[:12]``: stable for one
profile within a build (so splits by persona work) and not reversible without the salt, which is
generated once per output folder and kept in its manifest.

`scrub` replaces e-mail addresses, URLs, phone numbers and @handles with ``[email]``, ``[url]``,
``[phone]`` and ``[handle]``. Phone numbers are found by `phonenumbers` (the Python port of Google's
libphonenumber, pure Python, maintained): hand-written phone regexes either miss international formats
or eat dates and prices. The other three have simple, well-defined shapes and use the regexes below.
`scrubadub` was considered and not used: its last release (2.0.1) pins ``textblob==0.15.3`` and pulls
nltk, faker and dateparser for these four detectors.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

PLACEHOLDERS = {"email": "[email]", "url": "[url]", "phone": "[phone]", "handle": "[handle]"}
PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "IN", "DE", "FR", "NG", "BR", "KR", "JP", "AU", "PT", "MX")
"""Regions whose national number formats are recognised (numbers written with +CC are found for any region)."""

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_TLDS = "com|org|net|edu|gov|io|ai|co|me|info|biz|app|dev|ly|tv|uk|de|fr|pt|br|in|ng|kr|jp|au|ca|us|eu|ru|cn|es|it|nl"
_URL = re.compile(
    rf"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"']+"
    rf"|\b(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?")
_TRAILING_PUNCT = ".,;:!?)]}'\""


def new_salt() -> str:
    """A fresh random salt (32 hex digits)."""
    return secrets.token_hex(16)


def anon_username(profile: str, salt: str) -> str:
    """The pseudonymous id of a profile: ``user_`` + the first 12 hex digits of HMAC-SHA256(salt, profile).

    Whitespace differences do not change the id.

    >>> anon_username("MBTI: INFP", "s") == anon_username("MBTI:  INFP ", "s")
    True
    """
    if not salt:
        raise ValueError("a salt is required: without one the id is an unsalted hash of the profile")
    canonical = " ".join(profile.split())
    digest = hmac.new(salt.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"user_{digest[:12]}"


def _phone_spans(text: str, regions: Sequence[str]) -> list[tuple[int, int]]:
    import phonenumbers

    spans: list[tuple[int, int]] = []
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            spans.append((match.start, match.end))
    return spans


def _replace_spans(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + placeholder + text[end:]
    return text


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in _TRAILING_PUNCT:
            end -= 1
        spans.append((m.start(), end))
    return spans


def scrub(text: str, *, regions: Sequence[str] = PHONE_REGIONS) -> str:
    """`text` with e-mail addresses, URLs, phone numbers and @handles replaced by placeholders.

    >>> scrub("Mail me at ana.reis@example.pt or call +351 912 345 678, see https://ana.blog/x @ana_r!")
    'Mail me at [email] or call [phone], see [url] [handle]!'
    """
    if not text:
        return text
    text = _EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _replace_spans(text, _url_spans(text), PLACEHOLDERS["url"])
    text = _replace_spans(text, _phone_spans(text, regions), PLACEHOLDERS["phone"])
    return _HANDLE.sub(PLACEHOLDERS["handle"], text)
