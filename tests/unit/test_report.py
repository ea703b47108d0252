"""The evaluation report (HTML + markdown) from hand-built tables: structure, formatting, honesty, escaping,
self-containment and atomic writing. `make_tables` is shared with tests/browser/test_report_ui.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import polars as pl
import pytest

from sinternal_assets.evaluation import plots
from sinternal_assets.evaluation.metrics import wilson_interval
from sinternal_assets.evaluation.report import (
    LATEST,
    SECTIONS,
    load_paper_numbers,
    render_html,
    render_markdown,
    write_report,
)
from sinternal_assets.evaluation.tables import (
    CONTROLS_SCHEMA,
    PROBE_SCHEMA,
    REVIEW_DISPUTE_SCHEMA,
    REVIEW_KAPPA_SCHEMA,
    EvaluationTables,
)

RATE = {"n": pl.Int64, "successes": pl.Int64, "rate": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64}
S, I, F = pl.String, pl.Int64, pl.Float64
SCHEMAS = {  # the column contracts documented in sinternal_assets/evaluation/tables.py
    "asr": {"checkpoint": S, "source": S, "family": S, "family_role": S, "judge": S, **RATE},
    "asr_by_role": {"checkpoint": S, "family_role": S, "judge": S, **RATE},
    "over_refusal": {"checkpoint": S, "source": S, "judge": S, **RATE},
    "utility": {"checkpoint": S, **RATE},
    "reasoning_gap": {"checkpoint": S, "judge": S, "n": I, "unsafe_reasoning": F, "unsafe_final": F, "gap": F},
    "judge_accuracy": {
        "judge": S,
        "benchmark": S,
        "length": S,
        "labels": S,
        "items": I,
        "coverage": F,
        "accuracy": F,
        "accuracy_ci_low": F,
        "accuracy_ci_high": F,
        "sensitivity": F,
        "sensitivity_ci_low": F,
        "sensitivity_ci_high": F,
        "specificity": F,
        "specificity_ci_low": F,
        "specificity_ci_high": F,
        "precision": F,
        "recall": F,
        "f1": F,
    },
    "confusions": {"judge": S, "benchmark": S, "length": S, "tp": I, "fp": I, "fn": I, "tn": I},
    "verification": {
        "checkpoint": S,
        "benchmark": S,
        "labels": S,
        "items": I,
        "coverage": F,
        "accuracy": F,
        "precision": F,
        "recall": F,
        "f1": F,
        "f1_strict": F,
        "false_positive_rate": F,
        "false_negative_rate": F,
        "roc_auc": F,
        "score_f1": F,
        "forced_coverage": F,
    },
    "thresholds": {
        "checkpoint": S,
        "threshold": F,
        "precision": F,
        "recall": F,
        "false_positive_rate": F,
        "false_negative_rate": F,
        "f1": F,
    },
    "agreement": {"judge_a": S, "judge_b": S, "n": I, "agreement": F},
    "comparison": {
        "checkpoint": S,
        "harmful_asr": F,
        "heldout_asr": F,
        "train_family_asr": F,
        "over_refusal": F,
        "utility": F,
        "verification_f1": F,
        "verification_coverage": F,
        "verification_f1_strict": F,
        "verification_f1_forced": F,
        "verification_forced_coverage": F,
        "roc_auc": F,
    },
    "history": {"run_id": S, "created_at": pl.Datetime("us", "UTC"), "checkpoint": S, "metric": S, "value": F},
    "budgets": {
        "checkpoint": S,
        "method": S,
        "n_examples": I,
        "steps": I,
        "examples_per_step": I,
        "examples_seen": I,
        "epochs": F,
        "supervised_tokens": I,
        "tokens": I,
        "shortened": I,
        "dropped": I,
        "precision": S,
        "first_loss": F,
        "last_loss": F,
        "first_reward": F,
        "last_reward": F,
        "reward_terms": S,
    },
    "curves": {"checkpoint": S, "method": S, "step": I, "metric": S, "value": F},
    "by_agreement": {"judge": S, "raters": S, "items": I, "correct": I, "accuracy": F, "ci_low": F, "ci_high": F},
    "corrected": {
        "checkpoint": S,
        "family_role": S,
        "judge": S,
        "n": I,
        "observed": F,
        "corrected": F,
        "ci_low": F,
        "ci_high": F,
        "sensitivity": F,
        "specificity": F,
        "judge_length": S,
        "note": S,
    },
}
PAPER_ONLY = ("44.4", "18.4", "95.6", "99.2")  # published numbers that must appear in the paper section only


def _rate(successes: int, n: int) -> dict:
    low, high = wilson_interval(successes, n)
    return {"n": n, "successes": successes, "rate": successes / n if n else None, "ci_low": low, "ci_high": high}


def _frame(name: str, rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMAS[name]) if rows else pl.DataFrame(schema=SCHEMAS[name])


def _control(name: str, method: str, effect, low, high, p, passed, note: str) -> dict:
    measure = f"measure of {name}"
    values = {"n": 30, "effect": effect, "ci_low": low, "ci_high": high, "p": p, "passed": passed, "note": note}
    return {"name": name, "method": method, "baseline": "base", "measure": measure, **values}


# one control passes, one fails, one could not be computed
CONTROLS = [
    _control("refusal_rises", "refusal_sft", 0.7667, 0.6, 0.9, 1.2e-7, True, "refusal detector accuracy 75.0%"),
    _control("verification_auc_rises", "verifier_sft", -0.042, -0.1, 0.02, 0.21, False, "AUC 0.41 vs 0.45"),
    _control("grpo_reward_rises", "verifier_grpo", None, None, None, None, None, "not computable: not trained"),
    _control("sft_loss_flat", "refusal_sft", -0.33, -0.5, -0.15, 0.001, False, "still falling: 16 of 64 steps"),
]


def make_tables(checkpoints: tuple[str, str] = ("base", "verifier_sft"), **overrides) -> EvaluationTables:
    """Two checkpoints, two judges (teacher, keyword), every frame filled by hand except `utility` (empty: 0 rows,
    its columns). Shaped as `results.build_tables` shapes them: rates per family carry source 'all', rates per
    source carry family and role 'all', `asr_by_role` and `over_refusal` have their pooled 'all' rows. Base's
    direct-prompt ASR under the teacher is 1 of 4: 25.0% [4.6%, 69.9%]."""
    base, trained = checkpoints
    families = (("none", "none", "harmbench"), ("roleplay", "train", "harmbench"), ("dan", "heldout", "advbench"))
    successes = {
        (base, "teacher"): (1, 2, 3),
        (trained, "teacher"): (0, 0, 1),
        (base, "keyword"): (2, 2, 3),
        (trained, "keyword"): (0, 1, 2),
    }
    asr, asr_by_role = [], []
    for (c, j), counts in successes.items():
        asr += [
            {"checkpoint": c, "source": "all", "family": f, "family_role": role, "judge": j, **_rate(k, 4)}
            for (f, role, _), k in zip(families, counts, strict=True)
        ]
        asr += [
            {
                "checkpoint": c,
                "source": "harmbench",
                "family": "all",
                "family_role": "all",
                "judge": j,
                **_rate(counts[0] + counts[1], 8),
            },
            {
                "checkpoint": c,
                "source": "advbench",
                "family": "all",
                "family_role": "all",
                "judge": j,
                **_rate(counts[2], 4),
            },
        ]
        asr_by_role += [
            {"checkpoint": c, "family_role": role, "judge": j, **_rate(k, 4)}
            for (_, role, _), k in zip(families, counts, strict=True)
        ]
        asr_by_role.append({"checkpoint": c, "family_role": "all", "judge": j, **_rate(sum(counts), 12)})
    over_refusal = [
        {"checkpoint": c, "source": source, "judge": "keyword", **_rate(k, n)}
        for c, refused in ((base, (2, 1)), (trained, (1, 0)))
        for source, k, n in (("xstest", refused[0], 5), ("orbench", refused[1], 5), ("all", sum(refused), 10))
    ]
    reasoning_gap = [
        {"checkpoint": base, "judge": "teacher", "n": 4, "unsafe_reasoning": 0.5, "unsafe_final": 0.25, "gap": 0.25},
        {
            "checkpoint": trained,
            "judge": "teacher",
            "n": 4,
            "unsafe_reasoning": 0.25,
            "unsafe_final": 0.0,
            "gap": 0.25,
        },
    ]
    teacher_low, teacher_high = wilson_interval(7, 8)
    keyword_low, keyword_high = wilson_interval(7, 10)
    refusal_low, refusal_high = wilson_interval(4, 5)
    judge_accuracy = [
        {
            "judge": "teacher",
            "benchmark": "all",
            "labels": "human",
            "items": 8,
            "coverage": 1.0,
            "accuracy": 0.875,
            "accuracy_ci_low": teacher_low,
            "accuracy_ci_high": teacher_high,
            "precision": 1.0,
            "recall": 0.75,
            "f1": 6 / 7,
        },
        {
            "judge": "keyword",
            "benchmark": "all",
            "labels": "human",
            "items": 10,
            "coverage": 1.0,
            "accuracy": 0.7,
            "accuracy_ci_low": keyword_low,
            "accuracy_ci_high": keyword_high,
            "precision": 2 / 3,
            "recall": 0.5,
            "f1": 4 / 7,
        },
        {
            "judge": "keyword",
            "benchmark": "pyrit_refusal",
            "labels": "human",
            "items": 5,
            "coverage": 1.0,
            "accuracy": 0.8,
            "accuracy_ci_low": refusal_low,
            "accuracy_ci_high": refusal_high,
            "precision": 1.0,
            "recall": 2 / 3,
            "f1": 0.8,
        },
    ]
    confusions = [
        {"judge": "teacher", "benchmark": "all", "length": "full", "tp": 3, "fp": 0, "fn": 1, "tn": 4},
        {"judge": "teacher", "benchmark": "all", "length": "eval", "tp": 1, "fp": 0, "fn": 3, "tn": 4},
        {"judge": "keyword", "benchmark": "all", "length": "full", "tp": 2, "fp": 1, "fn": 2, "tn": 5},
        {"judge": "keyword", "benchmark": "pyrit_refusal", "length": "full", "tp": 2, "fp": 0, "fn": 1, "tn": 2},
    ]
    # the teacher on the same answers cut to the eval token budget: 5 of 8 right, sensitivity 1/4, specificity 4/4
    eval_low, eval_high = wilson_interval(5, 8)
    judge_accuracy.insert(
        1,
        {
            **judge_accuracy[0],
            "length": "eval",
            "accuracy": 0.625,
            "accuracy_ci_low": eval_low,
            "accuracy_ci_high": eval_high,
            "precision": 1.0,
            "recall": 0.25,
            "f1": 0.4,
        },
    )
    for row in judge_accuracy:
        c = next(
            c
            for c in confusions
            if (c["judge"], c["benchmark"], c["length"]) == (row["judge"], row["benchmark"], row.get("length", "full"))
        )
        row["length"] = c["length"]
        for name, hit, miss in (("sensitivity", "tp", "fn"), ("specificity", "tn", "fp")):
            low, high = wilson_interval(c[hit], c[hit] + c[miss])
            row.update({name: c[hit] / (c[hit] + c[miss]), f"{name}_ci_low": low, f"{name}_ci_high": high})
    verification = [
        {
            "checkpoint": c,
            "benchmark": "all",
            "labels": "human",
            "items": 8,
            "coverage": 1.0,
            "accuracy": a,
            "precision": p,
            "recall": r,
            "f1": f,
            "f1_strict": f,
            "false_positive_rate": fpr,
            "false_negative_rate": 1 - r,
            "roc_auc": auc,
            "score_f1": f,
            "forced_coverage": 1.0,
        }
        for c, a, p, r, f, fpr, auc in (
            (base, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5),
            (trained, 0.75, 0.8, 0.75, 0.774, 0.2, 0.81),
        )
    ]
    thresholds = [
        {
            "checkpoint": c,
            "threshold": t,
            "precision": p,
            "recall": r,
            "false_positive_rate": fpr,
            "false_negative_rate": 1 - r,
            "f1": 2 * p * r / (p + r),
        }
        for c, t, p, r, fpr in (
            (base, 0.9, 0.5, 0.25, 0.25),
            (base, 0.5, 0.5, 0.5, 0.5),
            (base, 0.1, 0.5, 1.0, 1.0),
            (trained, 0.9, 1.0, 0.5, 0.0),
            (trained, 0.5, 0.8, 0.75, 0.2),
            (trained, 0.1, 0.6, 1.0, 0.6),
        )
    ]
    agreement = [{"judge_a": "keyword", "judge_b": "teacher", "n": 24, "agreement": 0.75}]
    comparison = [
        {
            "checkpoint": base,
            "harmful_asr": 0.5,
            "heldout_asr": 0.75,
            "train_family_asr": 0.5,
            "over_refusal": 0.3,
            "utility": None,
            "verification_f1": 0.5,
            "verification_coverage": 1.0,
            "verification_f1_strict": 0.5,
            "verification_f1_forced": 0.5,
            "verification_forced_coverage": 1.0,
            "roc_auc": 0.5,
        },
        {
            "checkpoint": trained,
            "harmful_asr": 1 / 12,
            "heldout_asr": 0.25,
            "train_family_asr": 0.0,
            "over_refusal": 0.1,
            "utility": None,
            "verification_f1": 0.774,
            "verification_coverage": 1.0,
            "verification_f1_strict": 0.774,
            "verification_f1_forced": 0.774,
            "verification_forced_coverage": 1.0,
            "roc_auc": 0.81,
        },
    ]
    runs = (
        ("run-1", datetime(2025, 1, 1, 12, tzinfo=UTC)),
        ("run-2", datetime(2025, 1, 2, 9, tzinfo=UTC)),
    )
    history = [
        {"run_id": run, "created_at": at, "checkpoint": c, "metric": m, "value": v}
        for k, (run, at) in enumerate(runs)
        for c in checkpoints
        for m, v in (
            ("harmful_asr", 0.5 - 0.1 * k if c == base else 0.2 - 0.1 * k),
            ("roc_auc", 0.5 if c == base else 0.7 + 0.1 * k),
        )
    ]
    frames = {
        "asr": asr,
        "asr_by_role": asr_by_role,
        "over_refusal": over_refusal,
        "utility": [],
        "reasoning_gap": reasoning_gap,
        "judge_accuracy": judge_accuracy,
        "confusions": confusions,
        "verification": verification,
        "thresholds": thresholds,
        "agreement": agreement,
        "comparison": comparison,
        "history": history,
        "budgets": [
            {
                "checkpoint": trained,
                "method": "sft",
                "n_examples": 40,
                "steps": 30,
                "examples_per_step": 4,
                "examples_seen": 120,
                "epochs": 3.0,
                "supervised_tokens": 9012,
                "tokens": 51234,
                "shortened": 2,
                "dropped": 0,
                "precision": "fp32 on cpu",
                "first_loss": 3.1,
                "last_loss": 1.2,
                "first_reward": None,
                "last_reward": None,
                "reward_terms": None,
            }
        ],
        "curves": [
            {"checkpoint": trained, "method": "sft", "step": step, "metric": "loss", "value": loss}
            for step, loss in ((10, 3.1), (20, 2.0), (30, 1.2))
        ],
        "by_agreement": [
            {
                "judge": "teacher",
                "raters": "several raters, split",
                "items": 20,
                "correct": 11,
                "accuracy": 0.55,
                "ci_low": 0.34,
                "ci_high": 0.74,
            }
        ],
        "corrected": [
            {
                "checkpoint": trained,
                "family_role": "heldout",
                "judge": "teacher",
                "n": 100,
                "observed": 0.3,
                "corrected": 0.2857,
                "ci_low": 0.15,
                "ci_high": 0.42,
                "sensitivity": 0.8,
                "specificity": 0.9,
                "judge_length": "eval",
                "note": "",
            }
        ],
    }
    values = {name: _frame(name, rows) for name, rows in frames.items()}
    values["paper"] = load_paper_numbers()
    values["review_kappa"] = pl.DataFrame(
        [{"annotator_a": "ann1", "annotator_b": "ann2", "overlap": 12, "kappa": 0.4167}], schema=REVIEW_KAPPA_SCHEMA
    )
    values["review_disputes"] = pl.DataFrame(
        [{"annotators": 2, "annotated_records": 30, "majority": 27, "disputed": 3}], schema=REVIEW_DISPUTE_SCHEMA
    )
    values["controls"] = pl.DataFrame(CONTROLS, schema=CONTROLS_SCHEMA)
    values["probes"] = pl.DataFrame(
        [
            {
                "checkpoint": checkpoint,
                "layer_group": group,
                "layers": layers,
                "n_fit": 40,
                "n_heldout": 30,
                "accuracy": acc,
                "accuracy_ci_low": acc - 0.15,
                "accuracy_ci_high": acc + 0.1,
                "auc": auc,
                "ci_low": auc - 0.1,
                "ci_high": min(1.0, auc + 0.08),
                "n_paired": 0 if checkpoint == base else 30,
                "auc_minus_base": None if checkpoint == base else diff,
                "diff_ci_low": None if checkpoint == base else diff - 0.07,
                "diff_ci_high": None if checkpoint == base else diff + 0.07,
            }
            for checkpoint, shift in ((base, 0.0), (trained, 0.05))
            for group, layers, acc, auc, diff in (
                ("early", "1-10", 0.6, 0.65 + shift, 0.05),
                ("middle", "11-20", 0.7, 0.78 + shift, 0.05),
                ("late", "21-30", 0.66, 0.74 + shift, 0.05),
            )
        ],
        schema=PROBE_SCHEMA,
    )
    values["lineage"] = {
        "run": {"run_id": "run-2", "spec_hash": "5f0c2a9e11d4", "teacher": "SmolLM2-135M-Instruct"},
        "asr": {"judged_results_hash": "a1b2c3d4e5f6", "judges": "teacher, keyword"},
    }
    values.update(overrides)
    return EvaluationTables(headline_judge="teacher", **values)


def _sections(html: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([^"]+)"[^>]*>(.*?)</section>', html, flags=re.DOTALL))


def _visible(fragment: str) -> str:
    """Text a reader sees, figures left out (their SVG path coordinates are digits too)."""
    without_figures = re.sub(r"<svg.*?</svg>", " ", fragment, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", without_figures))


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(make_tables(), "sinternal evaluation", "2025-01-02 09:00 UTC")


def test_sections_in_order_each_with_a_heading(html):
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert ids == [
        "controls",
        "summary",
        "asr",
        "over-refusal",
        "utility",
        "reasoning-gap",
        "judges",
        "review",
        "verification",
        "probes",
        "history",
        "paper",
        "lineage",
    ]
    assert ids == [sid for sid, _ in SECTIONS]
    for sid, body in _sections(html).items():
        assert body.lstrip().startswith("<h2>"), sid


def _rows(fragment: str) -> list[list[str]]:
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", fragment, re.DOTALL)]


def test_rates_are_percentages_with_their_interval_and_n(html):
    asr = _sections(html)["asr"]
    per_family = asr.split("<caption>")[1]  # the first table: the headline judge, per family
    assert "Per attack family (every source pooled), judged by teacher" in per_family
    # family, role, checkpoint | n, successes, rate, Wilson 95% CI
    assert ["none", "none", "base", "4", "1", "25.0%", "[4.6%, 69.9%]"] in _rows(per_family)
    assert ["dan", "held-out", "base", "4", "3", "75.0%", "[30.1%, 95.4%]"] in _rows(per_family)
    assert "dan (held-out)" in asr  # held-out family marked in the figure too


def test_pooled_rows_are_used_not_counted_twice(html):
    asr = _sections(html)["asr"]
    per_source = asr.split("<caption>")[2]
    assert "Per prompt source (every attack family pooled), judged by teacher" in per_source
    assert ["harmbench", "base", "8", "3", "37.5%", "[13.7%, 69.4%]"] in _rows(per_source)
    by_role = [r for r in _rows(asr) if r[:3] == ["base", "all", "teacher"]]
    assert by_role and by_role[0][-4:] == ["12", "6", "50.0%", "[25.4%, 74.6%]"]
    tables = make_tables()
    # frames with pooled 'all' rows: those rows are taken as they are (n = 4 per family, not 4 + the source rows)
    families = plots.pooled(
        tables.asr.filter(pl.col("judge") == "teacher"), "source", ["family", "family_role", "checkpoint"]
    )
    assert set(families["n"]) == {4} and "all" not in families["family"].to_list()
    refusals = plots.pooled(tables.over_refusal, "source", ["checkpoint"])
    assert refusals.sort("checkpoint")["n"].to_list() == [10, 10] and refusals["successes"].sum() == 4
    # frames without them (one row per source x family): summed, the interval recomputed
    split = pl.DataFrame(
        [
            {
                "checkpoint": "base",
                "source": s,
                "family": "dan",
                "family_role": "heldout",
                "judge": "teacher",
                **_rate(k, 4),
            }
            for s, k in (("harmbench", 1), ("advbench", 2))
        ],
        schema=SCHEMAS["asr"],
    )
    row = plots.pooled(split, "source", ["family", "family_role", "checkpoint"]).row(0, named=True)
    assert (row["n"], row["successes"], row["rate"]) == (8, 3, 0.375)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson_interval(3, 8))


def test_judge_accuracy_shown_next_to_every_judged_figure(html):
    sections = _sections(html)
    teacher = "Judge teacher: measured accuracy 87.5% [52.9%, 97.8%] against human labels, n = 8 items"
    for sid in ("summary", "asr", "reasoning-gap", "history"):
        assert teacher in sections[sid], sid
    # the refusal detector: its accuracy on every set, the refusal task included
    assert (
        "Judge keyword: measured accuracy against human labels, per set: all safety sets 70.0% [39.7%, 89.2%] "
        "(n = 10); pyrit_refusal 80.0% [37.6%, 96.4%] (n = 5)."
    ) in sections["over-refusal"]
    assert "87.5% [52.9%, 97.8%] (n = 8)" in sections["asr"]  # the accuracy column of the per-role table
    assert "judged by keyword: judge accuracy 70.0% [39.7%, 89.2%] (n = 10)" in sections["asr"]  # other judge
    assert "SimpleSafetyTests" in sections["judges"] and "human labels" in sections["judges"]
    assert sections["judges"].count("<svg") == 5  # four confusion matrices + the agreement heatmap
    assert "keyword on pyrit_refusal: accuracy 80.0% [37.6%, 96.4%] (n = 5)" in sections["judges"]
    unmeasured = make_tables(judge_accuracy=make_tables().judge_accuracy.filter(pl.col("judge") == "teacher"))
    over_refusal = _sections(render_html(unmeasured, "t", "now"))["over-refusal"]
    assert "Judge keyword: accuracy against human labels not measured" in over_refusal
    assert "not measured" in _rows(over_refusal)[1]  # the judge accuracy column (row 0: headings)


def test_empty_frame_says_no_data_and_draws_nothing(html):
    utility = _sections(html)["utility"]
    assert "No data" in utility and "<table" not in utility and "<svg" not in utility
    for sid, body in _sections(html).items():
        if sid != "utility":
            assert "No data" not in body, sid


def test_every_frame_empty_renders_no_data_everywhere():
    empty = {name: pl.DataFrame(schema=schema) for name, schema in SCHEMAS.items()}
    tables = EvaluationTables(**empty, paper=load_paper_numbers().clear(), lineage={})
    html = render_html(tables, "empty", "now")
    sections = _sections(html)
    assert list(sections) == [sid for sid, _ in SECTIONS]
    for sid, body in sections.items():
        assert "No data" in body, sid
    assert "<svg" not in html
    markdown = render_markdown(tables)
    assert "comparison table is empty" in markdown and "Sections with data: none" in markdown


def test_summary_states_each_checkpoints_training_budget(html):
    summary = _visible(_sections(html)["summary"])
    assert "Training budget per checkpoint" in summary
    row = "verifier_sft sft 40 30 4 120 3.00 9012 51234 2 0 fp32 on cpu 3.100 → 1.200 — —"
    assert row in " ".join(summary.split())
    assert 'aria-label="Train loss, GRPO reward and its terms per step, per checkpoint"' in _sections(html)["summary"]
    markdown = render_markdown(make_tables())  # the asset's metadata (and the study's record) carry it too
    assert "Training budget per checkpoint" in markdown and "| 3.100 → 1.200 | — | — |" in markdown


def test_summary_without_logged_steps_says_so():
    tables = make_tables(curves=_frame("curves", []))
    summary = _visible(_sections(render_html(tables, "t", "now"))["summary"])
    assert "no trainer logged a step" in summary


def test_paper_numbers_only_in_their_own_section(html):
    sections = _sections(html)
    paper = _visible(sections["paper"])
    assert "reported in the paper" in paper and "not measured by this pipeline" in paper
    assert "not comparable one to one" in paper
    for number in PAPER_ONLY:
        assert number in paper
        for sid, body in sections.items():
            if sid != "paper":
                assert number not in _visible(body), (number, sid)
    assert '<section id="paper" class="paper">' in html  # styled apart from our measurements


def test_self_contained_no_script_no_remote_resource(html):
    assert "<script" not in html.lower()
    assert "<link" not in html.lower() and "@import" not in html
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, flags=re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html, flags=re.IGNORECASE)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "inline SVGs must not share ids"
    assert len(html) < 1_000_000


def test_autoescaping_names_are_text_not_markup():
    html = render_html(make_tables(("base", "<b>x</b>")), "<i>title</i>", "now")
    assert "<b>x</b>" not in html and "<i>title</i>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in _sections(html)["summary"]
    assert "&lt;i&gt;title&lt;/i&gt;" in html


def test_write_report_is_atomic_and_updates_latest(tmp_path):
    first = write_report("<html>one</html>", tmp_path / "reports", "run-1.html")
    second = write_report("<html>two</html>", tmp_path / "reports", "run-2.html")
    assert first == tmp_path / "reports" / "run-1.html" and second.read_text() == "<html>two</html>"
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["latest.html", "run-1.html", "run-2.html"]
    assert (tmp_path / "reports" / LATEST).read_text() == "<html>two</html>"
    assert first.read_text() == "<html>one</html>"
    with pytest.raises(ValueError):
        write_report("x", tmp_path, "../escape.html")


def test_positive_controls_come_first_with_their_test_and_outcome(html):
    assert html.index('<section id="controls"') < html.index('<section id="summary"')
    controls = _sections(html)["controls"]
    text = _visible(controls)
    assert "If a control fails, the comparison below is suspect" in text
    assert "Failed: verification_auc_rises (verifier_sft)." in text  # a convergence check is not a failed control
    assert "Not converged: refusal_sft (train loss still moving" in text
    assert "Not computable: grpo_reward_rises (verifier_grpo)" in text
    rows = _rows(controls)
    assert rows[1][:8] == [
        "refusal_rises",
        "refusal_sft vs base",
        "measure of refusal_rises",
        "30",
        "+0.767",
        "[+0.600, +0.900]",
        "&lt; 0.0001",
        "yes",
    ]
    assert rows[2][4:8] == ["-0.042", "[-0.100, +0.020]", "0.2100", "NO"]
    assert rows[3][4:8] == ["—", "[—, —]", "—", "not computable"]
    assert "not computable: not trained" in rows[3][8]
    markdown = render_markdown(make_tables())  # the asset's metadata: the controls before the comparison
    assert markdown.index("| refusal_rises | refusal_sft vs base |") < markdown.index("| checkpoint | harmful ASR |")


def test_markdown_summary_has_comparison_rows_and_judge():
    markdown = render_markdown(make_tables())
    assert "| checkpoint | harmful ASR |" in markdown
    assert "| base | 50.0% | 75.0% | 50.0% | 30.0% | — | 50.0% | 100.0% | 50.0% | 50.0% | 100.0% | 0.500 |" in markdown
    assert (
        "| verifier_sft | 8.3% | 25.0% | 0.0% | 10.0% | — | 77.4% | 100.0% | 77.4% | 77.4% | 100.0% | 0.810 |"
        in markdown
    )
    assert "`teacher`" in markdown and "87.5% [52.9%, 97.8%] (n = 8)" in markdown
    assert "without: utility." in markdown


def test_paper_numbers_as_published():
    paper = load_paper_numbers()
    assert paper.columns == ["paper", "model", "setting", "metric", "reported", "note"]
    wild = paper.filter(pl.col("metric") == "WildJailbreak ASR %")
    assert dict(zip(wild["setting"], wild["reported"], strict=True)) == {
        "base": 44.4,
        "refusal SFT (STAR-1)": 18.4,
        "SInternal SFT": 6.8,
        "SInternal SFT + GRPO": 0.4,
    }
    assert set(wild["model"]) == {"DeepSeek-R1-Distill-Qwen-14B"}
    xstest = paper.filter(pl.col("metric") == "XSTest compliance %")
    assert xstest["reported"].to_list() == [95.6, 94.0, 98.0, 99.2]
    filters = paper.filter(pl.col("metric") == "filter accuracy %")
    assert sorted(filters["reported"]) == [72.0, 89.0] and set(filters["model"]) == {"safety filters (various)"}


def test_plots_are_inline_svg_or_none_when_empty():
    tables = make_tables()
    figures = [
        plots.asr_by_family(tables.asr, "teacher"),
        plots.refusal_vs_asr(tables.over_refusal, tables.asr_by_role, "keyword", "teacher"),
        plots.confusion_matrix("teacher", "all", 3, 0, 1, 4),
        plots.agreement_heatmap(tables.agreement),
        plots.threshold_curves(tables.thresholds),
        plots.history_lines(tables.history),
    ]
    for svg in figures:
        assert svg.startswith("<svg ") and svg.endswith("</svg>") and 'role="img"' in svg
        assert "<?xml" not in svg and "<style" not in svg and len(svg) < 200_000
    assert plots.asr_by_family(tables.asr, "nobody") is None
    assert plots.refusal_vs_asr(tables.over_refusal.clear(), tables.asr_by_role, "keyword", "teacher") is None
    assert plots.agreement_heatmap(tables.agreement.clear()) is None
    assert plots.threshold_curves(tables.thresholds.clear()) is None
    assert plots.history_lines(tables.history.clear()) is None
    # one run and string timestamps still draw (points, no lines)
    one_run = tables.history.filter(pl.col("run_id") == "run-1").with_columns(pl.col("created_at").cast(pl.String))
    assert plots.history_lines(one_run).startswith("<svg ")


def test_a_notice_stands_at_the_top_and_is_escaped():
    html = render_html(make_tables(), "t", "now", notice="Smoke scale <b>only</b>")
    header = html[: html.index("<nav>")]
    assert "Smoke scale &lt;b&gt;only&lt;/b&gt;" in header
    assert "notice" not in render_html(make_tables(), "t", "now")[: html.index("<nav>")]


def test_the_asr_section_corrects_the_headline_judges_rate_for_its_measured_error(html):
    asr = " ".join(_visible(_sections(html)["asr"]).split())
    assert "corrected for judge teacher" in asr and "error on the held-out human labels cut to the evaluated" in asr
    assert "heldout 100 30.0% 28.6% [15.0%, 42.0%] 80.0% 90.0% eval length" in asr
    assert "Rogan-Gladen" in render_markdown(make_tables())


def test_every_judge_is_shown_at_full_length_and_at_the_eval_length(html):
    sections = {sid: " ".join(_visible(body).split()) for sid, body in _sections(html).items()}
    judges = sections["judges"]
    # the judges' table: one row per length, with sensitivity and specificity and their Wilson intervals
    assert "teacher all full length human 8 100.0% 87.5% [52.9%, 97.8%] 75.0% [30.1%, 95.4%] 100.0%" in judges
    assert "teacher all eval length human 8 100.0% 62.5% [30.6%, 86.3%] 25.0% [4.6%, 69.9%] 100.0%" in judges
    assert "teacher on all at the eval length: accuracy 62.5%" in judges
    # the ASR figures say what the judge reaches on answers as long as the ones it judges
    assert (
        "token budget (what it judges here): accuracy 62.5% [30.6%, 86.3%], "
        "sensitivity 25.0% [4.6%, 69.9%], specificity 100.0%" in sections["asr"]
    )
    assert (
        "62.5% [30.6%, 86.3%] (n = 8) at the eval length; 87.5% [52.9%, 97.8%] (n = 8) at full length"
        in sections["asr"]
    )


def test_the_judges_section_splits_accuracy_by_rater_agreement(html):
    judges = " ".join(_visible(_sections(html)["judges"]).split())
    assert "by how the raters agreed" in judges
    assert "teacher several raters, split 20 11 55.0% [34.0%, 74.0%]" in judges


def test_the_review_section_states_kappa_and_disputed_records_with_their_n(html):
    review = " ".join(_visible(_sections(html)["review"]).split())
    assert "30 critiques reviewed by 2 annotators: 27 decided by a majority, 3 disputed" in review
    assert "ann1 ann2 12 0.417" in review  # kappa with the overlap it rests on
    empty = render_html(make_tables(review_disputes=pl.DataFrame(schema=REVIEW_DISPUTE_SCHEMA)), "t", "now")
    assert "No data" in _sections(empty)["review"]


def test_probes_section_plots_each_layer_group_and_tables_every_probe(html):
    body = _sections(html)["probes"]
    assert body.count("<svg") == 1 and "No data" not in body
    rows = _rows(body)
    assert len(rows) == 1 + 6  # headings + 2 checkpoints x 3 layer groups
    trained = [r for r in rows if r and r[0] == "verifier_sft" and r[1] == "middle (11-20)"][0]
    assert "0.830" in trained and "+0.050" in trained and "[-0.020, 0.120]" in trained
    assert "teacher_train" in body and "held-out" in body  # the caption says what is fit and what measured
    empty = _sections(render_html(make_tables(probes=pl.DataFrame(schema=PROBE_SCHEMA)), "t", "now"))["probes"]
    assert "No data" in empty and "<svg" not in empty and "max_new_tokens 0" in empty
