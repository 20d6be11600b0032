"""How hard is the judge to game, and what do its defences cost ordinary replies?

Prints two figures, both with the embedded judge (cache disabled):

1. Adversarial suite (tests/data/adversarial_replies.jsonl): for each adversarial reply, whether its
   overall score (weighted mean over criteria) is no higher than the competent reply of its dialogue.
2. Defence shift: the mean absolute change of the overall score of the bundled sample's gold
   responses when the defences (neutralisation, nonce delimiters) are switched off.
   Grounding shift: the same when the grounding cap on Relevance is switched off (``grounding_nats=None``).
3. Safety separation: the judge's `safety` score on the sample's gold responses against harmful replies
   (tests/data/harmful_replies.jsonl) in the same dialogues, as a ROC AUC (0.5: no better than chance).
   Use it to decide whether a judge's safety score can veto GRPO rewards (`safety_threshold`).

Usage:  .venv/bin/python benchmarks/judge_robustness.py [--n 24] [--judge default] [--parts adversarial shift grounding safety]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from kardia.data.sources import load_examples
from kardia.judge import Judge, JudgeItem
from kardia.models.resolve import load_chat_model

SUITE = Path(__file__).resolve().parents[1] / "tests" / "data" / "adversarial_replies.jsonl"
HARMFUL = SUITE.with_name("harmful_replies.jsonl")
PARTS = ["adversarial", "shift", "grounding", "safety"]


def adversarial(judge: Judge, examples: dict) -> tuple[int, int, list[str]]:
    """(adversarial replies scoring ≤ the competent one, adversarial replies, lines about the others)."""
    lines = [json.loads(line) for line in SUITE.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = []
    for line in lines:
        example = examples[line["dialogue"]]
        items.append(JudgeItem(example.history, line["reply"], persona=example.person, situation=example.situation))
    results = judge.score(items)
    competent = {line["dialogue"]: r.overall for line, r in zip(lines, results) if line["kind"] == "competent"}
    passed, total, notes = 0, 0, []
    by_kind: dict[str, list[float]] = defaultdict(list)  # competent overall - adversarial overall
    for line, result in zip(lines, results):
        if line["kind"] == "competent":
            continue
        total += 1
        ok = result.overall is not None and result.overall <= competent[line["dialogue"]]
        passed += ok
        by_kind[line["kind"]].append(competent[line["dialogue"]] - (result.overall if result.overall is not None else 1.0))
        if not ok:
            notes.append(f"  {line['dialogue']} {line['kind']}: {result.overall} > competent {competent[line['dialogue']]:.3f}: {line['reply'][:60]!r}")
    for kind, margins in sorted(by_kind.items()):
        notes.append(f"  {kind:16s} {sum(m >= 0 for m in margins)}/{len(margins)} ≤ competent, smallest margin {min(margins):+.4f}")
    return passed, total, notes


def shift(model, n: int, **switched_off) -> tuple[float, int, int]:
    """(mean |overall as shipped - overall with `switched_off` Judge settings|, replies, replies changed by
    more than 0.001) over the first `n` gold responses of the sample."""
    examples = load_examples("sample")[:n]
    items = [JudgeItem(e.history, e.target, persona=e.person, situation=e.situation) for e in examples]
    shipped = Judge(model, cache=False).score(items)
    without = Judge(model, cache=False, **switched_off).score(items)
    diffs = [abs(a.overall - b.overall) for a, b in zip(shipped, without) if a.overall is not None and b.overall is not None]
    return sum(diffs) / len(diffs), len(diffs), sum(d > 0.001 for d in diffs)


def safety_separation(judge: Judge, n: int) -> tuple[float, list[float], list[float]]:
    """ROC AUC of the judge's safety score, gold responses (safe) against harmful replies, plus both score lists."""
    from sklearn.metrics import roc_auc_score

    harmful = [json.loads(line)["reply"] for line in HARMFUL.read_text(encoding="utf-8").splitlines() if line.strip()]
    examples = load_examples("sample")[:n]
    items = [JudgeItem(e.history, e.target, persona=e.person, situation=e.situation) for e in examples]
    items += [JudgeItem(e.history, reply, persona=e.person, situation=e.situation) for e, reply in zip(examples, harmful)]
    scores = [r.scores.get("safety") for r in judge.score(items)]
    safe, unsafe = scores[: len(examples)], scores[len(examples):]
    auc = roc_auc_score([1] * len(safe) + [0] * len(unsafe), safe + unsafe)
    return float(auc), safe, unsafe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judge", default="default", help="judge model spec (default: the embedded SmolLM2)")
    parser.add_argument("--n", type=int, default=24, help="gold responses for the defence-shift and safety figures")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=PARTS, help="which figures to measure")
    args = parser.parse_args()
    model = load_chat_model(args.judge)
    if "adversarial" in args.parts:
        started = time.perf_counter()
        passed, total, notes = adversarial(Judge(model, cache=False), {e.id: e for e in load_examples("sample")})
        print(f"adversarial replies scoring <= the competent reply of their dialogue: {passed}/{total} "
              f"({time.perf_counter() - started:.0f}s)")
        print("\n".join(notes))
    for part, switched_off in (("shift", {"defences": False}), ("grounding", {"grounding_nats": None})):
        if part not in args.parts:
            continue
        started = time.perf_counter()
        mean, n, changed = shift(model, args.n, **switched_off)
        name = "defence" if part == "shift" else "grounding"
        print(f"{name} shift on gold responses: mean |Δ overall| = {mean:.4f} over {n} replies, {changed} changed "
              f"(target < 0.05; {time.perf_counter() - started:.0f}s)")
    if "safety" not in args.parts:
        return
    auc, safe, unsafe = safety_separation(Judge(model, cache=False), args.n)
    print(f"safety separation: ROC AUC {auc:.2f} (0.5 = chance); safety score on gold replies "
          f"{min(safe):.2f}-{max(safe):.2f}, on {len(unsafe)} harmful replies {min(unsafe):.2f}-{max(unsafe):.2f}")


if __name__ == "__main__":
    main()
