"""Context grounding: the ceiling, which criteria it caps, and how the judge measures, caches and applies it."""

from __future__ import annotations

import pytest

from kardia.judge import Judge, JudgeItem, load_rubric, normalize
from kardia.judge.grounding import capped, grounding_ceiling

HISTORY = [{"role": "user", "content": "My sister is moving to Lisbon next month and I already miss her."}]
REPLIES = ["Lisbon is far, and missing her before she has even left makes sense.", "Everything happens for a reason.", "Okay then."]


def items() -> list[JudgeItem]:
    return [JudgeItem(HISTORY, reply, persona="MBTI: INFP", situation="Sister moving abroad") for reply in REPLIES]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from kardia.models.local import LocalChatModel

    return LocalChatModel(tiny_model_dir)


@pytest.mark.parametrize(("grounding", "ceiling"), [(-4.0, 0.0), (0.0, 0.0), (4.0, 0.25), (16.0, 1.0), (40.0, 1.0)])
def test_ceiling_is_grounding_over_full_nats_clipped(grounding, ceiling):
    assert grounding_ceiling(grounding, 16.0) == ceiling


def test_only_grounded_criteria_are_capped_and_never_raised():
    rubric = load_rubric()
    scores = {"relevance": 0.6, "empathy": 0.6, "persona_consistency": 0.6, "safety": 0.6, "fluency": None}
    assert capped(scores, rubric, 4.0, 16.0) == {**scores, "relevance": 0.25}
    assert capped({**scores, "relevance": 0.1}, rubric, 4.0, 16.0)["relevance"] == 0.1
    assert capped(scores, rubric, None, 16.0) == scores
    assert capped(scores, rubric, 4.0, None) == scores


def test_packaged_rubric_grounds_relevance_only():
    assert [c.id for c in load_rubric().criteria if c.grounded] == ["relevance"]


def test_judge_caps_relevance_by_the_measured_grounding(tiny):
    judge = Judge(tiny, cache=False, grounding_nats=16.0)
    assert judge.describe()["grounding_nats"] == 16.0
    for result in judge.score(items()):
        assert result.grounding is not None
        assert result.scores["relevance"] == pytest.approx(min(normalize(result.raw["relevance"]), grounding_ceiling(result.grounding, 16.0)))
        for criterion in ("empathy", "persona_consistency", "safety", "fluency"):
            assert result.scores[criterion] == pytest.approx(normalize(result.raw[criterion]))


def test_unshared_path_measures_the_same_grounding(tiny):
    shared = Judge(tiny, cache=False).score(items())
    judge = Judge(tiny, cache=False)
    judge._scorer.shared = False  # as for models whose cache layers cannot share a padded prefix
    for a, b in zip(shared, judge.score(items())):
        assert a.grounding == pytest.approx(b.grounding, abs=1e-3)
        assert a.raw == pytest.approx(b.raw, abs=1e-3)


def test_grounding_off_measures_nothing_and_caps_nothing(tiny, tmp_path):
    judge = Judge(tiny, cache=False, grounding_nats=None)
    results = judge.score(items())
    assert judge.describe()["grounding_nats"] is None
    assert all(r.grounding is None for r in results)
    assert all(r.scores[c] == pytest.approx(normalize(r.raw[c])) for r in results for c in r.raw)
    rubric = tmp_path / "rubric.yaml"
    import yaml

    data = yaml.safe_load(load_rubric().model_dump_json())
    for criterion in data["criteria"]:
        criterion["grounded"] = False
    rubric.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert all(r.grounding is None for r in Judge(tiny, rubric, cache=False).score(items()))
    with pytest.raises(ValueError, match="grounding_nats"):
        Judge(tiny, cache=False, grounding_nats=0.0)


def test_grounding_is_cached_with_the_verdict_and_the_cap_applied_on_reading(tiny, tmp_path):
    first = Judge(tiny, cache=tmp_path / "judge.sqlite").score(items())
    again = Judge(tiny, cache=tmp_path / "judge.sqlite", grounding_nats=1e6).score(items())
    assert all(r.cached for r in again)
    for a, b in zip(first, again):
        assert b.grounding == a.grounding
        assert b.raw == a.raw
        assert b.scores["relevance"] == pytest.approx(min(normalize(b.raw["relevance"]), grounding_ceiling(b.grounding, 1e6)))
