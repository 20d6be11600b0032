"""Supervised fine-tuning on KardiaBench-format data with TRL's `SFTTrainer`.

Each dialogue becomes one token sequence with the loss on every assistant turn's gold four-span answer (the
same targets as one prompt-completion pair per turn, each shared prefix read once; see `kardia.sft_data`), or,
with ``dialogue_sequences: false``, one conversational prompt-completion pair per turn. The span tags are added as ordinary
tokens and the embeddings resized; with LoRA their rows stay trainable.

Run it as ``kardia sft --config RECIPE.yaml`` or, under a launcher, ``python -m kardia.sft --config RECIPE.yaml``::

    torchrun --nproc_per_node 8 -m kardia.sft --config recipes/Qwen2.5-7B-Instruct/sft/config_kardia.yaml
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)


def make_parser() -> Any:
    """`TrlParser` over Kardia's `SFTConfig` and TRL's `ModelConfig`."""
    from trl import ModelConfig, TrlParser

    from kardia.configs import SFTConfig

    return TrlParser((SFTConfig, ModelConfig))


def main(config: Any, model_args: Any) -> dict[str, Any]:
    """Train, save the final model with its model card, and return the card's data."""
    from trl import SFTTrainer

    from kardia.callbacks import SpanEvalCallback, spread
    from kardia.configs import config_summary
    from kardia.sft_data import dialogue_dataset, turn_dataset
    from kardia.training import (
        last_checkpoint,
        load_model_and_tokenizer,
        peft_config_for,
        save_final,
        save_held_out,
        split_examples,
    )

    model, tokenizer, tag_ids = load_model_and_tokenizer(model_args, trust_remote_code=config.trust_remote_code)
    train, held_out, held_out_records = split_examples(config)

    def sft_dataset(examples: Any) -> Any:
        if config.dialogue_sequences:
            return dialogue_dataset(examples, tokenizer, config.max_length)
        return turn_dataset(examples, tokenizer)

    eval_dataset = sft_dataset(held_out) if held_out and config.eval_strategy != "no" else None
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=sft_dataset(train),
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=peft_config_for(model_args, config, model, tag_ids),
    )
    span_eval = SpanEvalCallback(
        spread(held_out, config.format_eval_examples), tokenizer, max_new_tokens=config.format_eval_max_new_tokens,
        batch_size=config.format_eval_batch_size, at_start=config.format_eval_on_start,
    ).attach(trainer)
    trainer.train(resume_from_checkpoint=last_checkpoint(config))
    history = trainer.state.log_history
    card = {
        "stage": "SFT",
        "base_model": model_args.model_name_or_path,
        "output_dir": config.output_dir,
        "dataset": config.dataset,
        "train_examples": len(train),
        "train_sequences": len(trainer.train_dataset),
        "eval_examples": len(held_out),
        "global_step": trainer.state.global_step,
        "train_tokens": max((e.get("num_tokens", 0) for e in history), default=0),
        "train_loss": next((e["train_loss"] for e in reversed(history) if "train_loss" in e), None),
        "world_size": trainer.accelerator.num_processes,
        "evaluation": span_eval.history,
        "config": {**config_summary(config), "learning_rate": config.learning_rate, "max_steps": config.max_steps,
                   "num_train_epochs": config.num_train_epochs, "use_peft": model_args.use_peft,
                   "dialogue_sequences": config.dialogue_sequences},
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
