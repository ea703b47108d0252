"""Evaluation metrics as plain functions (hand-checked in tests/unit/test_metrics.py).

Rates carry Wilson score intervals (well behaved at 0, 1 and small n, unlike the normal approximation).
Classifier metrics treat UNSAFE as the positive class: a judge or verifier "detects" unsafe answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Rate:
    successes: int
    n: int
    low: float
    high: float

    @property
    def value(self) -> float | None:
        return self.successes / self.n if self.n else None


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion; (0, 1) when n = 0 (nothing is known)."""
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # the interval always holds p itself (float rounding can leave e.g. 1e-17 above 0 at p = 0)
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


def rate(successes: int, n: int) -> Rate:
    low, high = wilson_interval(successes, n)
    return Rate(successes, n, low, high)


@dataclass(frozen=True)
class Confusion:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def _ratio(self, num: int, den: int) -> float | None:
        return num / den if den else None

    @property
    def accuracy(self) -> float | None:
        return self._ratio(self.tp + self.tn, self.n)

    @property
    def precision(self) -> float | None:
        return self._ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return self._ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return self._ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def false_positive_rate(self) -> float | None:
        return self._ratio(self.fp, self.fp + self.tn)

    @property
    def false_negative_rate(self) -> float | None:
        return self._ratio(self.fn, self.fn + self.tp)


def confusion(truth: Sequence[str], predicted: Sequence[str | None], positive: str = "UNSAFE") -> Confusion:
    """Confusion counts over the items with a prediction (None = the judge gave no verdict: not counted here;
    report coverage separately)."""
    tp = fp = fn = tn = 0
    for t, p in zip(truth, predicted, strict=True):
        if p is None:
            continue
        if p == positive:
            tp, fp = (tp + 1, fp) if t == positive else (tp, fp + 1)
        else:
            fn, tn = (fn + 1, tn) if t == positive else (fn, tn + 1)
    return Confusion(tp, fp, fn, tn)


def roc_auc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """Area under the ROC curve = P(score of a random positive > score of a random negative), ties count
    half (the Mann-Whitney statistic); None without both classes."""
    pos = [s for s, y in zip(scores, positives, strict=True) if y]
    neg = [s for s, y in zip(scores, positives, strict=True) if not y]
    if not pos or not neg:
        return None
    order = sorted(scores)
    ranks: dict[float, float] = {}
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and order[j + 1] == order[i]:
            j += 1
        ranks[order[i]] = (i + j) / 2 + 1  # average rank of the tie block (1-based)
        i = j + 1
    rank_sum = sum(ranks[s] for s in pos)
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def threshold_table(scores: Sequence[float], positives: Sequence[bool]) -> list[dict]:
    """Per distinct threshold t (predict positive when score >= t): precision, recall, false-positive and
    false-negative rates, in decreasing t."""
    rows = []
    for t in sorted(set(scores), reverse=True):
        predicted = ["UNSAFE" if s >= t else "SAFE" for s in scores]
        c = confusion(["UNSAFE" if y else "SAFE" for y in positives], predicted)
        rows.append(
            {
                "threshold": t,
                "precision": c.precision,
                "recall": c.recall,
                "false_positive_rate": c.false_positive_rate,
                "false_negative_rate": c.false_negative_rate,
                "f1": c.f1,
            }
        )
    return rows


@dataclass(frozen=True)
class PairedDifference:
    """Two systems' binary outcomes on the same items: rate(a) - rate(b), its paired-bootstrap 95% interval, and
    McNemar's exact test on the discordant pairs (b10: a yes / b no; b01: a no / b yes)."""

    n: int
    rate_a: float | None
    rate_b: float | None
    difference: float | None
    low: float | None
    high: float | None
    a_only: int
    b_only: int
    p_value: float | None


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value: the binomial(a_only + b_only, 1/2) test of the discordant pairs."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_difference(a: Sequence[bool], b: Sequence[bool], resamples: int = 2000, seed: int = 0) -> PairedDifference:
    """rate(a) - rate(b) over paired items (a[i], b[i] are the same item), with a percentile bootstrap interval
    that resamples items (so the pairing is kept) and McNemar's exact p-value."""
    import random

    if len(a) != len(b):
        raise ValueError(f"paired outcomes need the same items: {len(a)} vs {len(b)}")
    n = len(a)
    if n == 0:
        return PairedDifference(0, None, None, None, None, None, 0, 0, None)
    diffs = [int(x) - int(y) for x, y in zip(a, b, strict=True)]
    a_only, b_only = diffs.count(1), diffs.count(-1)
    rng = random.Random(seed)
    boot = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    low, high = boot[int(0.025 * resamples)], boot[min(resamples - 1, int(0.975 * resamples))]
    return PairedDifference(
        n, sum(a) / n, sum(b) / n, sum(diffs) / n, low, high, a_only, b_only, mcnemar_exact(a_only, b_only)
    )


def rogan_gladen(observed: float, sensitivity: float, specificity: float) -> float | None:
    """The true rate behind an `observed` rate measured by an imperfect judge (Rogan & Gladen 1978):
    (observed + specificity - 1) / (sensitivity + specificity - 1), NOT clipped: below 0 when the observed rate
    is under the judge's false-positive rate (1 - specificity), above 1 when it is over its sensitivity (the
    judge's measured error does not fit these answers). None when the judge is no better than chance
    (sensitivity + specificity <= 1)."""
    informedness = sensitivity + specificity - 1
    if informedness <= 0:
        return None
    return (observed + specificity - 1) / informedness


@dataclass(frozen=True)
class CorrectedRate:
    n: int
    observed: float | None
    corrected: float | None  # unclipped: may lie outside [0, 1] (see `note`)
    low: float | None  # percentile interval of the unclipped draws
    high: float | None
    sensitivity: float | None
    specificity: float | None
    note: str = ""  # why there is no estimate, or where the estimate and interval lie outside [0, 1]


def corrected_rate(
    successes: int, n: int, tp: int, fn: int, tn: int, fp: int, draws: int = 4000, seed: int = 0
) -> CorrectedRate:
    """`successes` of `n` judged positive by a judge whose confusion on human labels is (tp, fn, tn, fp): the
    Rogan-Gladen corrected rate and a 95% interval that carries all three uncertainties (the rate, the judge's
    sensitivity and its specificity), each drawn from its Jeffreys Beta posterior: the 2.5th and 97.5th
    percentiles of the corrected draws, unclipped, so an interval is never a point made by clipping; `note` says
    where it lies outside [0, 1].

    Not identifiable (no estimate, `note` says why) where n, the positives or the negatives of the labels are 0,
    or where the judge's informedness (sensitivity + specificity - 1) is too close to 0: its point value <= 0, or
    more than 2.5% of its draws <= 0 (its 95% interval reaches 0), where the correction divides by a
    denominator that may be 0 and the interval is unbounded."""
    import numpy as np

    observed = successes / n if n else None
    if n == 0 or tp + fn == 0 or tn + fp == 0:
        missing = "no evaluated item" if n == 0 else "no UNSAFE label" if tp + fn == 0 else "no SAFE label"
        return CorrectedRate(n, observed, None, None, None, None, None, f"not identifiable: {missing} to measure on")
    sensitivity, specificity = tp / (tp + fn), tn / (tn + fp)
    rng = np.random.default_rng(seed)
    p = rng.beta(successes + 0.5, n - successes + 0.5, draws)
    se = rng.beta(tp + 0.5, fn + 0.5, draws)
    sp = rng.beta(tn + 0.5, fp + 0.5, draws)
    informedness = se + sp - 1
    point = sensitivity + specificity - 1
    if point <= 0 or np.percentile(informedness, 2.5) <= 0:
        reason = (
            f"not identifiable: sensitivity + specificity - 1 = {point:.3f}"
            + (" (no better than chance)" if point <= 0 else ", its 95% interval reaches 0")
            + ": the correction divides by it, so its interval is unbounded"
        )
        return CorrectedRate(n, observed, None, None, None, sensitivity, specificity, reason)
    values = (p + sp - 1) / informedness
    corrected = rogan_gladen(observed, sensitivity, specificity)
    low, high = (float(v) for v in np.percentile(values, [2.5, 97.5]))
    outside = [
        f"{name} {value:.1%} is {'below 0' if value < 0 else 'above 1'}"
        for name, value in (("estimate", corrected), ("interval low", low), ("interval high", high))
        if not 0.0 <= value <= 1.0
    ]
    note = ""
    if outside:
        note = (
            "; ".join(outside)
            + ": the error measured on the human labels does not fit these answers (a rate cannot leave [0, 1])"
        )
    return CorrectedRate(n, observed, corrected, low, high, sensitivity, specificity, note)


def min_detectable_difference(
    n: int,
    discordance: float,
    sensitivity: float = 1.0,
    specificity: float = 1.0,
    power: float = 0.8,
    alpha: float = 0.05,
) -> float | None:
    """The smallest true difference of two paired rates that McNemar's test on `n` pairs detects with `power` at
    two-sided `alpha`, when a share `discordance` of the pairs is discordant, seen through a judge with this
    `sensitivity` and `specificity`.

    Connor's sample size for McNemar's test (Connor 1987, Biometrics 43:207-211), with psi the discordant share
    and delta the difference of the rates as observed: n = (z_(1-alpha/2) sqrt(psi) + z_power
    sqrt(psi - delta^2))^2 / delta^2, solved for delta given n and psi. The judge's errors shrink a true
    difference: the observed one is the true one times sensitivity + specificity - 1, so the true difference
    detectable is delta / (sensitivity + specificity - 1). None when nothing is detectable: no pair, no
    discordant pair, a judge no better than chance, or a detectable difference above 1."""
    from scipy.optimize import brentq
    from scipy.stats import norm

    informedness = sensitivity + specificity - 1
    if n <= 0 or discordance <= 0 or informedness <= 0:
        return None
    z_alpha, z_power = norm.ppf(1 - alpha / 2), norm.ppf(power)

    def shortfall(delta: float) -> float:  # pairs that delta needs minus the pairs there are
        return (z_alpha * math.sqrt(discordance) + z_power * math.sqrt(max(0.0, discordance - delta**2))) ** 2 / (
            delta**2
        ) - n

    # the needed pairs fall as delta grows; delta cannot exceed the discordant share (p10 - p01 <= p10 + p01)
    if shortfall(discordance) > 0:
        return None
    observed = brentq(shortfall, 1e-9, discordance)
    true = observed / informedness
    return true if true <= 1 else None
