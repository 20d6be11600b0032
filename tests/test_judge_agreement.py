"""Agreement statistics against hand-computed values."""

from __future__ import annotations

import pytest

from kardia.judge.agreement import agreement, to_levels


def test_perfect_agreement():
    r = agreement([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])
    assert r["spearman"] == pytest.approx(1.0) and r["kendall"] == pytest.approx(1.0)
    assert r["qwk"] == pytest.approx(1.0) and r["alpha"] == pytest.approx(1.0)


def test_hand_computed_values():
    a, b = [1, 2, 3, 4, 5, 3], [1, 3, 3, 5, 4, 2]
    r = agreement(a, b)
    # Spearman: ranks a = [1, 2, 3.5, 5, 6, 3.5], b = [1, 3.5, 3.5, 6, 5, 2]; Pearson of ranks
    ra, rb = [1, 2, 3.5, 5, 6, 3.5], [1, 3.5, 3.5, 6, 5, 2]
    ma, mb = sum(ra) / 6, sum(rb) / 6
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    rho = cov / (sum((x - ma) ** 2 for x in ra) ** 0.5 * sum((y - mb) ** 2 for y in rb) ** 0.5)
    assert r["spearman"] == pytest.approx(rho)
    # Quadratic kappa: 1 - sum(w*O)/sum(w*E), w = (i-j)^2/16
    observed = sum((x - y) ** 2 for x, y in zip(a, b)) / 16 / 6
    expected = sum((x - y) ** 2 for x in a for y in b) / 16 / 36
    assert r["qwk"] == pytest.approx(1 - observed / expected)
    assert r["qwk"] == pytest.approx(0.8)
    assert r["n"] == 6 and r["missing"] == 0
    assert -1.0 <= r["alpha"] <= 1.0


def test_kendall_tau_b_with_a_swap():
    # one discordant pair out of ten, no ties: (9 - 1) / 10
    assert agreement([1, 2, 3, 4, 5], [1, 2, 3, 5, 4])["kendall"] == pytest.approx(0.8)


def test_none_pairs_are_left_out_and_counted():
    r = agreement([0.0, 0.25, None, 1.0], [1, 2, 3, None])
    assert r["n"] == 2 and r["missing"] == 2


def test_normalised_scores_are_binned_back_to_1_5():
    assert to_levels([0.0, 0.25, 0.5, 0.74, 1.0]) == [1, 2, 3, 4, 5]
    assert to_levels([1, 2.4, 4.6]) == [1, 2, 5]


def test_undefined_statistics_are_none():
    r = agreement([3, 3, 3], [3, 3, 3])
    assert r["spearman"] is None and r["qwk"] is None and r["alpha"] is None
    assert agreement([1], [1])["spearman"] is None
    with pytest.raises(ValueError):
        agreement([1, 2], [1])
