"""Context grounding on real replies: does it separate human replies from generic ones, and what does the cap cost?

Judges, with the embedded model (cache off), two sets of replies in the same real contexts, the first
listener turn of `--n` EmpatheticDialogues conversations (sampled with a fixed seed):

* human: the listener's real reply;
* generic: one of twenty stock replies ("I'm so sorry to hear that.", "Good for you!", ...), in turn.

Prints the grounding distribution of each set, the ROC AUC of grounding (human against generic), and,
for `--full-nats` values, how often the Relevance cap binds in each set, the mean overall score of each
set, the gap between them, and how often the generic reply scores at least as high as the human one in
the same context. The naive way is no cap (the judge's own scores), printed first. The packaged default
(`kardia.judge.grounding.DEFAULT_FULL_NATS`) is the value with the widest human-generic gap.

Usage:  .venv/bin/python benchmarks/judge_grounding.py [--n 80] [--full-nats 8 10 12 14 16 20 24]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from kardia.data.sources import load_examples
from kardia.judge import Judge, JudgeItem
from kardia.judge.grounding import capped
from kardia.judge.rubric import normalize
from kardia.models.resolve import load_chat_model

ED = Path(__file__).resolve().parents[2] / "shared" / "data" / "empatheticdialogues" / "valid.csv"
GENERIC = [
    "I'm so sorry to hear that.", "That's great!", "Hang in there, things will get better.", "I understand how you feel.",
    "Wow, that's awesome!", "Oh no, that's terrible.", "Everything will be okay.", "Don't worry about it too much.",
    "That must be hard for you.", "I hope things work out for you.", "Good for you!", "Time heals all wounds.",
    "You should try to look on the bright side.", "That sounds tough. Take care of yourself.", "I'm here for you.",
    "Congratulations!", "That's understandable.", "Keep your head up!", "Sorry you're going through this.", "That's nice.",
]


def first_turns(n: int, seed: int) -> list:
    """The first listener turn of `n` random ED conversations."""
    firsts = {}
    for example in load_examples(f"ed:{ED}"):
        firsts.setdefault(example.record_id, example)
    return random.Random(seed).sample(sorted(firsts.values(), key=lambda e: e.id), n)


def quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    pick = lambda q: ordered[round(q * (len(ordered) - 1))]  # noqa: E731
    return (f"p10 {pick(0.1):6.1f}  p25 {pick(0.25):6.1f}  median {pick(0.5):6.1f}  p75 {pick(0.75):6.1f}  "
            f"p90 {pick(0.9):6.1f}  (mean {statistics.mean(values):.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=80, help="ED conversations (contexts).")
    parser.add_argument("--full-nats", type=float, nargs="+", default=[8.0, 10.0, 12.0, 14.0, 16.0, 20.0, 24.0], help="Caps to compare.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not ED.is_file():
        raise SystemExit(f"EmpatheticDialogues not found at {ED}")
    from sklearn.metrics import roc_auc_score

    examples = first_turns(args.n, args.seed)
    human = [JudgeItem(e.history, e.target, persona=e.person, situation=e.situation) for e in examples]
    generic = [JudgeItem(e.history, GENERIC[k % len(GENERIC)], persona=e.person, situation=e.situation) for k, e in enumerate(examples)]
    judge = Judge(load_chat_model("default"), cache=False)
    started = time.perf_counter()
    results = {"human": judge.score(human), "generic": judge.score(generic)}
    seconds = time.perf_counter() - started
    both = [k for k, (h, g) in enumerate(zip(results["human"], results["generic"])) if h.grounding is not None and g.grounding is not None]
    scored = {name: [rs[k] for k in both] for name, rs in results.items()}  # paired: the same context at each index
    print(f"{args.n} ED contexts, judged in {seconds:.0f} s ({judge.stats.judged} replies, {judge.stats.degenerate} degenerate, "
          f"{judge.stats.failures} failed)")
    for name, rs in scored.items():
        print(f"grounding (nats), {name:7s} n={len(rs):3d}: {quantiles([r.grounding for r in rs])}")
    print(f"({len(examples) - len(both)} contexts left out: a reply there was degenerate or failed)")
    labels = [1] * len(scored["human"]) + [0] * len(scored["generic"])
    values = [r.grounding for r in scored["human"] + scored["generic"]]
    print(f"ROC AUC of grounding, human vs generic: {roc_auc_score(labels, values):.3f}")
    print("\ncap (full at N nats)     | relevance lowered: human  generic | mean overall: human  generic    gap | generic ≥ human (paired)")
    for full in [None, *args.full_nats]:
        overall = {}
        lowered = {}
        for name, rs in scored.items():
            uncapped = [{c: normalize(v) for c, v in r.raw.items()} for r in rs]
            scores = [capped(s, judge.rubric, r.grounding, full) for s, r in zip(uncapped, rs)]
            overall[name] = [judge.rubric.overall(s) for s in scores]
            lowered[name] = sum(s["relevance"] < u["relevance"] for s, u in zip(scores, uncapped)) / len(rs)
        pairs = list(zip(overall["human"], overall["generic"]))
        wins = sum(g >= h for h, g in pairs) / len(pairs)
        label = "none (naive: no cap)" if full is None else f"{full:g}"
        human, generic = statistics.mean(overall["human"]), statistics.mean(overall["generic"])
        print(f"{label:24s} | {lowered['human']:24.2f} {lowered['generic']:8.2f} | {human:19.3f} {generic:8.3f} {human - generic:6.3f} | {wins:.2f}")


if __name__ == "__main__":
    main()
