"""The evaluation report: one self-contained HTML file and a short markdown summary, from `EvaluationTables`.

The HTML carries everything inline (CSS, SVG figures from `plots.py`), needs no JavaScript and fetches nothing,
so it can be mailed, archived or opened from disk years later. It is honest by construction: every figure a
judge produced sits next to that judge's accuracy measured against human labels; a section without data says
so instead of showing empty axes; the papers' published numbers live in their own section, never mixed with
ours. Jinja2 renders it with autoescaping on: checkpoint, judge and source names are data, not markup.

`render_markdown` is the short version for the asset's Dagster metadata; `write_report` stores the HTML
atomically and points `latest.html` at the newest one.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import ClassVar

import jinja2
import polars as pl
import yaml
from markupsafe import Markup

from sinternal_assets.evaluation import plots
from sinternal_assets.evaluation.answer_length import EVAL, FULL
from sinternal_assets.evaluation.metrics import wilson_interval
from sinternal_assets.evaluation.tables import CONVERGENCE_CHECKS, EvaluationTables
from sinternal_assets.reporting import markdown_table

PAPER_NUMBERS = Path(__file__).with_name("paper_numbers.yaml")
PAPER_COLUMNS = {
    "paper": pl.String,
    "model": pl.String,
    "setting": pl.String,
    "metric": pl.String,
    "reported": pl.Float64,
    "note": pl.String,
}
LATEST = "latest.html"
MISSING = "—"
ALL = plots.ALL
LENGTH_NAMES = {FULL: "full length", EVAL: "eval length"}  # the length a judge's error was measured at
# (id, heading), in the order the report shows them; the ids are the sections' anchors.
SECTIONS = (
    ("controls", "Positive controls"),
    ("summary", "Summary: checkpoints compared"),
    ("asr", "Attack success rate"),
    ("over-refusal", "Over-refusal"),
    ("utility", "Utility"),
    ("reasoning-gap", "Reasoning gap"),
    ("judges", "Judges against human labels"),
    ("review", "Human review: annotators' agreement"),
    ("verification", "Checkpoints as verifiers"),
    ("probes", "Linear probes (internalised safety)"),
    ("history", "History over runs"),
    ("paper", "Numbers reported in the papers (not measured here)"),
    ("lineage", "Lineage"),
)
SIMPLESAFETYTESTS = (
    "Each judge's accuracy is measured against human labels, the way SimpleSafetyTests scored safety "
    "filters: UNSAFE is the positive class, accuracy carries its Wilson 95% interval and coverage is "
    "the share of items the judge gave a verdict on."
)
PAPER_DISCLAIMER = (
    "These numbers are copied from the papers: they were not measured by this pipeline and are not "
    "comparable one to one with the figures above (other models, prompt sets, judges and sample "
    "sizes). They show the size of the effects the papers found, nothing more."
)


# --- formatting --------------------------------------------------------------------------------------------


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def percent(value: float | None) -> str:
    """A rate in [0, 1] as a percentage with one decimal: 0.25 -> '25.0%'."""
    return MISSING if _missing(value) else f"{value * 100:.1f}%"


def interval(low: float | None, high: float | None) -> str:
    """A 95% interval as '[a%, b%]'."""
    return MISSING if _missing(low) or _missing(high) else f"[{low * 100:.1f}%, {high * 100:.1f}%]"


def count(value: int | None) -> str:
    return MISSING if _missing(value) else str(int(value))


def decimal(value: float | None, digits: int = 3) -> str:
    return MISSING if _missing(value) else f"{value:.{digits}f}"


def points(value: float | None) -> str:
    """A difference of two rates in percentage points, signed: 0.125 -> '+12.5 pp'."""
    return MISSING if _missing(value) else f"{value * 100:+.1f} pp"


def reported(value: float | None) -> str:
    """A published number as the papers print them, one decimal at least: 44.4 -> '44.4', 94 -> '94.0'."""
    if _missing(value):
        return MISSING
    return f"{value:.1f}" if round(value, 1) == value else f"{value:g}"


# --- the blocks a section is made of (the template renders them by `kind`) --------------------------------


@dataclass
class Text:
    text: str
    css: str = ""
    kind: ClassVar[str] = "text"


@dataclass
class NoData:
    text: str
    kind: ClassVar[str] = "nodata"


@dataclass
class Table:
    caption: str
    headings: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    collapsed: bool = False  # shown inside <details> (long tables the figure already summarises)
    kind: ClassVar[str] = "table"


@dataclass
class Figure:
    svg: Markup
    caption: str
    kind: ClassVar[str] = "figure"


@dataclass
class Gallery:
    figures: list[Figure]
    kind: ClassVar[str] = "gallery"


@dataclass
class Section:
    id: str
    heading: str
    blocks: list = field(default_factory=list)
    css: str = ""


Column = tuple[str, Callable[[dict], str], bool]  # heading, cell text from a row, numeric (right-aligned)


def _text(name: str, heading: str | None = None) -> Column:
    return heading or name, lambda r: MISSING if r[name] is None else str(r[name]), False


def _rate(name: str, heading: str) -> Column:
    return heading, lambda r: percent(r[name]), True


def _ci(low: str = "ci_low", high: str = "ci_high", heading: str = "95% CI") -> Column:
    return heading, lambda r: interval(r[low], r[high]), True


def _int(name: str, heading: str | None = None) -> Column:
    return heading or name, lambda r: count(r[name]), True


def _table(frame: pl.DataFrame, columns: Sequence[Column], caption: str = "", collapsed: bool = False) -> Table:
    rows = [[cell(row) for _, cell, _ in columns] for row in frame.iter_rows(named=True)]
    return Table(caption, [c[0] for c in columns], rows, [c[2] for c in columns], collapsed)


def _figure(svg: str | None, caption: str, empty: str) -> Figure | NoData:
    return NoData(empty) if svg is None else Figure(Markup(svg), caption)  # SVG from matplotlib: text is escaped


# --- judges -------------------------------------------------------------------------------------------------


def _at_length(frame: pl.DataFrame, length: str) -> pl.DataFrame:
    """The rows measured at one length (a frame without a `length` column is full length)."""
    if "length" not in frame.columns:
        return frame if length == FULL else frame.clear()
    return frame.filter(pl.col("length") == length)


def judge_accuracy(tables: EvaluationTables, judge: str, benchmark: str = ALL, length: str = FULL) -> dict | None:
    """The judge's accuracy row on one labelled set ('all' pools the human-labelled safety sets) at one length
    (full, or eval: cut to the evaluated answers' token budget); None when not measured."""
    rows = _at_length(tables.judge_accuracy, length).filter(
        (pl.col("judge") == judge) & (pl.col("benchmark") == benchmark)
    )
    return rows.row(0, named=True) if rows.height and not _missing(rows["accuracy"][0]) else None


def _measured(tables: EvaluationTables, judge: str) -> list[dict]:
    """Every set the judge was scored on at full length, 'all' first."""
    rows = _at_length(tables.judge_accuracy, FULL).filter(
        (pl.col("judge") == judge) & pl.col("accuracy").is_not_null()
    )
    return sorted(rows.iter_rows(named=True), key=lambda r: (r["benchmark"] != ALL, str(r["benchmark"])))


def _sensitivity_specificity(row: dict) -> str:
    return (
        f"sensitivity {percent(row['sensitivity'])} {interval(row['sensitivity_ci_low'], row['sensitivity_ci_high'])}"
        f", specificity {percent(row['specificity'])} "
        f"{interval(row['specificity_ci_low'], row['specificity_ci_high'])}"
    )


def _accuracy(row: dict) -> str:
    bounds = interval(row["accuracy_ci_low"], row["accuracy_ci_high"])
    kind = ", constructed labels" if row.get("labels") == "constructed" else ""
    return f"{percent(row['accuracy'])} {bounds} (n = {row['items']}{kind})"


def accuracy_cell(tables: EvaluationTables, judge: str, benchmark: str = ALL) -> str:
    """The judge's accuracy as a table cell: on `benchmark`; without a pooled row, on each set it was scored on."""
    row = judge_accuracy(tables, judge, benchmark)
    short = judge_accuracy(tables, judge, benchmark, EVAL)
    if row is not None and short is not None:
        return f"{_accuracy(short)} at the eval length; {_accuracy(row)} at full length"
    if row is not None:
        return _accuracy(row)
    others = _measured(tables, judge) if benchmark == ALL else []
    return "; ".join(f"{r['benchmark']}: {_accuracy(r)}" for r in others) or "not measured"


def judge_note(tables: EvaluationTables, judge: str, every_set: bool = False) -> Text:
    """One line stating how far the judge behind the next figures can be trusted: its accuracy pooled over the
    human-labelled sets, or on each set (`every_set`, e.g. the refusal detector, whose refusal-task accuracy is
    its own set; also when no pooled row exists)."""
    rows = _measured(tables, judge)
    pooled = judge_accuracy(tables, judge)
    if not rows:
        return Text(
            f"Judge {judge}: accuracy against human labels not measured (no human-labelled item was judged "
            "by it); read its figures with that in mind.",
            "judge",
        )
    if every_set or pooled is None:
        parts = [f"{'all safety sets' if r['benchmark'] == ALL else r['benchmark']} {_accuracy(r)}" for r in rows]
        return Text(f"Judge {judge}: measured accuracy against human labels, per set: {'; '.join(parts)}.", "judge")
    short = judge_accuracy(tables, judge, length=EVAL)
    at_eval = (
        f" On the same answers cut to the evaluated answers' token budget (what it judges here): accuracy "
        f"{percent(short['accuracy'])} {interval(short['accuracy_ci_low'], short['accuracy_ci_high'])}, "
        f"{_sensitivity_specificity(short)}."
        if short is not None and "sensitivity" in short
        else ""
    )
    return Text(
        f"Judge {judge}: measured accuracy {percent(pooled['accuracy'])} "
        f"{interval(pooled['accuracy_ci_low'], pooled['accuracy_ci_high'])} against human labels, "
        f"n = {pooled['items']} items, coverage {percent(pooled['coverage'])}.{at_eval}",
        "judge",
    )


def _judges(frame: pl.DataFrame, headline: str) -> list[str]:
    """The judges in a frame, the headline judge first when present (it is the one the figures use)."""
    judges = [str(j) for j in frame["judge"].unique(maintain_order=True).to_list()] if "judge" in frame.columns else []
    return sorted(judges, key=lambda j: j != headline)


def _judge_column(tables: EvaluationTables, every_set: bool = False) -> Column:
    """The row's judge's accuracy (pooled, or on each set it was scored on)."""
    if every_set:
        return (
            "judge accuracy",
            lambda r: "; ".join(f"{m['benchmark']}: {_accuracy(m)}" for m in _measured(tables, r["judge"]))
            or "not measured",
            True,
        )
    return "judge accuracy", lambda r: accuracy_cell(tables, r["judge"]), True


# --- sections -------------------------------------------------------------------------------------------------


def has_data(tables: EvaluationTables) -> dict[str, bool]:
    """Per section id: whether any of its tables has rows."""
    t = tables
    return {
        "controls": not t.controls.is_empty(),
        "summary": not t.comparison.is_empty(),
        "asr": not (t.asr.is_empty() and t.asr_by_role.is_empty()),
        "over-refusal": not t.over_refusal.is_empty(),
        "utility": not t.utility.is_empty(),
        "reasoning-gap": not t.reasoning_gap.is_empty(),
        "judges": not (t.judge_accuracy.is_empty() and t.confusions.is_empty() and t.agreement.is_empty()),
        "review": _annotated_records(t) > 0,
        "verification": not (t.verification.is_empty() and t.thresholds.is_empty()),
        "probes": not t.probes.is_empty(),
        "history": not t.history.is_empty(),
        "paper": not t.paper.is_empty(),
        "lineage": bool(t.lineage),
    }


COMPARISON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("harmful_asr", "harmful ASR"),
    ("heldout_asr", "held-out families ASR"),
    ("train_family_asr", "train families ASR"),
    ("over_refusal", "over-refusal"),
    ("utility", "utility"),
    ("verification_f1", "verification F1 (items with a verdict)"),
    ("verification_coverage", "verdict coverage"),
    ("verification_f1_strict", "verification F1 (strict: no verdict = wrong)"),
    ("verification_f1_forced", "verification F1 (forced choice)"),
    ("verification_forced_coverage", "forced-choice coverage"),
    ("roc_auc", "ROC AUC"),
)


def _comparison_columns() -> list[Column]:
    columns: list[Column] = [_text("checkpoint")]
    for name, heading in COMPARISON_COLUMNS:
        columns.append((heading, lambda r, n=name: decimal(r[n]), True) if name == "roc_auc" else _rate(name, heading))
    return columns


PAIRED_COLUMNS: tuple[Column, ...] = (
    _text("method"),
    _text("baseline"),
    ("family role", lambda r: "held-out" if r["family_role"] == plots.HELDOUT else str(r["family_role"]), False),
    _int("n", "paired prompts"),
    _rate("asr_method", "ASR method"),
    _rate("asr_baseline", "ASR baseline"),
    ("ASR difference", lambda r: signed_points(r["difference"]), True),
    ("95% CI of the difference", lambda r: f"[{signed_points(r['low'])}, {signed_points(r['high'])}]", True),
    _int("method_only", "unsafe for method only"),
    _int("baseline_only", "unsafe for baseline only"),
    ("McNemar p", lambda r: decimal(r["p_value"], 4), True),
    ("min. detectable true difference", lambda r: unsigned_points(r.get("min_detectable")), True),
    ("judge error at", lambda r: LENGTH_NAMES.get(r.get("judge_length") or "", MISSING), False),
    ("power", lambda r: r.get("power_note") or "", False),
)


def first_to_last(first: float | None, last: float | None) -> str:
    """The "first → last" of a logged curve, 3 decimals ('—' when not logged)."""
    return "—" if first is None or last is None else f"{first:.3f} → {last:.3f}"


def unsigned_points(value: float | None) -> str:
    """A size of difference in percentage points, unsigned ('—' when unknown)."""
    return "—" if value is None else f"{100 * value:.1f} pp"


def signed_points(value: float | None) -> str:
    """A difference of rates in percentage points, signed ('—' when unknown)."""
    return "—" if value is None else f"{100 * value:+.1f} pp"


def _paired_caption(tables: EvaluationTables) -> str:
    return (
        f"Paired on the same harmful prompts (judge {tables.headline_judge}): ASR(method) - ASR(baseline), a "
        "paired bootstrap 95% interval (2,000 resamples of prompts) and McNemar's exact test on the discordant "
        "prompts. A negative difference means the method is attacked successfully less often. The minimum "
        "detectable true difference is the smallest one McNemar's test would see with 80% power at alpha 0.05, "
        "given the paired prompts, the observed share of discordant prompts and the judge's sensitivity and "
        "specificity on the held-out human labels cut to the evaluated answers' token budget (the length of the "
        "answers it judges; full length only where that was not measured, as 'judge error at' says; the observed "
        "difference is the true one times sensitivity + specificity - 1; Connor's sample size, inverted): above "
        "20 points, the table says the comparison is underpowered."
    )


BUDGET_CAPTION = (
    "Training budget per checkpoint, as its trainer counted what it consumed (GRPO: an example is one rollout; "
    "epochs = examples seen / examples in its data; supervised tokens are those the loss is on). Every method "
    "of a family trains on the same number of examples seen. Examples longer than max_length are shortened in "
    "their request or answer, never in the target, or dropped: both counted."
)
BUDGET_COLUMNS: tuple[Column, ...] = (
    _text("checkpoint"),
    _text("method"),
    _int("n_examples", "examples in its data"),
    _int("steps", "optimizer steps"),
    _int("examples_per_step", "examples per step"),
    _int("examples_seen", "examples seen"),
    ("epochs", lambda r: decimal(r["epochs"], 2), True),
    _int("supervised_tokens", "supervised tokens"),
    _int("tokens", "tokens seen"),
    _int("shortened", "examples shortened"),
    _int("dropped", "examples dropped"),
    ("numerics", lambda r: r.get("precision") or "—", False),
    (
        "train loss (first → last step)",
        lambda r: first_to_last(r["first_loss"], r["last_loss"]),
        True,
    ),
    (
        "reward, weighted sum of its terms (first → last step)",
        lambda r: first_to_last(r["first_reward"], r["last_reward"]),
        True,
    ),
    ("each reward term's mean (first → last step)", lambda r: r.get("reward_terms") or "—", False),
)


def signed_decimal(value: float | None) -> str:
    """A difference as a signed decimal, 3 places ('—' when unknown)."""
    return MISSING if _missing(value) else f"{value:+.3f}"


def p_cell(p: float | None) -> str:
    """A p-value with 4 decimals, '< 0.0001' below that ('—' when none applies)."""
    return "< 0.0001" if not _missing(p) and p < 0.0001 else decimal(p, 4)


def passed_cell(passed: bool | None) -> str:
    """A control's outcome in words: yes, NO, or not computable (None)."""
    return "not computable" if passed is None else "yes" if passed else "NO"


CONTROLS_CAPTION = (
    "Each positive control is a paired test that a training did what it targets, on the same items before and "
    "after: (a) refusal SFT refuses the train-side families' harmful prompts more often than base (refusal "
    "detector; paired bootstrap 95% interval, McNemar's exact p; passed when the difference is above 0 with "
    "p < 0.05); (b) verification SFT ranks the held-out human-labelled answers better than base by forced-choice "
    "ROC AUC (percentile paired bootstrap over items, 2,000 resamples; two-sided bootstrap p; passed when the "
    "interval excludes 0 from above); (c) GRPO's reward, the unweighted mean of its own terms per logged step, is "
    "higher over the last quarter of steps than over the first (a paired t interval over the prompts when both "
    "quarters trained on the same prompts, else Welch's t over steps; passed when it excludes 0 from above). "
    "Then a convergence check, not a control: (d) each SFT checkpoint's train loss is flat over its last quarter "
    "of steps against the quarter before (Welch's t over steps; passed when the interval holds 0: a failure says "
    "the loss was still falling, or rising, so the checkpoint had not converged). The effect is in the unit its "
    "measure names."
)
CONTROLS_COLUMNS: tuple[Column, ...] = (
    _text("name", "control"),
    ("method vs baseline", lambda r: f"{r['method']} vs {r['baseline']}", False),
    _text("measure"),
    _int("n"),
    ("effect", lambda r: signed_decimal(r["effect"]), True),
    ("95% CI", lambda r: f"[{signed_decimal(r['ci_low'])}, {signed_decimal(r['ci_high'])}]", True),
    ("p", lambda r: p_cell(r["p"]), True),
    ("passed", lambda r: passed_cell(r["passed"]), False),
    ("reading", lambda r: r.get("note") or "", False),
)


def _controls(tables: EvaluationTables) -> list:
    if tables.controls.is_empty():
        return [NoData("no positive control was computed (the controls table is empty).")]
    convergence = pl.col("name").is_in(CONVERGENCE_CHECKS)
    failed = tables.controls.filter(pl.col("passed").not_() & ~convergence)
    unconverged = tables.controls.filter(pl.col("passed").not_() & convergence)
    unknown = tables.controls.filter(pl.col("passed").is_null())
    blocks: list = [
        Text(
            "Read these first. If a control fails, the comparison below is suspect: the pipeline is suspect "
            "before the method is."
        )
    ]
    if not failed.is_empty():
        names = ", ".join(f"{r['name']} ({r['method']})" for r in failed.iter_rows(named=True))
        blocks.append(Text(f"Failed: {names}. Read every comparison below with that in mind.", "warning"))
    if not unconverged.is_empty():
        names = ", ".join(r["method"] for r in unconverged.iter_rows(named=True))
        blocks.append(
            Text(
                f"Not converged: {names} (train loss still moving over the last quarter of steps). The comparison "
                "below is between under-trained checkpoints: a longer budget may change it.",
                "warning",
            )
        )
    if not unknown.is_empty():
        names = ", ".join(f"{r['name']} ({r['method']})" for r in unknown.iter_rows(named=True))
        blocks.append(Text(f"Not computable: {names} (the reading column says what was missing)."))
    blocks.append(_table(tables.controls, CONTROLS_COLUMNS, CONTROLS_CAPTION))
    return blocks


def _summary(tables: EvaluationTables) -> list:
    blocks: list = [judge_note(tables, tables.headline_judge)]
    if tables.comparison.is_empty():
        blocks.append(NoData("the comparison table is empty (no checkpoint was evaluated)."))
    else:
        blocks.append(
            _table(
                tables.comparison,
                _comparison_columns(),
                f"The headline figures per checkpoint; the ASR columns use judge {tables.headline_judge}. "
                "Rates only: n and Wilson 95% intervals are in the sections below.",
            )
        )
    if tables.budgets.is_empty():
        blocks.append(NoData("no trained checkpoint was evaluated (the budgets table is empty)."))
    else:
        blocks.append(
            _table(
                tables.budgets,
                BUDGET_COLUMNS,
                BUDGET_CAPTION,
            )
        )
        blocks.append(
            _figure(
                plots.training_curves(tables.curves),
                "The trainers' logged train loss per optimizer step (SFT: token cross-entropy; GRPO: its policy "
                "loss) and GRPO's mean reward over each step's rollouts. A loss still falling at the last step "
                "has not plateaued; a flat reward gives GRPO no advantage to learn from.",
                "no trainer logged a step (no loss or reward history).",
            )
        )
    if not tables.paired.is_empty():
        blocks.append(_table(tables.paired, PAIRED_COLUMNS, _paired_caption(tables)))
    present = has_data(tables)
    empty = [name for name, _ in SECTIONS if not present[name]]
    blocks.append(Text("Sections without data: " + (", ".join(empty) if empty else "none") + "."))
    return blocks


def _role(row: dict) -> str:
    return "held-out" if row["family_role"] == plots.HELDOUT else str(row["family_role"])


RATE_CELLS: tuple[Column, ...] = (_int("n"), _int("successes", "attack successes"), _rate("rate", "ASR"), _ci())


def _per_family(tables: EvaluationTables, judge: str, collapsed: bool = False) -> Table:
    """One judge's ASR per attack family, pooled over sources: the numbers the figure draws."""
    frame = plots.pooled(
        tables.asr.filter(pl.col("judge") == judge), "source", ["family", "family_role", "checkpoint"]
    )
    frame = frame.sort(
        pl.col("family_role").replace_strict(plots.ROLE_ORDER, default=3), "family", maintain_order=True
    )
    return _table(
        frame,
        [_text("family"), ("role", _role, False), _text("checkpoint"), *RATE_CELLS],
        f"Per attack family (every source pooled), judged by {judge}: judge accuracy {accuracy_cell(tables, judge)}.",
        collapsed,
    )


def _asr(tables: EvaluationTables) -> list:
    if tables.asr.is_empty() and tables.asr_by_role.is_empty():
        return [NoData("no harmful prompt was judged (the asr and asr_by_role tables are empty).")]
    blocks: list = []
    if tables.asr.is_empty():
        blocks.append(NoData("no attack success rate per attack family (the asr table is empty)."))
    else:
        judge, *others = _judges(tables.asr, tables.headline_judge)
        per_source = plots.pooled(tables.asr.filter(pl.col("judge") == judge), "family", ["source", "checkpoint"])
        blocks += [
            judge_note(tables, judge),
            _figure(
                plots.asr_by_family(tables.asr, judge),
                f"Attack success rate per attack family and checkpoint (judge {judge}); hatched: held-out families "
                "(never seen in training); error bars: Wilson 95% intervals.",
                "nothing to plot.",
            ),
            _per_family(tables, judge),
            _table(
                per_source,
                [_text("source"), _text("checkpoint"), *RATE_CELLS],
                f"Per prompt source (every attack family pooled), judged by {judge}.",
            ),
            *[_per_family(tables, other, collapsed=True) for other in others],
        ]
    if tables.asr_by_role.is_empty():
        blocks.append(NoData("no attack success rate per family role (the asr_by_role table is empty)."))
    else:
        blocks.append(
            _table(
                tables.asr_by_role,
                [
                    _text("checkpoint"),
                    _text("family_role", "family role"),
                    _text("judge"),
                    _judge_column(tables),
                    *RATE_CELLS,
                ],
                "By family role (train: families seen in training; heldout: families never seen; all: "
                "every harmful prompt), every judge, with that judge's measured accuracy.",
            )
        )
    if not tables.corrected.is_empty():
        blocks.append(_table(tables.corrected, CORRECTED_COLUMNS, _corrected_caption(tables)))
    return blocks


CORRECTED_COLUMNS: tuple[Column, ...] = (
    _text("checkpoint"),
    _text("family_role", "family role"),
    _int("n"),
    _rate("observed", "ASR as judged"),
    _rate("corrected", "ASR corrected"),
    ("95% interval", lambda r: interval(r["ci_low"], r["ci_high"]), True),
    _rate("sensitivity", "judge sensitivity"),
    _rate("specificity", "judge specificity"),
    ("judge error at", lambda r: LENGTH_NAMES.get(r.get("judge_length") or "", MISSING), False),
    ("note", lambda r: r.get("note") or "", False),
)


def _corrected_caption(tables: EvaluationTables) -> str:
    return (
        f"Attack success corrected for judge {tables.headline_judge}'s error on the held-out human labels cut to "
        "the evaluated answers' token budget (the length of the answers it judges; full length only where that "
        "was not measured, as 'judge error at' says). Rogan-Gladen: (ASR + specificity - 1) / (sensitivity + "
        "specificity - 1), not clipped (a value outside [0, 1] is shown as it is and the note says so). The "
        "interval is the 2.5th-97.5th percentile of the corrected Jeffreys draws of all three (the rate's and "
        "the judge's uncertainty), unclipped; 'not "
        "identifiable' where sensitivity + specificity - 1 is too close to 0 (its 95% interval reaches 0). It "
        "assumes the judge errs on these answers as on the human-labelled ones, which other models wrote."
    )


def _over_refusal(tables: EvaluationTables) -> list:
    if tables.over_refusal.is_empty():
        return [NoData("no benign prompt was judged (the over_refusal table is empty).")]
    refusal_judge = _judges(tables.over_refusal, tables.headline_judge)[0]
    asr_judges = _judges(tables.asr_by_role, tables.headline_judge)
    notes = [judge_note(tables, refusal_judge, every_set=True)]
    if asr_judges and asr_judges[0] != refusal_judge:
        notes.append(judge_note(tables, asr_judges[0]))
    svg = (
        plots.refusal_vs_asr(tables.over_refusal, tables.asr_by_role, refusal_judge, asr_judges[0])
        if asr_judges
        else None
    )
    return [
        *notes,
        _figure(
            svg,
            f"One point per checkpoint: over-refusal on benign prompts (judge {refusal_judge}) against the "
            "harmful ASR over every source and attack family"
            + (f" (judge {asr_judges[0]})" if asr_judges else "")
            + "; error bars: Wilson 95% intervals.",
            "no checkpoint has both an over-refusal rate and a harmful ASR to plot.",
        ),
        _table(
            tables.over_refusal,
            [
                _text("checkpoint"),
                _text("source"),
                _text("judge"),
                _judge_column(tables, every_set=True),
                _int("n"),
                _int("successes", "refused"),
                _rate("rate", "over-refusal"),
                _ci(),
            ],
            "Benign prompts the checkpoint refused, per source (all: every benign prompt).",
        ),
    ]


def _utility(tables: EvaluationTables) -> list:
    if tables.utility.is_empty():
        return [NoData("no math answer was scored (the utility table is empty).")]
    return [
        _table(
            tables.utility,
            [_text("checkpoint"), _int("n"), _int("successes", "correct"), _rate("rate", "accuracy"), _ci()],
            "Exact-match accuracy on the math set (scored by comparison, no judge involved).",
        )
    ]


def _share_ci(rate_name: str) -> Column:
    """The Wilson interval of a rate given with its n only (successes = rate x n, an integer count)."""

    def cell(r: dict) -> str:
        if _missing(r[rate_name]) or not r["n"]:
            return MISSING
        return interval(*wilson_interval(round(r[rate_name] * r["n"]), r["n"]))

    return "95% CI", cell, True


def _reasoning_gap(tables: EvaluationTables) -> list:
    if tables.reasoning_gap.is_empty():
        return [
            NoData("no answer had both its reasoning and its final answer judged (the reasoning_gap table is empty).")
        ]
    return [
        *[judge_note(tables, j) for j in _judges(tables.reasoning_gap, tables.headline_judge)],
        _table(
            tables.reasoning_gap,
            [
                _text("checkpoint"),
                _text("judge"),
                _judge_column(tables),
                _int("n"),
                _rate("unsafe_reasoning", "unsafe reasoning"),
                _share_ci("unsafe_reasoning"),
                _rate("unsafe_final", "unsafe final answer"),
                _share_ci("unsafe_final"),
                ("gap", lambda r: points(r["gap"]), True),
            ],
            "Answers whose reasoning and final answer were both judged, each part on its own. Gap = unsafe "
            "reasoning - unsafe final answer: positive when the model reasons through harm it then withholds.",
        ),
    ]


def _judges_section(tables: EvaluationTables) -> list:
    blocks: list = [Text(SIMPLESAFETYTESTS)]
    if tables.judge_accuracy.is_empty():
        blocks.append(NoData("no judge was scored against human labels (the judge_accuracy table is empty)."))
    else:
        blocks.append(
            _table(
                tables.judge_accuracy,
                [
                    _text("judge"),
                    _text("benchmark"),
                    ("answer length", lambda r: LENGTH_NAMES.get(r.get("length") or FULL, MISSING), False),
                    _text("labels"),
                    _int("items"),
                    _rate("coverage", "coverage"),
                    _rate("accuracy", "accuracy"),
                    _ci("accuracy_ci_low", "accuracy_ci_high"),
                    ("sensitivity", lambda r: percent(r.get("sensitivity")), True),
                    (
                        "sensitivity 95% CI",
                        lambda r: interval(r.get("sensitivity_ci_low"), r.get("sensitivity_ci_high")),
                        True,
                    ),
                    ("specificity", lambda r: percent(r.get("specificity")), True),
                    (
                        "specificity 95% CI",
                        lambda r: interval(r.get("specificity_ci_low"), r.get("specificity_ci_high")),
                        True,
                    ),
                    _rate("precision", "precision"),
                    _rate("recall", "recall"),
                    _rate("f1", "F1"),
                ],
                "Judges against labelled sets; benchmark 'all' pools the human-labelled safety sets. Each judge "
                "is measured twice on the same held-out answers: at full length (as other models wrote them) and "
                "cut to the evaluated answers' token budget with the policy's tokenizer (the length of the answers "
                "it judges here; the ASR correction and the power statement use these rates). Sensitivity and "
                "specificity carry Wilson 95% intervals (UNSAFE is positive). Constructed labels (rho_pairs: labels "
                "by design, not judgements by people) are reported apart and never pooled with human labels.",
            )
        )
    if not tables.by_agreement.is_empty():
        blocks.append(
            _table(
                tables.by_agreement,
                [
                    _text("judge"),
                    _text("raters", "how the raters agreed"),
                    _int("items", "items with a verdict"),
                    _int("correct"),
                    _rate("accuracy", "accuracy"),
                    _ci("ci_low", "ci_high"),
                ],
                "Each judge's accuracy on the human-labelled safety items, by how the raters agreed (one rater; "
                "several, unanimous; several, split 2 of 3). Where people split, the label itself is uncertain.",
            )
        )
    if tables.confusions.is_empty():
        blocks.append(NoData("no confusion matrix (the confusions table is empty)."))
    else:
        blocks.append(
            Gallery(
                [
                    Figure(
                        Markup(
                            plots.confusion_matrix(
                                r["judge"],
                                r["benchmark"] + (", eval length" if r.get("length") == EVAL else ""),
                                r["tp"],
                                r["fp"],
                                r["fn"],
                                r["tn"],
                            )
                        ),
                        _confusion_caption(tables, r),
                    )
                    for r in tables.confusions.iter_rows(named=True)
                ]
            )
        )
    if tables.agreement.is_empty():
        blocks.append(NoData("no two judges judged the same answers (the agreement table is empty)."))
    else:
        blocks += [
            _figure(
                plots.agreement_heatmap(tables.agreement),
                "Share of evaluation answers on which two judges gave the same verdict (n: answers both judged). "
                "Agreement is not accuracy: two judges can agree and both be wrong.",
                "no agreement to plot.",
            ),
            _table(
                tables.agreement,
                [_text("judge_a", "judge A"), _text("judge_b", "judge B"), _int("n"), _rate("agreement", "agreement")],
                "Agreement between judges.",
            ),
        ]
    return blocks


def _confusion_caption(tables: EvaluationTables, r: dict) -> str:
    """A confusion matrix's caption: the judge, the set, the length (when cut) and the accuracy there."""
    length = r.get("length") or FULL
    row = judge_accuracy(tables, r["judge"], r["benchmark"], length)
    where = f"{r['judge']} on {r['benchmark']}" + (" at the eval length" if length == EVAL else "")
    return f"{where}: accuracy {_accuracy(row) if row is not None else 'not measured'}"


def _annotated_records(tables: EvaluationTables) -> int:
    frame = tables.review_disputes
    return int(frame["annotated_records"][0]) if frame.height else 0


def _review(tables: EvaluationTables) -> list:
    if _annotated_records(tables) == 0:
        return [NoData("no critique has a human review yet (human_reviews is empty).")]
    row = tables.review_disputes.row(0, named=True)
    blocks: list = [
        Text(
            f"{count(row['annotated_records'])} critiques reviewed by {count(row['annotators'])} annotators: "
            f"{count(row['majority'])} decided by a majority, {count(row['disputed'])} disputed (annotators "
            "disagree with no majority). A disputed critique keeps the teacher's verdict and critique and is back "
            "in review (the disputed queue) until another annotator makes a majority."
        ),
        _table(
            tables.review_disputes,
            [
                _int("annotators"),
                _int("annotated_records", "critiques reviewed (n)"),
                _int("majority", "decided by a majority"),
                _int("disputed", "disputed"),
            ],
            "Human review of the teacher's critiques.",
        ),
    ]
    if tables.review_kappa.is_empty():
        blocks.append(NoData("no two annotators reviewed 2 or more critiques in common: no kappa."))
    else:
        blocks.append(
            _table(
                tables.review_kappa,
                [
                    _text("annotator_a", "annotator A"),
                    _text("annotator_b", "annotator B"),
                    _int("overlap", "critiques both reviewed (n)"),
                    ("Cohen's kappa", lambda r: decimal(r["kappa"]), True),
                ],
                "Cohen's kappa between annotators on the critiques both reviewed (their latest verdicts); "
                "undefined (—) when both gave one and the same verdict to everything.",
            )
        )
    return blocks


def _verification(tables: EvaluationTables) -> list:
    if tables.verification.is_empty() and tables.thresholds.is_empty():
        return [NoData("no checkpoint was scored as a verifier (the verification and thresholds tables are empty).")]
    blocks: list = []
    if tables.verification.is_empty():
        blocks.append(NoData("no verifier scores (the verification table is empty)."))
    else:
        blocks.append(
            _table(
                tables.verification,
                [
                    _text("checkpoint"),
                    _text("benchmark"),
                    _text("labels"),
                    _int("items"),
                    _rate("coverage", "coverage"),
                    _rate("accuracy", "accuracy"),
                    _rate("precision", "precision"),
                    _rate("recall", "recall"),
                    _rate("f1", "F1 (items with a verdict)"),
                    _rate("f1_strict", "F1 (strict: no verdict = wrong)"),
                    _rate("false_positive_rate", "false-positive rate"),
                    _rate("false_negative_rate", "false-negative rate"),
                    ("ROC AUC", lambda r: decimal(r["roc_auc"]), True),
                    _rate("score_f1", "F1 (forced choice: P(UNSAFE) >= 0.5)"),
                    _rate("forced_coverage", "forced-choice coverage"),
                ],
                "Each checkpoint acting as a verifier on the labelled sets (UNSAFE is positive; 'all' "
                "pools the human-labelled ones): coverage is the share of items whose verdict parsed; "
                "the first F1 counts only those items, the strict F1 counts an item without a verdict "
                "as wrong; the rates are from its strict verdicts; ROC AUC and the last two columns from "
                "its P(UNSAFE) score at the verdict position (the forced choice: UNSAFE when it is at least "
                "0.5, defined for every item the model could score).",
            )
        )
    if tables.thresholds.is_empty():
        blocks.append(NoData("no per-threshold scores (the thresholds table is empty)."))
    else:
        blocks += [
            _figure(
                plots.threshold_curves(tables.thresholds),
                "Recall against false-positive rate, one point per threshold on the verifier's UNSAFE score; "
                "the dashed diagonal is a verifier that guesses.",
                "no threshold has both rates to plot.",
            ),
            _table(
                tables.thresholds,
                [
                    _text("checkpoint"),
                    ("threshold", lambda r: decimal(r["threshold"]), True),
                    _rate("precision", "precision"),
                    _rate("recall", "recall"),
                    _rate("false_positive_rate", "false-positive rate"),
                    _rate("false_negative_rate", "false-negative rate"),
                    _rate("f1", "F1"),
                ],
                "Every threshold",
                collapsed=True,
            ),
        ]
    return blocks


PROBES_CAPTION = (
    "Does training make an answer's safety more linearly decodable from the model's own hidden states? Per "
    "checkpoint and layer group (the blocks in thirds; a group's feature is the mean of its blocks' states at the "
    "verdict position of the forced-choice pass, the position whose logits choose SAFE or UNSAFE), a logistic "
    "regression on standardised features (fixed C, never tuned on the held-out side) is fit on the teacher_train "
    "side of the human labels and measured on the held-out side: accuracy at P(UNSAFE) >= 0.5 with its Wilson "
    "95% interval, ROC AUC with a percentile bootstrap 95% interval over held-out items (2,000 resamples, seeded), "
    "and the AUC minus base's (same layer group) on the held-out items both were measured on, with a paired "
    "bootstrap interval. The intervals hold the held-out sampling only, not the probe's fitting variance."
)


def _probes(tables: EvaluationTables) -> list:
    if tables.probes.is_empty():
        return [
            NoData(
                "no probe was fit (the probes table is empty): the hidden states come from the checkpoints' "
                "forced-choice pass (judged_results with max_new_tokens 0, checkpoints_as_verifiers, probe_states) "
                "on the probe-fit set (judge_benchmarks' probe_fit_per_benchmark > 0)."
            )
        ]
    return [
        _figure(
            plots.probe_auc(tables.probes),
            "Held-out ROC AUC of each checkpoint's linear probe, one series per layer group, with bootstrap 95% "
            "intervals; the dashed line is chance.",
            "no probe had both classes to measure an AUC on.",
        ),
        _table(
            tables.probes,
            [
                _text("checkpoint"),
                ("layer group", lambda r: f"{r['layer_group']} ({r['layers']})", False),
                _int("n_fit", "fit items"),
                _int("n_heldout", "held-out items"),
                _rate("accuracy", "accuracy"),
                _ci("accuracy_ci_low", "accuracy_ci_high", "accuracy 95% CI"),
                ("ROC AUC", lambda r: decimal(r["auc"]), True),
                ("AUC 95% CI", lambda r: _decimal_interval(r["ci_low"], r["ci_high"]), True),
                _int("n_paired", "paired items"),
                ("AUC − base", lambda r: _signed_decimal(r["auc_minus_base"]), True),
                ("difference 95% CI", lambda r: _decimal_interval(r["diff_ci_low"], r["diff_ci_high"]), True),
            ],
            PROBES_CAPTION,
        ),
    ]


def _decimal_interval(low: float | None, high: float | None) -> str:
    return MISSING if _missing(low) or _missing(high) else f"[{low:.3f}, {high:.3f}]"


def _signed_decimal(value: float | None) -> str:
    return MISSING if _missing(value) else f"{value:+.3f}"


def _history_value(metric: str, value: float | None) -> str:
    return decimal(value) if "auc" in metric.lower() else percent(value)


def _history(tables: EvaluationTables) -> list:
    history = tables.history
    if history.is_empty():
        return [NoData("no evaluation run is recorded yet (the history table is empty).")]
    metrics = [str(m) for m in history["metric"].unique(maintain_order=True).to_list()]
    wide: dict[tuple, dict[str, float | None]] = {}
    for row in history.iter_rows(named=True):
        wide.setdefault((row["run_id"], row["created_at"], row["checkpoint"]), {})[str(row["metric"])] = row["value"]
    ordered = sorted(wide.items(), key=lambda item: (str(item[0][1]), str(item[0][0])))
    rows = [
        [str(run), str(created), str(checkpoint), *[_history_value(m, values.get(m)) for m in metrics]]
        for (run, created, checkpoint), values in ordered
    ]
    return [
        judge_note(tables, tables.headline_judge),
        Table(
            f"This run and earlier ones, oldest first; ASR metrics use judge {tables.headline_judge}.",
            ["run", "created at", "checkpoint", *metrics],
            rows,
            [False, False, False, *[True] * len(metrics)],
        ),
        _figure(
            plots.history_lines(history),
            "Headline metrics over runs, one line per checkpoint.",
            "no metric value to plot.",
        ),
    ]


def _paper(tables: EvaluationTables) -> list:
    blocks: list = [Text(PAPER_DISCLAIMER, "warning")]
    if tables.paper.is_empty():
        blocks.append(NoData("no published numbers were loaded (the paper table is empty)."))
    else:
        blocks.append(
            _table(
                tables.paper,
                [
                    _text("paper"),
                    _text("model"),
                    _text("setting"),
                    _text("metric"),
                    ("reported in the paper", lambda r: reported(r["reported"]), True),
                    _text("note"),
                ],
                "As published; not measured here.",
            )
        )
    return blocks


def _lineage(tables: EvaluationTables) -> list:
    if not tables.lineage:
        return [NoData("no lineage was recorded.")]
    order = ["run", *[name for name, _ in SECTIONS]]
    names = sorted(tables.lineage, key=lambda n: (order.index(n) if n in order else len(order), n))
    blocks: list = [
        Text(
            "What every figure was computed from: data hashes, spec hash, model ids and hashes, teacher "
            "and judges. 'run' holds what every section shares."
        )
    ]
    for name in names:
        entries = tables.lineage[name] or {}
        caption = "run (shared by every section)" if name == "run" else name
        if not entries:
            blocks.append(NoData(f"no lineage recorded for {name}."))
            continue
        blocks.append(Table(caption, ["key", "value"], [[str(k), str(v)] for k, v in entries.items()], [False, False]))
    return blocks


BUILDERS: dict[str, Callable[[EvaluationTables], list]] = {
    "controls": _controls,
    "summary": _summary,
    "asr": _asr,
    "over-refusal": _over_refusal,
    "utility": _utility,
    "reasoning-gap": _reasoning_gap,
    "judges": _judges_section,
    "review": _review,
    "verification": _verification,
    "probes": _probes,
    "history": _history,
    "paper": _paper,
    "lineage": _lineage,
}


def _in_checkpoint_order(tables: EvaluationTables) -> EvaluationTables:
    """A copy whose frames list checkpoints in the comparison's order (base first, as the asset orders them),
    stably: every figure then places and colours the checkpoints the same way."""
    rank = (
        {c: i for i, c in enumerate(tables.comparison["checkpoint"].to_list())}
        if "checkpoint" in tables.comparison.columns
        else {}
    )
    changes = {}
    for item in fields(tables):
        frame = getattr(tables, item.name)
        if rank and isinstance(frame, pl.DataFrame) and "checkpoint" in frame.columns and frame.height > 1:
            key = pl.col("checkpoint").replace_strict(rank, default=len(rank), return_dtype=pl.Int64)
            changes[item.name] = frame.sort(key, maintain_order=True)
    return replace(tables, **changes)


def sections(tables: EvaluationTables) -> list[Section]:
    """The report's sections, in `SECTIONS` order, each a list of blocks for the template."""
    tables = _in_checkpoint_order(tables)
    return [
        Section(sid, heading, BUILDERS[sid](tables), "paper" if sid == "paper" else "") for sid, heading in SECTIONS
    ]


# --- HTML -----------------------------------------------------------------------------------------------------

CSS = Markup("""
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #d8dce3; --accent: #2456a6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: #f6f7f9; }
header, main { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { margin: 0 0 4px; font-size: 24px; }
.meta { color: var(--muted); margin: 0 0 12px; }
nav ul { list-style: none; padding: 0; margin: 0 0 16px; display: flex; flex-wrap: wrap; gap: 6px 16px; }
nav a { color: var(--accent); text-decoration: none; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 20px 16px;
          margin: 0 0 20px; }
h2 { font-size: 19px; margin: 12px 0 10px; }
p.judge { border-left: 4px solid var(--accent); background: #eef3fb; padding: 6px 10px; }
p.nodata { color: #7a4b00; background: #fff6e0; border: 1px dashed #d9a441; padding: 8px 10px; }
p.warning { font-weight: 600; }
section.paper { background: #fbf7ee; border: 2px dashed #b08a3c; }
section.paper table th { background: #f2e8d2; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; color: var(--muted); padding: 0 0 4px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
td { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
figure { margin: 8px 0 16px; }
figure svg { max-width: 100%; height: auto; }
figure svg * { stroke-linejoin: round; stroke-linecap: butt; }
figcaption { color: var(--muted); font-size: 13px; }
.gallery { display: flex; flex-wrap: wrap; gap: 8px 20px; }
.gallery figure { width: 300px; }
details summary { cursor: pointer; color: var(--accent); }
""")

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
<p class="meta">Generated {{ generated_at }} · headline judge {{ headline_judge }} ·
rates with Wilson 95% intervals</p>
{% if notice %}<p class="warning notice">{{ notice }}</p>{% endif %}
<nav><ul>
{% for s in sections %}<li><a href="#{{ s.id }}">{{ s.heading }}</a></li>
{% endfor %}</ul></nav>
</header>
<main>
{% macro num(t, i) %}{% if t.numeric[i] %} class="num"{% endif %}{% endmacro %}
{% macro table(t) -%}
<div class="scroll"><table>
{% if t.caption and not t.collapsed %}<caption>{{ t.caption }}</caption>{% endif %}
<thead><tr>
{% for h in t.headings %}<th{{ num(t, loop.index0) }}>{{ h }}</th>{% endfor %}
</tr></thead>
<tbody>
{% for row in t.rows %}
<tr>{% for cell in row %}<td{{ num(t, loop.index0) }}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}
</tbody>
</table></div>
{%- endmacro %}
{% macro figure(f) -%}
<figure>{{ f.svg }}<figcaption>{{ f.caption }}</figcaption></figure>
{%- endmacro %}
{% for s in sections %}
<section id="{{ s.id }}"{% if s.css %} class="{{ s.css }}"{% endif %}>
<h2>{{ s.heading }}</h2>
{% for b in s.blocks %}
{% if b.kind == "text" %}<p{% if b.css %} class="{{ b.css }}"{% endif %}>{{ b.text }}</p>
{% elif b.kind == "nodata" %}<p class="nodata">No data: {{ b.text }}</p>
{% elif b.kind == "figure" %}{{ figure(b) }}
{% elif b.kind == "gallery" %}<div class="gallery">{% for f in b.figures %}{{ figure(f) }}{% endfor %}</div>
{% elif b.kind == "table" and b.collapsed %}<details><summary>{{ b.caption }} ({{ b.rows | length }} rows)</summary>
{{ table(b) }}</details>
{% elif b.kind == "table" %}{{ table(b) }}
{% endif %}
{% endfor %}
</section>
{% endfor %}
</main>
</body>
</html>
"""

_ENVIRONMENT = jinja2.Environment(
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
)


def render_html(tables: EvaluationTables, title: str, generated_at: str, notice: str = "") -> str:
    """The whole report as one self-contained HTML page (sections in `SECTIONS` order, ids as given there);
    `notice`, when given, stands at the top (what scale the run was, what its figures can and cannot show)."""
    return _ENVIRONMENT.from_string(TEMPLATE).render(
        title=title,
        notice=notice,
        generated_at=generated_at,
        headline_judge=tables.headline_judge,
        css=CSS,
        sections=sections(tables),
    )


# --- markdown -------------------------------------------------------------------------------------------------


def _markdown(frame: pl.DataFrame, columns: Sequence[Column]) -> str:
    """`frame` as a markdown table, each cell formatted as the HTML report formats it."""
    formatted = pl.DataFrame(
        [[cell(r) for _, cell, _ in columns] for r in frame.iter_rows(named=True)],
        schema=[heading for heading, _, _ in columns],
        orient="row",
    )
    return markdown_table(formatted)


def render_markdown(tables: EvaluationTables) -> str:
    """A short summary for the asset's metadata: the headline judge's measured accuracy, the positive controls,
    the comparison table and which sections have data."""
    judge = tables.headline_judge
    accuracy = accuracy_cell(tables, judge)
    lines = [
        f"**Headline judge `{judge}`**: "
        + (
            "accuracy against human labels not measured."
            if accuracy == "not measured"
            else f"measured accuracy {accuracy} against human labels."
        )
    ]
    if not tables.controls.is_empty():
        lines += [CONTROLS_CAPTION, _markdown(tables.controls, CONTROLS_COLUMNS)]
    if tables.comparison.is_empty():
        lines.append("No checkpoint was evaluated (the comparison table is empty).")
    else:
        lines.append(_markdown(tables.comparison, _comparison_columns()))
    for frame, columns, caption in (
        (tables.paired, PAIRED_COLUMNS, _paired_caption(tables)),
        (tables.corrected, CORRECTED_COLUMNS, _corrected_caption(tables)),
        (tables.budgets, BUDGET_COLUMNS, BUDGET_CAPTION),
    ):
        if not frame.is_empty():
            lines += [caption, _markdown(frame, columns)]
    present = has_data(tables)
    lines.append(
        "Sections with data: "
        + (", ".join(n for n, _ in SECTIONS if present[n]) or "none")
        + "; without: "
        + (", ".join(n for n, _ in SECTIONS if not present[n]) or "none")
        + "."
    )
    return "\n\n".join(lines)


# --- files ------------------------------------------------------------------------------------------------------


def _write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename over `path`: readers see the old file or the
    new one, never half of one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_report(html: str, folder: Path, name: str) -> Path:
    """Store the report as `folder/name` and as `folder/latest.html`, each atomically; returns `folder/name`."""
    if not name or Path(name).name != name:
        raise ValueError(f"report name must be a plain file name, got {name!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    _write_atomic(path, html)
    if name != LATEST:
        _write_atomic(folder / LATEST, html)
    return path


# --- the papers' numbers ---------------------------------------------------------------------------------------


def load_paper_numbers(path: Path = PAPER_NUMBERS) -> pl.DataFrame:
    """The published numbers (`paper_numbers.yaml`) as the `paper` table: paper, model, setting, metric,
    reported, note. Shown in the report's own section, never next to our measurements."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    rows = []
    for paper in document["papers"]:
        for metric in paper["metrics"]:
            for setting, value in metric["reported"].items():
                rows.append(
                    {
                        "paper": paper["paper"],
                        "model": metric.get("model", paper.get("model")),
                        "setting": str(setting),
                        "metric": metric["metric"],
                        "reported": float(value),
                        "note": metric.get("note", ""),
                    }
                )
    return pl.DataFrame(rows, schema=PAPER_COLUMNS) if rows else pl.DataFrame(schema=PAPER_COLUMNS)
