"""Agreement between two sets of scores (judge vs judge, judge vs human) per criterion.

Four statistics, from the standard libraries: Spearman's rho and Kendall's tau-b (scipy) on the scores
as given, quadratic-weighted Cohen's kappa (scikit-learn) and ordinal Krippendorff's alpha (the
`krippendorff` package) on the scores binned to the 1-5 scale. Scores in [0, 1] are read as
normalised and mapped back with ``1 + 4·s``; other scores are read as 1-5. Pairs where either side is
None are left out and counted.

>>> r = agreement([1, 2, 3, 4, 5], [1, 2, 3, 5, 4])
>>> round(r["spearman"], 2), r["n"]
(0.9, 5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

LEVELS = (1, 2, 3, 4, 5)


def to_levels(values: Sequence[float]) -> list[int]:
    """Bin scores to 1-5: normalised scores (all in [0, 1]) via ``1 + 4·s``, others as they are, rounded."""
    normalised = all(0.0 <= v <= 1.0 for v in values)
    out = []
    for v in values:
        level = 1 + 4 * v if normalised else v
        out.append(int(min(5, max(1, math.floor(level + 0.5)))))
    return out


def agreement(a: Sequence[float | None], b: Sequence[float | None]) -> dict[str, Any]:
    """Spearman, Kendall, quadratic-weighted kappa and ordinal Krippendorff's alpha of two score lists.

    A statistic that is undefined (fewer than two pairs, or a constant side) is None.
    """
    import krippendorff
    from scipy.stats import kendalltau, spearmanr
    from sklearn.metrics import cohen_kappa_score

    if len(a) != len(b):
        raise ValueError(f"score lists differ in length: {len(a)} vs {len(b)}")
    pairs = [(float(x), float(y)) for x, y in zip(a, b) if x is not None and y is not None]
    result: dict[str, Any] = {"n": len(pairs), "missing": len(a) - len(pairs),
                              "spearman": None, "kendall": None, "qwk": None, "alpha": None}
    if len(pairs) < 2:
        return result
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    bx, by = to_levels(xs), to_levels(ys)

    def defined(value: float) -> float | None:
        return None if value is None or math.isnan(value) else float(value)

    if len(set(xs)) > 1 and len(set(ys)) > 1:
        result["spearman"] = defined(spearmanr(xs, ys).statistic)
        result["kendall"] = defined(kendalltau(xs, ys).statistic)
    if len(set(bx) | set(by)) > 1:
        result["qwk"] = defined(cohen_kappa_score(bx, by, labels=list(LEVELS), weights="quadratic"))
        result["alpha"] = defined(
            krippendorff.alpha(reliability_data=[bx, by], level_of_measurement="ordinal", value_domain=list(LEVELS))
        )
    return result
