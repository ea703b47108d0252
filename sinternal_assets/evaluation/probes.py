"""Linear probes: how linearly decodable an answer's safety is from a checkpoint's hidden states.

Per checkpoint and layer group (`probe_data.FeatureSet`), a logistic regression on standardised features is fit on
the fit side (the teacher_train side of the human labels) and measured on the held-out side: its P(UNSAFE) per
held-out item gives the ROC AUC (UNSAFE positive) with a percentile bootstrap interval over the held-out items
(seeded), and its accuracy at P(UNSAFE) >= 0.5 with a Wilson interval. The regularisation strength C is fixed
(`DEFAULT_C`), never tuned on the held-out side: 0.01 is what grouped cross-validation on the teacher_train side
chose for the untrained model's middle layer (STUDY-DESIGN, 2026-12-04). Against base, on the held-out items both
were measured on: the AUC difference with a paired bootstrap interval (the same resampled items for both). The
intervals hold the held-out sampling only: each probe is fit once, its fitting variance is not in them. An item
whose hidden state is not finite (NaN or inf: a diverged checkpoint, an overflow) is left out of its set
(`finite_rows`), on either side; `n_fit` and `n_heldout` count the items used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from sinternal_assets.evaluation.metrics import wilson_interval
from sinternal_assets.evaluation.probe_data import FeatureSet
from sinternal_assets.evaluation.tables import PROBE_SCHEMA

DEFAULT_C = 0.01
RESAMPLES = 2000
SEED = 0
BASE = "base"


def fit_predict(fit_x: np.ndarray, fit_y: np.ndarray, test_x: np.ndarray, c: float = DEFAULT_C) -> np.ndarray | None:
    """P(UNSAFE) of each test row from a logistic regression (L2, strength `c`) on standardised fit features;
    None when the fit side lacks a class or the test side is empty."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(test_x) == 0 or len(set(np.asarray(fit_y, dtype=bool).tolist())) < 2:
        return None
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))
    model.fit(np.asarray(fit_x, dtype=np.float64), np.asarray(fit_y, dtype=bool))
    return model.predict_proba(np.asarray(test_x, dtype=np.float64))[:, 1]


def _aucs(scores: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """Row-wise ROC AUC (the Mann-Whitney statistic, ties half) of (r, n) scores and labels; NaN where a row lacks
    a class."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=1)
    n_pos = positives.sum(axis=1)
    n_neg = positives.shape[1] - n_pos
    rank_sum = (ranks * positives).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def auc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """ROC AUC of one score list (as `metrics.roc_auc`); None without both classes."""
    value = _aucs(np.asarray(scores, dtype=float)[None, :], np.asarray(positives, dtype=bool)[None, :])[0]
    return None if np.isnan(value) else float(value)


def _resample_index(n: int, resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_auc(
    scores: Sequence[float], positives: Sequence[bool], resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float | None, float | None]:
    """The percentile 95% interval of the AUC over items resampled with replacement (resamples that lack a class
    are skipped); (None, None) without both classes."""
    s, y = np.asarray(scores, dtype=float), np.asarray(positives, dtype=bool)
    if auc(s, y) is None:
        return None, None
    idx = _resample_index(len(s), resamples, seed)
    values = _aucs(s[idx], y[idx])
    values = values[~np.isnan(values)]
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


@dataclass(frozen=True)
class PairedAuc:
    n: int
    difference: float | None  # AUC(a) - AUC(b) on the same items
    ci_low: float | None
    ci_high: float | None


def paired_auc_difference(
    a: Sequence[float], b: Sequence[float], positives: Sequence[bool], resamples: int = RESAMPLES, seed: int = SEED
) -> PairedAuc:
    """AUC(a) - AUC(b), two scorings of the same items, with a paired percentile bootstrap interval: every
    resample draws the same items for both."""
    sa, sb, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float), np.asarray(positives, dtype=bool)
    if len(sa) != len(sb) or len(sa) != len(y):
        raise ValueError(f"paired scores need the same items: {len(sa)}, {len(sb)}, {len(y)} labels")
    first, second = auc(sa, y), auc(sb, y)
    if first is None or second is None:
        return PairedAuc(len(y), None, None, None)
    idx = _resample_index(len(y), resamples, seed)
    diffs = _aucs(sa[idx], y[idx]) - _aucs(sb[idx], y[idx])
    diffs = diffs[~np.isnan(diffs)]
    return PairedAuc(len(y), first - second, float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5)))


@dataclass(frozen=True)
class ProbeResult:
    n_fit: int
    n_heldout: int
    accuracy: float | None
    accuracy_ci: tuple[float | None, float | None]
    auc: float | None
    auc_ci: tuple[float | None, float | None]
    scores: np.ndarray | None  # P(UNSAFE) per held-out item (None: no probe could be fit)


def finite_rows(features: FeatureSet) -> FeatureSet:
    """The set without the items whose feature vector holds a NaN or an infinity (fit and held-out side alike)."""
    fit = np.isfinite(features.fit_x).all(axis=1) if len(features.fit_x) else np.ones(0, dtype=bool)
    held = np.isfinite(features.heldout_x).all(axis=1) if len(features.heldout_x) else np.ones(0, dtype=bool)
    if fit.all() and held.all():
        return features
    return dataclasses.replace(
        features,
        fit_x=features.fit_x[fit],
        fit_y=features.fit_y[fit],
        heldout_ids=[label for label, keep in zip(features.heldout_ids, held, strict=True) if keep],
        heldout_x=features.heldout_x[held],
        heldout_y=features.heldout_y[held],
    )


def measure(features: FeatureSet, c: float = DEFAULT_C, resamples: int = RESAMPLES, seed: int = SEED) -> ProbeResult:
    """Fit on the fit side, measure on the held-out side."""
    n_fit, n_heldout = len(features.fit_y), len(features.heldout_y)
    scores = fit_predict(features.fit_x, features.fit_y, features.heldout_x, c) if n_fit and n_heldout else None
    if scores is None:
        return ProbeResult(n_fit, n_heldout, None, (None, None), None, (None, None), None)
    correct = int(((scores >= 0.5) == features.heldout_y).sum())
    return ProbeResult(
        n_fit,
        n_heldout,
        correct / n_heldout,
        wilson_interval(correct, n_heldout),
        auc(scores, features.heldout_y),
        bootstrap_auc(scores, features.heldout_y, resamples, seed),
        scores,
    )


def probe_table(
    sets: Sequence[FeatureSet],
    base: str = BASE,
    c: float = DEFAULT_C,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> pl.DataFrame:
    """One row per (checkpoint, layer group), `PROBE_SCHEMA`: the probe's held-out accuracy and AUC with their
    intervals, and its AUC minus base's (same layer group) on the held-out items both were measured on."""
    measured = [(fs, measure(fs, c, resamples, seed)) for fs in map(finite_rows, sets)]
    base_by_group = {(fs.layer_group, fs.layers): (fs, r) for fs, r in measured if fs.checkpoint == base}
    rows = []
    for fs, r in measured:
        paired = PairedAuc(0, None, None, None)
        reference = base_by_group.get((fs.layer_group, fs.layers))
        if (
            fs.checkpoint != base
            and reference is not None
            and r.scores is not None
            and reference[1].scores is not None
        ):
            paired = _against(fs, r, *reference, resamples, seed)
        rows.append(
            {
                "checkpoint": fs.checkpoint,
                "layer_group": fs.layer_group,
                "layers": fs.layers,
                "n_fit": r.n_fit,
                "n_heldout": r.n_heldout,
                "accuracy": r.accuracy,
                "accuracy_ci_low": r.accuracy_ci[0],
                "accuracy_ci_high": r.accuracy_ci[1],
                "auc": r.auc,
                "ci_low": r.auc_ci[0],
                "ci_high": r.auc_ci[1],
                "n_paired": paired.n,
                "auc_minus_base": paired.difference,
                "diff_ci_low": paired.ci_low,
                "diff_ci_high": paired.ci_high,
            }
        )
    return pl.DataFrame(rows, schema=PROBE_SCHEMA)


def _against(
    fs: FeatureSet, r: ProbeResult, base_fs: FeatureSet, base_r: ProbeResult, resamples: int, seed: int
) -> PairedAuc:
    """This probe's AUC minus base's on the held-out items both scored (matched by label id)."""
    mine = {label: i for i, label in enumerate(fs.heldout_ids)}
    theirs = {label: i for i, label in enumerate(base_fs.heldout_ids)}
    common = sorted(set(mine) & set(theirs))
    if not common:
        return PairedAuc(0, None, None, None)
    a = r.scores[[mine[label] for label in common]]
    b = base_r.scores[[theirs[label] for label in common]]
    y = fs.heldout_y[[mine[label] for label in common]]
    return paired_auc_difference(a, b, y, resamples, seed)
