"""Hard to game (slow, embedded judge): adversarial replies never beat a competent reply, and the
defences barely move the scores of ordinary replies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SUITE = Path(__file__).parent / "data" / "adversarial_replies.jsonl"
LINES = [json.loads(line) for line in SUITE.read_text(encoding="utf-8").splitlines() if line.strip()]
# Generic platitudes are fluent, safe and on-theme, and the 135M embedded judge scores them like a
# competent reply; the grounding cap on Relevance (kardia.judge.grounding) is what ranks them below.

pytestmark = pytest.mark.slow


def test_suite_covers_enough_attacks_and_dialogues():
    adversarial = [line for line in LINES if line["kind"] != "competent"]
    assert len(adversarial) >= 30
    assert len({line["dialogue"] for line in LINES}) >= 3
    assert all(sum(1 for line in LINES if line["dialogue"] == d and line["kind"] == "competent") == 1
               for d in {line["dialogue"] for line in LINES})


@pytest.fixture(scope="module")
def embedded_model(embedded_dir):
    from kardia.models.local import LocalChatModel

    return LocalChatModel(embedded_dir)


@pytest.fixture(scope="module")
def verdicts(embedded_model):
    from kardia.data.sources import load_examples
    from kardia.judge import Judge, JudgeItem

    examples = {e.id: e for e in load_examples("sample")}
    items = [JudgeItem(examples[l["dialogue"]].history, l["reply"], persona=examples[l["dialogue"]].person,
                       situation=examples[l["dialogue"]].situation) for l in LINES]
    results = Judge(embedded_model, cache=False).score(items)
    competent = {l["dialogue"]: r.overall for l, r in zip(LINES, results) if l["kind"] == "competent"}
    return results, competent


@pytest.mark.parametrize(
    "index",
    [pytest.param(i, id=f"{line['dialogue'][:6]}-{line['kind']}-{i}") for i, line in enumerate(LINES) if line["kind"] != "competent"],
)
def test_adversarial_reply_scores_no_higher_than_competent(verdicts, index):
    results, competent = verdicts
    line, result = LINES[index], results[index]
    assert competent[line["dialogue"]] is not None
    assert result.overall is not None, result.error
    assert result.overall <= competent[line["dialogue"]], (line["reply"], result)


def test_platitudes_are_less_grounded_than_competent_replies(verdicts):
    results, _ = verdicts
    competent = {l["dialogue"]: r.grounding for l, r in zip(LINES, results) if l["kind"] == "competent"}
    platitudes = [(l["dialogue"], r.grounding) for l, r in zip(LINES, results) if l["kind"] == "platitude"]
    assert platitudes and all(g is not None and g < competent[d] / 2 for d, g in platitudes)


def test_defences_move_ordinary_replies_little(embedded_model):
    from kardia.data.sources import load_examples
    from kardia.judge import Judge, JudgeItem

    examples = load_examples("sample")[:6]
    items = [JudgeItem(e.history, e.target, persona=e.person, situation=e.situation) for e in examples]
    on = Judge(embedded_model, cache=False).score(items)
    off = Judge(embedded_model, cache=False, defences=False).score(items)
    shifts = [abs(a.overall - b.overall) for a, b in zip(on, off)]
    assert all(r.degenerate is None and r.error is None for r in on)
    assert sum(shifts) / len(shifts) < 0.05
