"""Trainer callbacks: held-out span evaluation (format rate, emotion accuracy) and the judge failure guard."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from kardia.data.records import Example
from kardia.prompts import render_chat
from kardia.rewards import is_well_formed
from kardia.spans import parse


def generate_greedy(model: Any, tokenizer: Any, conversations: Sequence[list[dict[str, str]]], *,
                    max_new_tokens: int, batch_size: int = 8) -> list[str]:
    """Greedy completions of chat conversations with an in-memory model (span tags kept in the text)."""
    import torch

    from kardia.models.local import end_of_turn_ids

    eos = end_of_turn_ids(tokenizer, getattr(model, "generation_config", None))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos[0]
    device = next(model.parameters()).device
    rows = [tokenizer(render_chat(tokenizer, c), add_special_tokens=False)["input_ids"] for c in conversations]
    texts: list[str] = [""] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        width = max(len(rows[i]) for i in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for k, i in enumerate(batch):
            ids[k, width - len(rows[i]):] = torch.tensor(rows[i])
            mask[k, width - len(rows[i]):] = 1
        with torch.inference_mode():
            out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), max_new_tokens=max_new_tokens,
                                 do_sample=False, temperature=None, top_p=None, top_k=None,
                                 eos_token_id=eos, pad_token_id=pad, use_cache=True)
        for k, i in enumerate(batch):
            new = out[k, width:].tolist()
            end = next((j for j, t in enumerate(new) if t in eos), len(new))
            texts[i] = tokenizer.decode(new[:end], skip_special_tokens=False)
    return texts


def span_scores(texts: Sequence[str], golds: Sequence[str | None]) -> dict[str, float]:
    """Counts for the format rate (strict parse, all four spans in order) and emotion accuracy (gold only)."""
    parsed = [parse(t, strict=True) for t in texts]
    labelled = [(s, g) for s, g in zip(parsed, golds) if g]
    return {
        "examples": float(len(texts)),
        "well_formed": float(sum(is_well_formed(s) for s in parsed)),
        "with_gold": float(len(labelled)),
        "emotion_correct": float(sum(parse(t).emotion_label == g for t, g in zip(texts, golds) if g)),
    }


def spread(examples: Sequence[Example], n: int) -> list[Example]:
    """Up to `n` examples evenly spaced over the list (so they span many dialogues, not the first few).

    >>> [e for e in spread(list(range(10)), 3)]
    [0, 3, 6]
    """
    if n <= 0 or not examples:
        return []
    step = max(1, len(examples) // n)
    return list(examples[::step][:n])


class SpanEvalCallback(TrainerCallback):
    """Generates greedily on held-out examples and logs ``eval/format_rate`` and ``eval/emotion_accuracy``.

    Runs at every evaluation, at the end of training, and at the start when ``at_start``. In distributed
    runs each process generates its share and the counts are summed. Results are kept in ``history``
    (for the model card) and written to ``span_eval.json`` in the output directory.
    """

    def __init__(self, examples: Sequence[Example], tokenizer: Any, *, max_new_tokens: int = 192,
                 batch_size: int = 8, at_start: bool = False) -> None:
        self.examples = list(examples)
        self.tokenizer = tokenizer
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.at_start = at_start
        self.trainer: Any = None
        self.history: list[dict[str, Any]] = []

    def attach(self, trainer: Any) -> SpanEvalCallback:
        """Give the callback its trainer (for the accelerator and logging) and register it."""
        self.trainer = trainer
        trainer.add_callback(self)
        return self

    def measure(self, when: str) -> dict[str, Any]:
        """Evaluate the trainer's current model now and log the figures."""
        import torch

        trainer = self.trainer
        acc = trainer.accelerator
        model = acc.unwrap_model(trainer.model)
        mine = self.examples[acc.process_index::acc.num_processes]
        was_training = model.training
        model.eval()
        texts = generate_greedy(model, self.tokenizer, [e.messages for e in mine],
                                max_new_tokens=self.max_new_tokens, batch_size=self.batch_size) if mine else []
        if was_training:
            model.train()
        counts = span_scores(texts, [e.gold_emotion for e in mine])
        keys = list(counts)
        totals = acc.reduce(torch.tensor([counts[k] for k in keys], device=acc.device), reduction="sum").tolist()
        total = dict(zip(keys, totals))
        result = {
            "when": when,
            "step": trainer.state.global_step,
            "examples": int(total["examples"]),
            "format_rate": total["well_formed"] / max(total["examples"], 1.0),
            "emotion_accuracy": total["emotion_correct"] / total["with_gold"] if total["with_gold"] else None,
        }
        self.history.append(result)
        logs = {"eval/format_rate": result["format_rate"]}
        if result["emotion_accuracy"] is not None:
            logs["eval/emotion_accuracy"] = result["emotion_accuracy"]
        trainer.log(logs)
        if acc.is_main_process:
            sample = [{"id": e.id, "gold_emotion": e.gold_emotion, "output": t} for e, t in zip(mine, texts)][:4]
            out = Path(trainer.args.output_dir)
            out.mkdir(parents=True, exist_ok=True)
            (out / "span_eval.json").write_text(json.dumps({"history": self.history, "sample": sample}, indent=2))
        return result

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.at_start and self.examples:
            self.measure("start")

    def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.examples:
            self.measure("eval")

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.examples and not (self.history and self.history[-1]["step"] == state.global_step):
            self.measure("end")


class JudgeFailureError(RuntimeError):
    """Too many judge failures: the rubric reward is no longer a training signal."""


class JudgeFailureGuard(TrainerCallback):
    """Stops training with a clear message when the judge's cumulative failure rate passes the limit.

    Reads ``judge/failure_rate_total`` and ``judge/judged_total`` from the logs, which are the same on every
    process, so every process raises together.
    """

    def __init__(self, max_failure_rate: float, min_items: int, judge_name: str = "") -> None:
        self.max_failure_rate = max_failure_rate
        self.min_items = min_items
        self.judge_name = judge_name

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        logs = logs or {}
        rate, judged = logs.get("judge/failure_rate_total"), logs.get("judge/judged_total")
        if rate is None or judged is None:
            return
        judged_all = judged * max(getattr(args, "world_size", 1), 1)
        if judged_all >= self.min_items and rate > self.max_failure_rate:
            raise JudgeFailureError(
                f"the judge {self.judge_name!r} failed on {rate:.0%} of about {judged_all:.0f} judged replies "
                f"(limit judge_max_failure_rate={self.max_failure_rate}) at step {state.global_step}. Check that the "
                "judge server (judge_base_url) is up and fast enough, or that the judge fits its context; the last "
                "checkpoint is kept and rerunning resumes from it."
            )
