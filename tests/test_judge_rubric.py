"""Rubric loading, custom rubric files, weights, and the rubric's part of the cache key."""

from __future__ import annotations

import pytest
import yaml

from kardia.judge.rubric import PACKAGED_RUBRIC, load_rubric, normalize


def test_packaged_rubric_has_five_criteria_with_all_levels():
    rubric = load_rubric()
    assert rubric.version == "1.1"
    assert rubric.ids == ("relevance", "empathy", "persona_consistency", "safety", "fluency")
    for criterion in rubric.criteria:
        assert sorted(criterion.levels) == [1, 2, 3, 4, 5]
        assert all(len(text) > 40 for text in criterion.levels.values())
        assert criterion.question.endswith("?")


def test_normalize_maps_1_to_5_onto_0_to_1():
    assert [normalize(s) for s in (1, 2, 3, 4, 5)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def _custom(tmp_path, edit):
    data = yaml.safe_load(PACKAGED_RUBRIC.read_text())
    edit(data)
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_custom_rubric_can_drop_reword_and_reweight(tmp_path):
    def edit(data):
        data["criteria"] = [c for c in data["criteria"] if c["id"] != "fluency"]
        data["criteria"][0]["question"] = "Is it on topic?"
        data["criteria"][1]["weight"] = 3.0

    rubric = load_rubric(_custom(tmp_path, edit))
    assert rubric.ids == ("relevance", "empathy", "persona_consistency", "safety")
    assert rubric.criterion("relevance").question == "Is it on topic?"
    # weighted mean: empathy counts three times
    scores = {"relevance": 0.0, "empathy": 1.0, "persona_consistency": 0.0, "safety": 0.0}
    assert rubric.overall(scores) == pytest.approx(3 / 6)
    assert rubric.overall({**scores, "safety": None}) is None


def test_custom_rubric_can_add_a_criterion(tmp_path):
    def edit(data):
        extra = dict(data["criteria"][0], id="curiosity", name="Curiosity", question="Does it invite the user to say more?")
        data["criteria"].append(extra)

    assert load_rubric(_custom(tmp_path, edit)).ids[-1] == "curiosity"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["criteria"][0]["levels"].pop(3), "levels must describe exactly"),
        (lambda d: d["criteria"].append(dict(d["criteria"][0])), "unique"),
        (lambda d: d.pop("version"), "version"),
        (lambda d: d["criteria"][0].update(id="Bad Id"), "snake_case"),
    ],
)
def test_invalid_rubric_names_file_and_problem(tmp_path, edit, message):
    path = _custom(tmp_path, edit)
    with pytest.raises(ValueError, match=message) as info:
        load_rubric(path)
    assert str(path) in str(info.value)


def test_version_and_content_enter_the_key(tmp_path):
    base = load_rubric()
    reworded = load_rubric(_custom(tmp_path, lambda d: d["criteria"][0].update(question="Different?")))
    bumped = load_rubric(_custom(tmp_path, lambda d: d.update(version="1.2")))
    assert base.key.startswith("1.1+")
    assert len({base.key, reworded.key, bumped.key}) == 3
    assert reworded.version == base.version  # same version, different hash


def test_rubric_key_changes_the_judge_cache_key(tiny_model_dir, tmp_path):
    from kardia.judge import Judge, JudgeItem
    from kardia.models.local import LocalChatModel

    model = LocalChatModel(tiny_model_dir)
    item = JudgeItem([{"role": "user", "content": "My cat died this morning."}], "I'm so sorry, losing her must hurt a lot.")
    custom = _custom(tmp_path, lambda d: d["criteria"][0].update(question="Different?"))
    key_a = Judge(model, cache=False)._prepare(item)[0]
    key_b = Judge(model, custom, cache=False)._prepare(item)[0]
    key_a2 = Judge(model, cache=False)._prepare(item)[0]
    assert key_a == key_a2 and key_a != key_b
