"""What SFT and GRPO share: model and tokenizer with the span tags, persona-split datasets, LoRA with
trainable tag rows, resuming from the last checkpoint, and the final save with a model card.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kardia.configs import KardiaArguments
from kardia.data.records import Example
from kardia.prompts import chat_messages_for

logger = logging.getLogger(__name__)


def resolve_model_path(name: str) -> str:
    """``default`` is the embedded SmolLM2 checkpoint; anything else (a directory or a Hub id) passes through."""
    if name == "default":
        from kardia.models.embedded import embedded_checkpoint

        return str(embedded_checkpoint())
    return name


def load_model_and_tokenizer(model_args: Any, *, trust_remote_code: bool = False) -> tuple[Any, Any, list[int]]:
    """The model and tokenizer of ``model_args.model_name_or_path`` with the eight span tags as ordinary
    tokens and embeddings resized (a no-op for a Kardia checkpoint). Returns (model, tokenizer, tag ids)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kardia.models.local import load_pretrained
    from kardia.models.tokens import prepare_for_spans

    if not model_args.model_name_or_path:
        raise ValueError("model_name_or_path: name a model (`default`, a checkpoint directory or a Hub id)")
    path = resolve_model_path(model_args.model_name_or_path)
    kwargs: dict[str, Any] = {"revision": model_args.model_revision, "trust_remote_code": trust_remote_code}
    tokenizer = load_pretrained(AutoTokenizer, path, **kwargs)
    dtype = model_args.dtype if model_args.dtype not in (None, "auto") else "auto"
    model = load_pretrained(
        AutoModelForCausalLM, path, dtype=dtype, attn_implementation=model_args.attn_implementation, **kwargs
    )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tag_ids = prepare_for_spans(tokenizer, model)
    return model, tokenizer, tag_ids



def peft_config_for(model_args: Any, config: KardiaArguments, model: Any, tag_ids: list[int]) -> Any:
    """TRL's LoRA config from `ModelConfig`, with the input and output embeddings trainable
    (PEFT ``modules_to_save``) so the new tag rows learn, unless the recipe sets `lora_modules_to_save`.

    Not PEFT's ``trainable_token_indices``: TRL 1.16's SFT loss reads ``lm_head.weight``/``.bias`` directly
    (its fused LM head), which a `TrainableTokensWrapper` on a tied head does not provide.
    """
    from trl import get_peft_config

    peft_config = get_peft_config(model_args)
    if peft_config is None or not config.train_span_tokens or peft_config.modules_to_save:
        return peft_config
    names = [_module_name(model, model.get_input_embeddings()), _module_name(model, model.get_output_embeddings())]
    peft_config.modules_to_save = list(dict.fromkeys(names))
    return peft_config


def _module_name(model: Any, module: Any) -> str:
    return next(name.split(".")[-1] for name, m in model.named_modules() if m is module)


def split_examples(config: KardiaArguments) -> tuple[list[Example], list[Example], list[Any]]:
    """Train and held-out turn-level examples of ``config.dataset``, split by persona (no persona in both),
    and the held-out records (`save_held_out` writes them for `kardia eval`)."""
    from itertools import islice

    from kardia.data.records import expand_record
    from kardia.data.sources import load_records
    from kardia.data.split import split_records

    records = list(islice(load_records(config.dataset), config.dataset_limit))
    if not records:
        raise ValueError(f"dataset {config.dataset!r}: no records")
    if config.eval_fraction <= 0:
        parts = {"train": records, "eval": []}
    else:
        parts = split_records(records, {"train": 1.0 - config.eval_fraction, "eval": config.eval_fraction}, config.split_seed)
    train = [e for r in parts["train"] for e in expand_record(r)]
    held_out = [e for r in parts["eval"] for e in expand_record(r)]
    if not train:
        raise ValueError(f"dataset {config.dataset!r}: the train split has no assistant turns")
    return train, held_out, parts["eval"]


HELD_OUT_FILE = "heldout.jsonl"


def save_held_out(records: Sequence[Any], trainer: Any) -> None:
    """Write the held-out records to ``output_dir/heldout.jsonl`` (main process), e.g. for
    ``kardia eval --data OUTPUT_DIR/heldout.jsonl``."""
    from kardia.data.split import write_jsonl

    if records and trainer.accelerator.is_main_process:
        write_jsonl(records, Path(trainer.args.output_dir) / HELD_OUT_FILE)


def grpo_dataset(examples: Sequence[Example], tokenizer: Any) -> Any:
    """Prompts plus the columns the rewards read (TRL passes extra columns to reward functions)."""
    from datasets import Dataset

    return Dataset.from_list([
        {
            "prompt": chat_messages_for(tokenizer, e.messages),
            "history": e.history,
            "gold_emotion": e.gold_emotion,
            "person": e.person,
            "situation": e.situation,
            "example_id": e.id,
        }
        for e in examples
    ])


def last_checkpoint(args: Any) -> str | None:
    """The checkpoint to resume from: ``resume_from_checkpoint`` when set, else the newest
    ``checkpoint-N`` in ``output_dir`` (an interrupted run continues where it stopped)."""
    from transformers.trainer_utils import get_last_checkpoint

    if args.resume_from_checkpoint:
        return args.resume_from_checkpoint
    out = Path(args.output_dir)
    if out.is_dir():
        found = get_last_checkpoint(str(out))
        if found:
            logger.warning("Resuming from %s", found)
        return found
    return None


def save_final(trainer: Any, config: Any, model_args: Any, card: dict[str, Any]) -> Path:
    """Save the trained model and tokenizer to ``output_dir`` (LoRA merged when ``merge_lora``) with a
    README.md model card; returns the directory."""
    out = Path(config.output_dir)
    merged = False
    if config.merge_lora and _is_peft(trainer.model):
        trainer.accelerator.wait_for_everyone()
        if trainer.accelerator.is_main_process:
            model = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
            model.save_pretrained(out)
            trainer.processing_class.save_pretrained(out)
        merged = True
    else:
        trainer.save_model(str(out))
    if trainer.accelerator.is_main_process:
        card = {**card, "lora": "merged" if merged else ("adapter" if _is_peft(trainer.model) else "none")}
        (out / "README.md").write_text(model_card(card), encoding="utf-8")
        (out / "kardia_training.json").write_text(json.dumps(card, indent=2, default=str), encoding="utf-8")
    trainer.accelerator.wait_for_everyone()
    return out


def _is_peft(model: Any) -> bool:
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel) or hasattr(model, "peft_config")


def model_card(card: dict[str, Any]) -> str:
    """Markdown model card: base model, data, stage, rewards and weights, evaluation results."""
    lines = [
        "---",
        f"base_model: {card.get('base_model')}",
        "library_name: transformers",
        "tags: [kardia, emotional-support, trl, " + ("grpo" if "GRPO" in str(card.get("stage")) else "sft") + "]",
        "---",
        "",
        f"# {Path(str(card.get('output_dir', 'model'))).name}",
        "",
        f"Kardia {card.get('stage')} model: answers in four spans (understanding, reasoning, emotion, response) "
        "trained with Kardia on TRL.",
        "",
        "| | |",
        "|---|---|",
        f"| Base model | `{card.get('base_model')}` |",
        f"| Stage | {card.get('stage')} |",
        f"| Data | `{card.get('dataset')}` ({card.get('train_examples')} training turns, "
        f"{card.get('eval_examples')} held out by persona) |",
        f"| LoRA | {card.get('lora')} |",
        f"| Steps | {card.get('global_step')} |",
    ]
    if card.get("rewards"):
        lines += ["", "## Rewards", "", "| Reward | Weight |", "|---|---|"]
        lines += [f"| {name} | {weight} |" for name, weight in card["rewards"].items()]
        if card.get("rubric_weights"):
            lines += ["", "Rubric criteria weights: " + ", ".join(f"{k} {v}" for k, v in card["rubric_weights"].items())]
        if card.get("judge"):
            lines += [f"Judge: `{card['judge']}`; safety veto: {card.get('safety_veto')}."]
    evals = card.get("evaluation") or []
    if evals:
        lines += ["", "## Evaluation (held-out personas, greedy decoding)", "",
                  "| When | Step | Examples | Format rate | Emotion accuracy |", "|---|---|---|---|---|"]
        for e in evals:
            acc = "n/a" if e.get("emotion_accuracy") is None else f"{e['emotion_accuracy']:.3f}"
            lines.append(f"| {e['when']} | {e['step']} | {e['examples']} | {e['format_rate']:.3f} | {acc} |")
    lines += ["", "## Training configuration", "", "```json",
              json.dumps(card.get("config", {}), indent=2, default=str), "```", ""]
    return "\n".join(lines)
