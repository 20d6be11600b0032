"""Batched vs one-at-a-time generation with the embedded model (LocalChatModel, transformers).

32 prompts of about 300 tokens (the Kardia system prompt, cut to length, plus a user turn), exactly 64
new tokens each (``min_new_tokens == max_new_tokens``), greedy. Both ways run in the same process on
the same prompts. Prefill is timed as one forward pass over the prompts (batched, and one by one);
decode time is the rest of the generation time.

Run: .venv/bin/python benchmarks/generation_batching.py [--prompts 32] [--new-tokens 64] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import time

import torch

from kardia.models.base import GenerationConfig
from kardia.models.embedded import embedded_checkpoint
from kardia.models.local import LocalChatModel
from kardia.prompts import system_prompt

USER_TURNS = (
    "I finally finished my thesis after three years and nobody in my family even asked about it.",
    "My dog has been sick all week and the vet still does not know what is wrong.",
    "I got the job offer, but it means moving far away from all my friends.",
    "Someone took credit for my idea in the meeting today and I said nothing.",
)


def build_prompts(model: LocalChatModel, count: int, target_tokens: int) -> list[list[dict[str, str]]]:
    """`count` conversations of about `target_tokens` rendered tokens each (lengths vary by ±15%)."""
    tokenizer = model.tokenizer
    base = tokenizer(system_prompt("MBTI: INFP", "A hard week."), add_special_tokens=False)["input_ids"]
    prompts = []
    for i in range(count):
        user = USER_TURNS[i % len(USER_TURNS)]
        overhead = len(model.encode_prompt([{"role": "system", "content": ""}, {"role": "user", "content": user}]))
        keep = int(target_tokens * (0.85 + 0.3 * (i % 7) / 6)) - overhead
        system = tokenizer.decode(base[: max(keep, 16)])
        prompts.append([{"role": "system", "content": system}, {"role": "user", "content": user}])
    return prompts


def time_prefill(model: LocalChatModel, prompts, batch_size: int) -> float:
    """Seconds for one forward pass over every prompt, in batches of `batch_size` (left-padded)."""
    rows = [model.encode_prompt(p) for p in prompts]
    start = time.perf_counter()
    for batch in model.length_batches([len(r) for r in rows]) if batch_size > 1 else [[i] for i in range(len(rows))]:
        ids, mask = model.left_pad([rows[i] for i in batch])
        with torch.inference_mode():
            model.model(input_ids=ids, attention_mask=mask)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--prompt-tokens", type=int, default=300)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    model = LocalChatModel(embedded_checkpoint(), device="cpu", batch_size=args.batch_size)
    prompts = build_prompts(model, args.prompts, args.prompt_tokens)
    lengths = [len(model.encode_prompt(p)) for p in prompts]
    config = GenerationConfig(max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, model {model.name}")
    print(f"{len(prompts)} prompts, {min(lengths)}-{max(lengths)} tokens (mean {sum(lengths) / len(lengths):.0f}), "
          f"{args.new_tokens} new tokens each, batch size {args.batch_size}")
    model.generate(prompts[:2], GenerationConfig(max_new_tokens=4))  # warm-up

    figures = {}
    for label, batch_size in (("one at a time", 1), (f"batched ({args.batch_size})", args.batch_size)):
        model.batch_size = batch_size
        prefill = time_prefill(model, prompts, batch_size)
        start = time.perf_counter()
        generations = model.generate(prompts, config)
        total = time.perf_counter() - start
        new_tokens = sum(g.completion_tokens for g in generations)
        assert new_tokens == args.new_tokens * len(prompts), f"expected exactly {args.new_tokens} tokens each"
        figures[label] = total
        steps = args.new_tokens * -(-len(prompts) // batch_size)  # decoding steps over all batches
        print(f"{label:>14}: {total:7.1f} s  {new_tokens / total:7.1f} new tokens/s  "
              f"(prefill {prefill:5.1f} s, decode {total - prefill:6.1f} s = {(total - prefill) / steps * 1000:5.0f} ms/step)")
    one, batched = figures.values()
    print(f"speed-up of batching: {one / batched:.2f}x")


if __name__ == "__main__":
    main()
