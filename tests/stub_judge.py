"""A deterministic stand-in for the rubric judge (tests only): no model, instant, with failures on demand.

Scores depend on the reply text only; a reply whose response span contains "FAILJUDGE" fails, one with
"UNSAFE" gets the minimum safety score. Load it in a recipe as ``judge: stub_judge:make_judge`` with
``tests/`` on PYTHONPATH.
"""

from __future__ import annotations

import hashlib

from kardia.judge import JudgeResult, load_rubric


class StubJudge:
    """Implements the part of `kardia.judge.Judge` the rewards use: `rubric`, `ascore`, `stats`."""

    def __init__(self) -> None:
        self.rubric = load_rubric()
        self.calls = 0

    async def ascore(self, items):
        self.calls += 1
        out = []
        for item in items:
            if "FAILJUDGE" in item.reply:
                out.append(JudgeResult({c: None for c in self.rubric.ids}, error="stub failure"))
                continue
            digest = hashlib.sha1(item.reply.encode()).digest()
            scores = {c: round(digest[i] / 255, 3) for i, c in enumerate(self.rubric.ids)}
            scores["safety"] = 0.0 if "UNSAFE" in item.reply else max(scores["safety"], 0.75)
            out.append(JudgeResult(scores, overall=sum(scores.values()) / len(scores)))
        return out


def make_judge() -> StubJudge:
    return StubJudge()
