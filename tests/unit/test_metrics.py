"""Evaluation metrics against values computed by hand."""

import math

import pytest

from sinternal_assets.evaluation.metrics import confusion, rate, roc_auc, threshold_table, wilson_interval


def test_wilson_interval_by_hand():
    # 8 of 10, z = 1.96: centre (0.8 + 0.19208) / 1.38416 = 0.716800; half-width
    # 1.96 * sqrt(0.016 + 0.0096040) / 1.38416 = 0.226618 (z^2 = 3.841459)
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490162, abs=1e-5) and high == pytest.approx(0.943318, abs=1e-5)
    # 0 of 20 is not "exactly 0": the upper bound is z^2 / (n + z^2)
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and high == pytest.approx(3.841459 / (20 + 3.841459), abs=1e-6)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    r = rate(3, 4)
    assert r.value == 0.75 and r.low < 0.75 < r.high and rate(0, 0).value is None


def test_confusion_and_scores_by_hand():
    truth = ["UNSAFE", "UNSAFE", "UNSAFE", "SAFE", "SAFE", "SAFE", "UNSAFE"]
    pred = ["UNSAFE", "UNSAFE", "SAFE", "UNSAFE", "SAFE", "SAFE", None]  # the last: no verdict, not counted
    c = confusion(truth, pred)
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 2)
    assert c.accuracy == pytest.approx(4 / 6) and c.precision == pytest.approx(2 / 3)
    assert c.recall == pytest.approx(2 / 3) and c.f1 == pytest.approx(2 / 3)
    assert c.false_positive_rate == pytest.approx(1 / 3) and c.false_negative_rate == pytest.approx(1 / 3)
    empty = confusion([], [])
    assert empty.precision is None and empty.f1 is None


def test_roc_auc_by_hand():
    # positives 0.9, 0.4; negatives 0.5, 0.1: pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) -> 3/4
    assert roc_auc([0.9, 0.4, 0.5, 0.1], [True, True, False, False]) == pytest.approx(0.75)
    # a tie between a positive and a negative counts half: (1 + 0.5) / 2
    assert roc_auc([0.7, 0.3, 0.3], [True, True, False]) == pytest.approx(0.75)
    assert roc_auc([0.2, 0.8], [True, True]) is None
    assert roc_auc([0.9, 0.1], [True, False]) == 1.0


def test_threshold_table_by_hand():
    rows = threshold_table([0.9, 0.4, 0.5, 0.1], [True, True, False, False])
    assert [r["threshold"] for r in rows] == [0.9, 0.5, 0.4, 0.1]
    at_05 = rows[1]  # predicts 0.9 and 0.5 unsafe: tp 1, fp 1, fn 1, tn 1
    assert (at_05["precision"], at_05["recall"], at_05["false_positive_rate"]) == (0.5, 0.5, 0.5)
    lowest = rows[-1]  # everything unsafe
    assert lowest["recall"] == 1.0 and lowest["false_positive_rate"] == 1.0 and lowest["false_negative_rate"] == 0.0
    assert not math.isnan(rows[0]["precision"])


def test_rates_by_group_with_intervals():
    import polars as pl

    from sinternal_assets.evaluation.aggregate import rates_by

    frame = pl.DataFrame(
        {
            "checkpoint": ["a", "a", "a", "a", "b", "b", "b"],
            "family": ["dan", "dan", "none", "none", "dan", "dan", "dan"],
            "unsafe": [True, False, False, None, True, True, False],
        }
    )
    table = rates_by(frame, ["checkpoint"], "unsafe")
    assert table["n"].to_list() == [3, 3]  # the null (no verdict) is not counted
    assert table["successes"].to_list() == [1, 2]
    assert table["rate"].to_list() == pytest.approx([1 / 3, 2 / 3])
    low, high = wilson_interval(1, 3)
    assert (table["ci_low"][0], table["ci_high"][0]) == pytest.approx((low, high))
    by_family = rates_by(frame, ["checkpoint", "family"], "unsafe")
    assert by_family.filter((pl.col("checkpoint") == "a") & (pl.col("family") == "none"))["n"][0] == 1


def test_judge_scores_against_human_labels():
    import polars as pl

    from sinternal_assets.evaluation.aggregate import judge_scores

    frame = pl.DataFrame(
        {
            "source": ["x", "x", "x", "x", "y", "y"],
            "human": ["UNSAFE", "UNSAFE", "SAFE", "SAFE", "UNSAFE", "SAFE"],
            "judge": ["UNSAFE", "SAFE", "SAFE", None, "UNSAFE", "UNSAFE"],
        }
    )
    overall = judge_scores(frame, "human", "judge").row(0, named=True)
    # judged 5: tp 2 (x0, y0), fn 1 (x1), tn 1 (x2), fp 1 (y1)
    assert overall["items"] == 6 and overall["coverage"] == pytest.approx(5 / 6)
    assert overall["accuracy"] == pytest.approx(3 / 5) and overall["precision"] == pytest.approx(2 / 3)
    assert overall["recall"] == pytest.approx(2 / 3) and overall["f1"] == pytest.approx(2 / 3)
    assert (overall["accuracy_ci_low"], overall["accuracy_ci_high"]) == pytest.approx(wilson_interval(3, 5))
    per_source = {r["source"]: r for r in judge_scores(frame, "human", "judge", ["source"]).iter_rows(named=True)}
    assert per_source["x"]["accuracy"] == pytest.approx(2 / 3) and per_source["y"]["precision"] == 0.5


def test_mcnemar_exact_by_hand():
    from sinternal_assets.evaluation.metrics import mcnemar_exact

    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0
    # 0 vs 6 discordant: 2 * (1/2)^6
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)
    # 1 vs 9: 2 * (C(10,0) + C(10,1)) / 2^10 = 22 / 1024
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)


def test_paired_difference_keeps_the_pairs():
    from sinternal_assets.evaluation.metrics import paired_difference

    a = [True] * 30 + [False] * 70
    b = [True] * 50 + [False] * 50  # b is unsafe on every item a is, and on 20 more
    d = paired_difference(a, b)
    assert (d.n, d.rate_a, d.rate_b) == (100, 0.3, 0.5)
    assert d.difference == pytest.approx(-0.2)
    assert (d.a_only, d.b_only) == (0, 20)
    assert d.high < 0 and d.low < d.difference < d.high
    assert d.p_value < 1e-5
    same = paired_difference(a, a)
    assert same.difference == 0 and same.low == same.high == 0 and same.p_value == 1.0
    with pytest.raises(ValueError, match="same items"):
        paired_difference(a, b[:10])


def test_rogan_gladen_corrects_a_rate_for_the_judges_error():
    from sinternal_assets.evaluation.metrics import corrected_rate, rogan_gladen

    assert rogan_gladen(0.3, 0.8, 0.9) == pytest.approx(0.2 / 0.7)
    assert rogan_gladen(0.05, 0.8, 0.9) == pytest.approx(-0.05 / 0.7)  # below the false-positive floor: unclipped
    assert rogan_gladen(0.3, 0.5, 0.5) is None  # a judge no better than chance corrects nothing
    perfect = corrected_rate(30, 100, tp=100, fn=0, tn=100, fp=0)
    assert perfect.corrected == pytest.approx(0.3) and perfect.low < 0.3 < perfect.high and perfect.note == ""
    noisy = corrected_rate(30, 100, tp=80, fn=20, tn=90, fp=10)
    assert noisy.corrected == pytest.approx(0.2 / 0.7) and (noisy.sensitivity, noisy.specificity) == (0.8, 0.9)
    assert noisy.high - noisy.low > perfect.high - perfect.low  # the judge's uncertainty widens the interval
    assert corrected_rate(30, 100, tp=80, fn=20, tn=90, fp=10) == noisy  # seeded: the same every run
    assert corrected_rate(0, 0, 1, 1, 1, 1).corrected is None
    chance = corrected_rate(5, 20, tp=1, fn=4, tn=3, fp=2)  # sensitivity 0.2 + specificity 0.6 <= 1
    assert (chance.corrected, chance.low, chance.high) == (None, None, None)
    assert "no better than chance" in chance.note
    assert corrected_rate(3, 10, tp=0, fn=0, tn=5, fp=1).corrected is None  # no UNSAFE label to measure it on


def test_corrected_rate_is_never_a_point_made_by_clipping():
    from sinternal_assets.evaluation.metrics import corrected_rate

    # the study's case: an observed ASR under the judge's false-positive rate (1 - 0.703) corrects below 0
    floor = corrected_rate(20, 280, tp=117, fn=23, tn=97, fp=41)
    assert floor.corrected == pytest.approx((20 / 280 + 97 / 138 - 1) / (117 / 140 + 97 / 138 - 1))
    assert floor.corrected < 0 and floor.low < floor.corrected < floor.high  # an interval, not [0, 0]
    assert floor.high - floor.low > 0.05
    assert "estimate" in floor.note and "below 0" in floor.note
    # a judge barely better than chance on few labels: sensitivity + specificity - 1 = 0.1, its interval reaches 0
    weak = corrected_rate(30, 100, tp=6, fn=4, tn=5, fp=5)
    assert (weak.corrected, weak.low, weak.high) == (None, None, None)
    assert weak.note.startswith("not identifiable") and "0.100" in weak.note


def test_min_detectable_difference_inverts_connors_mcnemar_sample_size():
    from sinternal_assets.evaluation.metrics import min_detectable_difference

    # Connor (1987) by hand: psi 0.3, delta 0.1, 80% power, alpha 0.05:
    # n = (1.959964 * sqrt(0.3) + 0.841621 * sqrt(0.29))^2 / 0.01 = (1.073517 + 0.453226)^2 / 0.01 = 233.094
    assert min_detectable_difference(233.094, 0.3) == pytest.approx(0.1, abs=1e-4)
    # a judge with sensitivity 48.5% and specificity 86.2% sees a true difference x 0.347
    assert min_detectable_difference(233.094, 0.3, 0.485, 0.862) == pytest.approx(0.1 / 0.347, abs=1e-3)
    assert min_detectable_difference(100, 0.1) > min_detectable_difference(400, 0.1)  # more pairs, smaller
    assert min_detectable_difference(0, 0.3) is None
    assert min_detectable_difference(100, 0.0) is None  # no discordant pair: nothing to detect
    assert min_detectable_difference(100, 0.3, 0.5, 0.5) is None  # a judge at chance
    assert min_detectable_difference(5, 0.2) is None  # too few pairs for any difference the discordance allows
