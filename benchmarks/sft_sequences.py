"""SFT cost per epoch: one sequence per dialogue (Kardia's default) against one prompt-completion pair per turn.

Both ways train the embedded SmolLM2-135M-Instruct for one epoch on the same dialogues of the bundled sample
(the same assistant-turn targets), in the same run, and print tokens read, wall time and the final training loss.

    .venv/bin/python benchmarks/sft_sequences.py --dialogues 6
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "SmolLM2-135M-Instruct" / "sft" / "config_kardia.yaml"


def one_epoch(dialogue_sequences: bool, dialogues: int, out: Path) -> dict[str, float]:
    from kardia.sft import main, make_parser

    config, model_args = make_parser().parse_args_and_config([
        "--config", str(RECIPE), "--output_dir", str(out), "--dataset_limit", str(dialogues), "--eval_fraction", "0",
        "--dialogue_sequences", str(dialogue_sequences).lower(), "--gradient_accumulation_steps", "1",
        "--save_strategy", "no", "--format_eval_examples", "0", "--logging_steps", "1", "--report_to", "none",
    ])
    started = time.perf_counter()
    card = main(config, model_args)
    wall = time.perf_counter() - started
    return {"rows": card["train_sequences"], "turns": card["train_examples"], "wall_s": wall,
            "tokens": card["train_tokens"], "loss": card["train_loss"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialogues", type=int, default=6, help="dialogues of the sample to train on")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for way, flag in (("dialogue sequences", True), ("turn pairs (naive)", False)):
            results[way] = one_epoch(flag, args.dialogues, Path(tmp) / str(flag))
    print(f"{'way':20} {'rows':>5} {'turns':>6} {'tokens':>8} {'wall s':>7} {'mean loss':>9}")
    for way, r in results.items():
        print(f"{way:20} {r['rows']:5d} {r['turns']:6d} {r['tokens']:8.0f} {r['wall_s']:7.1f} {r['loss']:9.3f}")
    fast, naive = results["dialogue sequences"], results["turn pairs (naive)"]
    print(f"dialogue sequences: {naive['tokens'] / fast['tokens']:.1f}x fewer tokens, "
          f"{naive['wall_s'] / fast['wall_s']:.1f}x faster per epoch")


if __name__ == "__main__":
    main()
