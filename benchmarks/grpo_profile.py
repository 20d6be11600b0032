"""Where a GRPO step's time goes on this CPU: generation, rewards (the judge) and the optimiser step.

Runs a few GRPO steps of `kardia.grpo` (TRL's GRPOTrainer) with the embedded model as policy and as judge,
timing the trainer's own methods: `_generate` (sampling the completions), `_calculate_rewards` (all reward
functions, judge included), the optimiser step (`on_pre_optimizer_step` → `on_optimizer_step`) and the
whole step (`on_step_begin` → `on_step_end`). Then it compares Kardia's rewards with the naive way in the
same run: every reward function calling the judge itself, one reply at a time, malformed replies included.

    .venv/bin/python benchmarks/grpo_profile.py --model outputs/demo/sft --steps 3

The target is rewards under 30% of step time. Use an SFT checkpoint as policy: the base model's replies are
malformed, so the judge would (correctly) never run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


class StepTimer(TrainerCallback):
    """Wall time of whole steps and optimiser steps."""

    def __init__(self, totals: dict[str, list[float]]) -> None:
        self.totals = totals
        self._step = self._opt = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._step = time.perf_counter()

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        self._opt = time.perf_counter()

    def on_optimizer_step(self, args, state, control, **kwargs):
        self.totals["optimizer_step"].append(time.perf_counter() - self._opt)

    def on_step_end(self, args, state, control, **kwargs):
        self.totals["step"].append(time.perf_counter() - self._step)


def timed(obj: Any, name: str, totals: dict[str, list[float]], key: str) -> None:
    """Wrap ``obj.name`` so each call's wall time is appended to ``totals[key]``."""
    original = getattr(obj, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key].append(time.perf_counter() - started)

    setattr(obj, name, wrapper)


def naive_judge_funcs(judge: Any, criteria: list[str]) -> list[Any]:
    """The naive way: the rubric reward and each criterion logger call the judge themselves, one reply per
    call, sequentially, malformed replies included."""
    from kardia.rewards import RubricReward, _dialogue, judge_items, weighted_rubric

    weights = RubricReward(judge).weights

    def make(criterion: str | None):
        def reward(prompts, completions, person=None, situation=None, **kwargs):
            out = []
            for i, (p, c) in enumerate(zip(prompts, completions)):
                items = judge_items([c], [_dialogue(p)], _one(person, i), _one(situation, i))
                result = asyncio.run(judge.ascore(items))[0]
                if result.error:
                    out.append(None)
                else:
                    out.append(result.scores.get(criterion) if criterion else weighted_rubric(result.scores, weights))
            return out

        reward.__name__ = f"rubric_{criterion}" if criterion else "rubric_reward"
        return reward

    return [make(None), *(make(c) for c in criteria)]


def _one(values: Any, i: int) -> list[Any] | None:
    return [values[i]] if values else None


def profile(model: str, steps: int, naive: bool, out_dir: Path) -> dict[str, Any]:
    from trl import GRPOTrainer, ModelConfig

    from kardia.configs import GRPOConfig
    from kardia.grpo import build_rewards
    from kardia.judge import load_judge
    from kardia.rewards import emotion_reward, format_reward, length_reward
    from kardia.training import grpo_dataset, load_model_and_tokenizer, split_examples

    config = GRPOConfig(
        output_dir=str(out_dir), use_cpu=True, bf16=False, activation_checkpointing=False, report_to="none",
        num_generations=4, per_device_train_batch_size=4, max_completion_length=160, temperature=0.8,
        max_steps=steps, logging_steps=1, save_strategy="no", learning_rate=1e-6, seed=0,
        rewards=["format", "emotion", "length", "rubric"], reward_weights=[1.0, 1.0, 0.5, 2.0], format_eval_examples=0,
        safety_threshold=0.0,  # as in the SmolLM2 recipe: the 135M judge's safety score does not veto
    )
    model_args = ModelConfig(model_name_or_path=model, dtype="float32")
    policy, tokenizer, _ = load_model_and_tokenizer(model_args)
    train, _, _ = split_examples(config)
    judge = load_judge("default", cache=False)  # no cache: every reply really goes to the judge
    rewards = build_rewards(config, tokenizer, judge)
    funcs, weights = rewards.reward_funcs(), rewards.reward_weights()
    if naive:  # same rewards and weights, computed the naive way
        funcs = [format_reward, emotion_reward, length_reward, *naive_judge_funcs(judge, rewards.criteria)]
    config.reward_weights = weights
    trainer = GRPOTrainer(model=policy, reward_funcs=funcs, args=config, train_dataset=grpo_dataset(train, tokenizer),
                          processing_class=tokenizer)
    config.reward_weights = None
    totals: dict[str, list[float]] = defaultdict(list)
    timed(trainer, "_generate", totals, "generation")
    timed(trainer, "_calculate_rewards", totals, "rewards")
    trainer.add_callback(StepTimer(totals))
    trainer.train()
    step = sum(totals["step"])
    judged = judge.stats.judged
    well = [e.get("rewards/format_reward/mean") for e in trainer.state.log_history if "rewards/format_reward/mean" in e]
    return {
        "way": "naive" if naive else "kardia",
        "steps": len(totals["step"]),
        "step_s": step / max(len(totals["step"]), 1),
        "share": {k: sum(totals[k]) / step for k in ("generation", "rewards", "optimizer_step")},
        "seconds": {k: round(sum(v), 2) for k, v in totals.items()},
        "judge_calls": judge.stats.calls,
        "judged_replies": judged,
        "format_rate_of_samples": sum(well) / len(well) if well else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", help="policy: `default` or a checkpoint (an SFT output is best)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--skip-naive", action="store_true", help="profile only Kardia's rewards")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for naive in ([False] if args.skip_naive else [False, True]):
            results.append(profile(args.model, args.steps, naive, Path(tmp) / ("naive" if naive else "kardia")))
    print(f"{'way':8} {'step s':>7} {'generation':>11} {'rewards':>8} {'optimizer':>10} {'judge calls':>12} {'judged':>7}")
    for r in results:
        s = r["share"]
        print(f"{r['way']:8} {r['step_s']:7.1f} {s['generation']:11.0%} {s['rewards']:8.0%} {s['optimizer_step']:10.0%} "
              f"{r['judge_calls']:12d} {r['judged_replies']:7d}")
    print(json.dumps(results, indent=2))
    verdict = "meets" if results[0]["share"]["rewards"] < 0.30 else "misses"
    print(f"Kardia rewards take {results[0]['share']['rewards']:.0%} of step time: {verdict} the < 30% target.")


if __name__ == "__main__":
    main()
