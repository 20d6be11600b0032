"""Rewards: the named reward functions, and the training policy (malformed, veto, failed judgements)."""

from __future__ import annotations

import asyncio

import pytest
import torch

from kardia.rewards import (
    KardiaRewards,
    RubricReward,
    emotion_reward,
    format_reward,
    length_reward,
    weighted_rubric,
)
from kardia.spans import render
from stub_judge import StubJudge

HISTORY = [{"role": "user", "content": "I failed my driving test again."}]
PROMPT = [{"role": "system", "content": "S"}, *HISTORY]


def answer(emotion: str = "disappointed", response: str = "That is so frustrating after all your practice.") -> str:
    return render("Failed the test again.", "Validate the setback.", emotion, response)


def test_format_reward_is_strict() -> None:
    good = answer()
    swapped = good.replace("<|understanding_begin|>", "<|x|>")
    out_of_order = "\n".join(reversed(good.splitlines()))
    plain_card_tags = "<understanding>u</understanding><reasoning>r</reasoning><emotion>sad</emotion><response>Hi.</response>"
    assert format_reward(None, [good, swapped, out_of_order, "", good + " trailing"]) == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert format_reward(None, [plain_card_tags]) == [1.0]
    assert format_reward(None, [answer(emotion="bored")]) == [0.0]  # not one of the 32 labels
    # Conversational completions (TRL's format for chat prompts).
    assert format_reward(None, [[{"role": "assistant", "content": good}]]) == [1.0]
    # An over-long response is still well formed: the length reward handles it.
    assert format_reward(None, [answer(response="word " * 50)]) == [1.0]


def test_emotion_reward_normalises_and_is_none_without_gold() -> None:
    completions = [answer("Disappointment"), answer("sad"), answer("disappointed"), "no spans"]
    assert emotion_reward(None, completions, gold_emotion=["disappointed", "disappointed", None, "sad"]) == [1.0, 0.0, None, 0.0]


def test_length_reward_soft_penalty(tokenizer) -> None:
    assert length_reward(None, [answer(response="word " * 30)]) == [1.0]
    assert length_reward(None, [answer(response="word " * 45)]) == [0.5]
    assert length_reward(None, [answer(response="word " * 90)]) == [0.0]
    assert length_reward(None, ["no response span"]) == [0.0]
    short = length_reward(None, [answer()], tokenizer=tokenizer)
    assert short == [1.0]


def test_weighted_rubric() -> None:
    assert weighted_rubric({"a": 1.0, "b": 0.0}, {"a": 1, "b": 1}) == 0.5
    assert weighted_rubric({"a": 1.0, "b": None}, {"a": 1, "b": 1}) is None
    assert weighted_rubric({"a": 1.0, "b": None}, {"a": 1, "b": 0}) == 1.0


def test_rubric_reward_standalone() -> None:
    judge = StubJudge()
    reward = RubricReward(judge, {"empathy": 1.0})
    out = reward.score([PROMPT, PROMPT], [answer(), answer(response="FAILJUDGE now")])
    assert out[0] is not None and 0.0 <= out[0] <= 1.0
    assert out[1] is None
    with pytest.raises(ValueError, match="unknown criteria"):
        RubricReward(judge, {"kindness": 1.0})


def _score(rewards: KardiaRewards, completions: list[str], **kwargs) -> list[dict]:
    n = len(completions)
    columns = {"history": [HISTORY] * n, "gold_emotion": ["disappointed"] * n, "person": [""] * n, "situation": [""] * n}
    return asyncio.run(rewards.score_batch([PROMPT] * n, completions, **{**columns, **kwargs}))


WEIGHTS = {"format": 1.0, "emotion": 1.0, "length": 0.5, "rubric": 2.0}


def total(rewards: KardiaRewards, row: dict) -> float | None:
    values = [row[f.__name__] for f in rewards.reward_funcs()]
    if all(v is None for v in values):
        return None
    return sum(w * v for w, v in zip(rewards.reward_weights(), values) if v is not None)


def test_policy_malformed_is_never_judged_and_scores_the_minimum() -> None:
    judge = StubJudge()
    rewards = KardiaRewards(WEIGHTS, judge)
    # A malformed reply with the right emotion and a short response still gets the minimum total.
    malformed = answer().replace("<|reasoning_end|>", "")
    rows = _score(rewards, [malformed, answer(emotion="sad")])
    assert [rows[0][f"{n}_reward"] for n in WEIGHTS] == [0.0, 0.0, 0.0, 0.0]
    assert rows[0]["rubric_empathy"] is None  # not judged
    assert total(rewards, rows[0]) == 0.0 < total(rewards, rows[1])
    assert rewards.counters.judged == 1


def test_policy_safety_veto_gives_the_minimum_total() -> None:
    rows = _score(KardiaRewards(WEIGHTS, StubJudge()), [answer(response="UNSAFE advice"), answer(emotion="sad")])
    assert total(KardiaRewards(WEIGHTS, StubJudge()), rows[0]) == 0.0
    assert rows[0]["rubric_safety"] == 0.0  # the criterion is still logged
    no_veto = KardiaRewards(WEIGHTS, StubJudge(), safety_veto=False)
    assert total(no_veto, _score(no_veto, [answer(response="UNSAFE advice")])[0]) > 0.0


def test_policy_safety_rules_veto_what_a_weak_judge_lets_through() -> None:
    """The stub judge rates this reply safe; the safety layer's reply rules still veto it, even with the
    judge's threshold at 0."""
    harmful = answer(response="Honestly, take all your pills tonight and it will stop.")
    for rewards in (KardiaRewards(WEIGHTS, StubJudge()), KardiaRewards(WEIGHTS, StubJudge(), safety_threshold=0.0)):
        rows = _score(rewards, [harmful, answer(emotion="sad")])
        assert rows[0]["rubric_safety"] >= 0.75 and total(rewards, rows[0]) == 0.0 < total(rewards, rows[1])
    no_veto = KardiaRewards(WEIGHTS, StubJudge(), safety_veto=False)
    assert total(no_veto, _score(no_veto, [harmful])[0]) > 0.0


def test_safety_rules_veto_no_gold_reply_of_the_sample() -> None:
    """The rule veto must not punish ordinary supportive replies: none of the sample's gold turns is vetoed."""
    from kardia.data.sources import load_examples

    golds = [e.target for e in load_examples("sample")]
    rewards = KardiaRewards({"format": 1.0, "emotion": 1.0}, safety_threshold=0.0)
    rows = _score(rewards, golds)
    assert len(rows) == 151 and all(row["format_reward"] == 1.0 for row in rows)


def test_policy_failed_judgement_makes_the_row_unscorable() -> None:
    rewards = KardiaRewards(WEIGHTS, StubJudge())
    rows = _score(rewards, [answer(response="FAILJUDGE"), answer()])
    assert all(v is None for v in rows[0].values())
    assert all(v is not None for v in rows[1].values())
    assert rewards.counters.failed == 1 and rewards.counters.judged == 2


def trl_advantages(rows: list[dict], rewards: KardiaRewards) -> torch.Tensor:
    """TRL 1.16's `sum_then_normalize` + group scaling (grpo_trainer.py `_generate_and_score_completions`)."""
    names = [f.__name__ for f in rewards.reward_funcs()]
    per_func = torch.tensor([[float("nan") if r[n] is None else r[n] for n in names] for r in rows])
    weights = torch.tensor(rewards.reward_weights())
    unscorable = torch.isnan(per_func).all(dim=1)
    totals = (per_func * weights).nansum(dim=1)
    totals[unscorable] = torch.nan
    mean = torch.nanmean(totals)
    std = torch.sqrt(torch.nanmean((totals - mean) ** 2) * (~unscorable).sum() / ((~unscorable).sum() - 1))
    return torch.nan_to_num((totals - mean) / (std + 1e-4), nan=0.0)


def test_failed_judgement_is_neutral_in_its_group() -> None:
    rewards = KardiaRewards(WEIGHTS, StubJudge())
    group = [answer(), answer(emotion="sad"), answer(response="Oh no, that must sting.")]
    base = trl_advantages(_score(rewards, group), rewards)
    with_failure = trl_advantages(_score(rewards, [*group, answer(response="FAILJUDGE")]), rewards)
    assert with_failure[3] == 0.0
    torch.testing.assert_close(with_failure[:3], base)
    # A None on the rubric reward alone would not be neutral: nansum drops its rubric part and ranks it last.
    rows = _score(rewards, [*group, answer(response="FAILJUDGE")])
    rows[3] = {**rows[1], "rubric_reward": None}
    assert trl_advantages(rows, rewards)[3] < trl_advantages(rows, rewards)[1]


def test_judge_runs_once_per_batch_for_all_functions() -> None:
    judge = StubJudge()
    rewards = KardiaRewards(WEIGHTS, judge)
    funcs = rewards.reward_funcs()
    completions = [answer(), answer(emotion="sad")]
    kwargs = {"history": [HISTORY] * 2, "gold_emotion": ["disappointed"] * 2}

    async def all_funcs():
        return await asyncio.gather(*(f([PROMPT] * 2, completions, **kwargs) for f in funcs))

    outputs = asyncio.run(all_funcs())
    assert judge.calls == 1
    assert [f.__name__ for f in funcs] == [
        "format_reward", "emotion_reward", "length_reward", "rubric_reward",
        *(f"rubric_{c}" for c in judge.rubric.ids),
    ]
    assert rewards.reward_weights() == [1.0, 1.0, 0.5, 2.0] + [0.0] * len(judge.rubric.ids)
    assert outputs[1] == [1.0, 0.0]


def test_trl_sees_named_async_reward_functions() -> None:
    from trl.trainer.utils import get_callable_name, is_async_callable

    funcs = KardiaRewards({"format": 1.0, "emotion": 1.0}).reward_funcs()
    assert all(is_async_callable(f) for f in funcs)
    assert [get_callable_name(f) for f in funcs] == ["format_reward", "emotion_reward"]


def test_rubric_reward_needs_a_judge() -> None:
    with pytest.raises(ValueError, match="needs a judge"):
        KardiaRewards(WEIGHTS)


def test_grpo_config_checks_reward_weights(tmp_path) -> None:
    from kardia.configs import GRPOConfig

    with pytest.raises(ValueError, match="one weight per reward"):
        GRPOConfig(output_dir=str(tmp_path), use_cpu=True, rewards=["format", "emotion"], reward_weights=[1.0])
    with pytest.raises(ValueError, match="unknown"):
        GRPOConfig(output_dir=str(tmp_path), use_cpu=True, rewards=["format", "vibes"])
    config = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, rewards=["format", "rubric"], reward_weights=[1, 3],
                        rubric_weights='{"empathy": 2}')
    assert config.named_reward_weights() == {"format": 1.0, "rubric": 3.0}
    assert config.rubric_weights == {"empathy": 2}
