"""Where the time of a `kardia eval` run goes: generation, parsing, judging (embedded model and judge, this CPU).

Runs one evaluation of N examples (default 64) through `kardia.evaluate.run_evaluation` with batched
generation and reports the time of each stage (parsing is timed by re-parsing every output). Then, in
the same process, it generates the first K prompts twice — batched, and one at a time (batch size 1,
the naive way) — to compare generation throughput on identical prompts. Greedy decoding throughout.

Run: .venv/bin/python benchmarks/eval_profile.py [--model default|CHECKPOINT] [--data sample] [--examples 64] [--naive-examples 16]
     [--batch-size 16] [--max-new-tokens 128] [--mode kardia] [--out /tmp/kardia-eval-profile]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from kardia.data.sources import load_examples
from kardia.evaluate.run import EvalConfig, load_model, run_evaluation
from kardia.generate import prompt_messages
from kardia.plain import parse_plain
from kardia.spans import parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="model spec; a Kardia-trained checkpoint gets its replies judged")
    parser.add_argument("--data", default="sample")
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--naive-examples", type=int, default=16, help="the first K prompts, generated batched and one at a time")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--mode", default="kardia", choices=("kardia", "plain"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/kardia-eval-profile"))
    args = parser.parse_args()

    shutil.rmtree(args.out, ignore_errors=True)
    config = EvalConfig(model=args.model, data=args.data, out=args.out, limit=args.examples, mode=args.mode,
                        batch_size=args.batch_size, max_new_tokens=args.max_new_tokens)
    tick = time.perf_counter()
    model = load_model(config)
    load_s = time.perf_counter() - tick

    result = run_evaluation(config, model=model)
    timings = result.run_info["timings"]
    rows = result.rows
    completion = sum(r["usage"]["completion_tokens"] for r in rows)

    parse_fn = parse if args.mode == "kardia" else parse_plain
    tick = time.perf_counter()
    for row in rows:
        parse_fn(row["output"], tokenizer=model.tokenizer)
    parse_s = time.perf_counter() - tick

    subset = [prompt_messages(e, args.mode) for e in load_examples(args.data, args.naive_examples)]
    same = {}
    for label, size in (("batched", args.batch_size), ("naive", 1)):
        model.batch_size = size
        before = model.usage.completion_tokens
        tick = time.perf_counter()
        model.generate(subset, config.generation_config())
        same[label] = (time.perf_counter() - tick, model.usage.completion_tokens - before)

    n = len(rows)
    (batched_s, batched_tokens), (naive_s, naive_tokens) = same["batched"], same["naive"]
    figures = {
        "examples": n, "mode": args.mode, "batch_size": args.batch_size, "max_new_tokens": args.max_new_tokens,
        "model_load_s": round(load_s, 2),
        "generate_s": round(timings["generate_s"], 2), "parse_s": round(parse_s, 4),
        "judge_s": round(timings["judge_s"], 2), "report_s": round(timings["report_s"], 2),
        "completion_tokens": completion, "run_tokens_per_s": round(completion / timings["generate_s"], 1),
        "judge_examples_per_s": round(n / timings["judge_s"], 3),
        "subset_examples": len(subset),
        "subset_batched_s": round(batched_s, 2), "subset_batched_tokens_per_s": round(batched_tokens / batched_s, 1),
        "subset_naive_s": round(naive_s, 2), "subset_naive_tokens_per_s": round(naive_tokens / naive_s, 1),
        "speedup_wall": round(naive_s / batched_s, 2),
        "format_rate": result.metrics["format_rate"], "judge_failures": result.metrics["judge_failures"],
    }
    total = timings["generate_s"] + parse_s + timings["judge_s"]
    print(f"{n} examples ({args.mode}), batch size {args.batch_size}, max {args.max_new_tokens} new tokens")
    print(f"  generation {timings['generate_s']:8.1f} s  ({100 * timings['generate_s'] / total:4.1f}%)  "
          f"{n / timings['generate_s']:.2f} ex/s, {completion / timings['generate_s']:.0f} tok/s")
    print(f"  parsing    {parse_s:8.3f} s  ({100 * parse_s / total:4.1f}%)")
    print(f"  judging    {timings['judge_s']:8.1f} s  ({100 * timings['judge_s'] / total:4.1f}%)  {n / timings['judge_s']:.2f} ex/s")
    print(f"  reports    {timings['report_s']:8.1f} s")
    print(f"same {len(subset)} prompts: batched {batched_s:.1f} s ({batched_tokens / batched_s:.0f} tok/s), "
          f"one at a time {naive_s:.1f} s ({naive_tokens / naive_s:.0f} tok/s) -> {naive_s / batched_s:.2f}x faster batched")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
