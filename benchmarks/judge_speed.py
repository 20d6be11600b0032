"""Judge speed: Kardia's prefix-cached logprob judge against the naive way and the floor, same model, same run.

Three ways to score N replies × 5 criteria with the embedded model:

(a) naive: one `generate` call per reply per criterion on the whole prompt, parse the digit;
(b) Kardia's `Judge` (logprob mode, persistent cache disabled): rubric, context and reply prefixes
    encoded once, the five criteria batched on the reply's KV cache, plus the reply's grounding (its
    tokens' log-probabilities, and one more pass of the reply on the cached empty context);
(c) floor: one forward pass over each reply's prompt (rubric + dialogue + candidate, no criterion), once.

(b) is also timed with grounding off (``grounding_nats=None``), to show what grounding costs.

Replies are the bundled sample's gold responses; past the sample size, a second reply per dialogue
(the gold response with a sentence added) forms GRPO-like groups that share their context.
Targets: (b) at least 4x faster than (a), and at most 1.5x the floor (c).

Usage:  .venv/bin/python benchmarks/judge_speed.py [--n 200] [--naive-n N]
"""

from __future__ import annotations

import argparse
import re
import time

from kardia.data.sources import load_examples
from kardia.judge import Judge, JudgeItem
from kardia.judge.prompts import candidate_segment, context_segment, criterion_segment, judge_conversation, rubric_segment
from kardia.models.base import GenerationConfig
from kardia.models.resolve import load_chat_model


def build_items(n: int) -> list[JudgeItem]:
    examples = load_examples("sample")
    items = []
    for k in range(n):
        e = examples[k % len(examples)]
        reply = e.target if k < len(examples) else e.target.replace("<|response_end|>", " I'm here with you.<|response_end|>")
        items.append(JudgeItem(e.history, reply, persona=e.person, situation=e.situation))
    return items


def naive(model, judge: Judge, items: list[JudgeItem]) -> tuple[float, int]:
    """One generate call per (reply, criterion); returns (seconds, unparseable answers)."""
    config = GenerationConfig(max_new_tokens=4, temperature=0.0)
    rubric = rubric_segment(judge.rubric)
    unparsed = 0
    started = time.perf_counter()
    for item in items:
        prepared = judge._prepare(item)
        shown = prepared[3] if isinstance(prepared, tuple) else prepared.shown
        body = rubric + context_segment(item) + candidate_segment(shown, "0" * 12)
        for criterion in judge.rubric.criteria:
            (generation,) = model.generate([judge_conversation(body + criterion_segment(criterion))], config)
            unparsed += re.search(r"[1-5]", generation.text) is None
    return time.perf_counter() - started, unparsed


def floor(model, judge: Judge, items: list[JudgeItem]) -> float:
    """One forward pass per reply over its prompt without any criterion."""
    import torch

    rubric = rubric_segment(judge.rubric)
    started = time.perf_counter()
    with torch.inference_mode():
        for item in items:
            prepared = judge._prepare(item)
            shown = prepared[3] if isinstance(prepared, tuple) else prepared.shown
            text = model.render_prompt(judge_conversation(rubric + context_segment(item) + candidate_segment(shown, "0" * 12)))
            ids = torch.tensor([model.tokenizer(text, add_special_tokens=False)["input_ids"]], device=model.device)
            model.model(input_ids=ids, logits_to_keep=1)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="replies to score")
    parser.add_argument("--naive-n", type=int, default=None, help="replies for (a) (default: all --n)")
    parser.add_argument("--judge", default="default", help="judge model spec (a local model)")
    args = parser.parse_args()
    model = load_chat_model(args.judge)
    items = build_items(args.n)
    judge = Judge(model, cache=False)
    n_naive = args.naive_n or args.n

    started = time.perf_counter()
    results = judge.score(items)
    t_kardia = time.perf_counter() - started
    started = time.perf_counter()
    Judge(model, cache=False, grounding_nats=None).score(items)
    t_ungrounded = time.perf_counter() - started
    t_floor = floor(model, judge, items)
    t_naive, unparsed = naive(model, judge, items[:n_naive])
    t_naive_per = t_naive / n_naive
    criteria = len(judge.rubric.criteria)
    print(f"model {model.name}; {args.n} replies x {criteria} criteria; {sum(r.degenerate is not None for r in results)} degenerate, "
          f"{judge.stats.failures} failed; forward calls {judge.stats.calls}")
    print(f"(a) naive generate per criterion: {t_naive:8.1f}s for {n_naive} replies = {t_naive_per:.2f}s/reply "
          f"({unparsed} unparseable answers)")
    print(f"(b) Kardia judge (no cache):      {t_kardia:8.1f}s = {t_kardia / args.n:.2f}s/reply")
    print(f"    the same without grounding:   {t_ungrounded:8.1f}s = {t_ungrounded / args.n:.2f}s/reply "
          f"(grounding costs {t_kardia / t_ungrounded - 1:+.0%})")
    print(f"(c) floor, one forward per reply: {t_floor:8.1f}s = {t_floor / args.n:.2f}s/reply")
    print(f"speed-up (a)/(b) per reply: {t_naive_per / (t_kardia / args.n):.1f}x (target >= 4x)")
    print(f"(b)/(c): {t_kardia / t_floor:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
