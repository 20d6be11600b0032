"""Rubric-ERL: GRPO with TRL's `GRPOTrainer` and Kardia's rewards (format, emotion, length, rubric judge).

Starts from a saved SFT checkpoint (its tokenizer already has the span tags) or any model (the tags are
added). Dataset rows carry the prompt plus ``history``, ``gold_emotion``, ``person`` and ``situation``,
which TRL passes to the reward functions. See `kardia.rewards` for how malformed replies, the safety veto
and failed judgements enter the reward.

Run it as ``kardia grpo --config RECIPE.yaml`` or, under a launcher, ``python -m kardia.grpo --config RECIPE.yaml``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)


def make_parser() -> Any:
    """`TrlParser` over Kardia's `GRPOConfig` and TRL's `ModelConfig`."""
    from trl import ModelConfig, TrlParser

    from kardia.configs import GRPOConfig

    return TrlParser((GRPOConfig, ModelConfig))


def build_rewards(config: Any, tokenizer: Any, judge: Any = None) -> Any:
    """`KardiaRewards` for a recipe; loads the judge the recipe names when the rubric reward is used."""
    from kardia.rewards import KardiaRewards, load_training_judge

    weights = config.named_reward_weights()
    if "rubric" in weights and judge is None:
        kwargs: dict[str, Any] = {"mode": config.judge_mode, "cache": config.judge_cache}
        if config.rubric:
            kwargs["rubric"] = config.rubric
        judge = load_training_judge(config.judge, base_url=config.judge_base_url,
                                    api_key_env=config.judge_api_key_env, **kwargs)
    return KardiaRewards(
        weights,
        judge if "rubric" in weights else None,
        rubric_weights=config.rubric_weights,
        safety_veto=config.safety_veto,
        safety_threshold=config.safety_threshold,
        max_response_tokens=config.max_response_tokens,
        tokenizer=tokenizer,
    )


def main(config: Any, model_args: Any, judge: Any = None) -> dict[str, Any]:
    """Train, save the final model with its model card, and return the card's data.

    ``judge`` overrides the recipe's judge (a `kardia.judge.Judge` or compatible object).
    """
    from trl import GRPOTrainer

    from kardia.callbacks import JudgeFailureGuard, SpanEvalCallback, spread
    from kardia.configs import config_summary
    from kardia.training import (
        grpo_dataset,
        last_checkpoint,
        load_model_and_tokenizer,
        peft_config_for,
        save_final,
        save_held_out,
        split_examples,
    )

    model, tokenizer, tag_ids = load_model_and_tokenizer(model_args, trust_remote_code=config.trust_remote_code)
    train, held_out, held_out_records = split_examples(config)
    rewards = build_rewards(config, tokenizer, judge)
    user_weights = config.reward_weights
    config.reward_weights = rewards.reward_weights()  # TRL needs one weight per function (criterion loggers: 0)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=rewards.reward_funcs(),
        args=config,
        train_dataset=grpo_dataset(train, tokenizer),
        processing_class=tokenizer,
        peft_config=peft_config_for(model_args, config, model, tag_ids),
    )
    config.reward_weights = user_weights
    span_eval = SpanEvalCallback(
        spread(held_out, config.format_eval_examples), tokenizer, max_new_tokens=config.format_eval_max_new_tokens,
        batch_size=config.format_eval_batch_size, at_start=config.format_eval_on_start,
    ).attach(trainer)
    if rewards.rubric is not None:
        trainer.add_callback(JudgeFailureGuard(config.judge_max_failure_rate, config.judge_min_items, config.judge))
    trainer.train(resume_from_checkpoint=last_checkpoint(config))
    card = {
        "stage": "GRPO (Rubric-ERL)",
        "base_model": model_args.model_name_or_path,
        "output_dir": config.output_dir,
        "dataset": config.dataset,
        "train_examples": len(train),
        "eval_examples": len(held_out),
        "global_step": trainer.state.global_step,
        "world_size": trainer.accelerator.num_processes,
        "rewards": rewards.weights,
        "rubric_weights": rewards.rubric.weights if rewards.rubric is not None else None,
        "judge": config.judge if rewards.rubric is not None else None,
        "safety_veto": rewards.safety_veto,
        "judge_counters": vars(rewards.counters),
        "evaluation": span_eval.history,
        "config": {**config_summary(config), "learning_rate": config.learning_rate, "max_steps": config.max_steps,
                   "num_generations": config.num_generations, "beta": config.beta, "use_vllm": config.use_vllm,
                   "use_peft": model_args.use_peft},
    }
    save_final(trainer, config, model_args, card)
    save_held_out(held_out_records, trainer)
    trainer.accelerator.end_training()
    return card


def cli(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse ``--config RECIPE.yaml`` plus overrides and run `main`."""
    config, model_args = make_parser().parse_args_and_config(list(argv) if argv is not None else sys.argv[1:])
    return main(config, model_args)


if __name__ == "__main__":
    cli()
