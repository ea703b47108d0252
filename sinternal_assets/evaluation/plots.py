"""The evaluation report's figures: matplotlib drawn off-screen, returned as inline SVG text.

Every function takes the frames of `tables.py` (with their documented columns) and returns the `<svg>` element
as a string ready to put inside HTML, or None when there is nothing to draw (the report then says "no data"
instead of showing empty axes). SVG keeps text as text (`svg.fonttype: none`), so a figure is a few tens of kB
and searchable; hashed ids are salted per figure so that several figures can share one HTML page.

No pyplot: figures are `matplotlib.figure.Figure` objects, settings go through `rc_context`, so nothing leaks
into matplotlib's global state (the Agg backend is set explicitly for the rasterised heatmap cells).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime

import matplotlib

matplotlib.use("Agg")

import polars as pl  # noqa: E402
from markupsafe import escape  # noqa: E402
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from sinternal_assets.evaluation.metrics import wilson_interval  # noqa: E402

WIDTH, HEIGHT, DPI = 6.0, 3.5, 100
ALL = "all"  # a row already pooled over that column (e.g. source 'all': every source of one family)
HELDOUT = "heldout"
ROLE_ORDER = {"none": 0, "train": 1, HELDOUT: 2}
# Labels come from data (checkpoint, family and judge names): never parse them as mathtext ("$" is text).
_RC = {
    "svg.fonttype": "none",
    "svg.image_inline": True,
    "text.parse_math": False,
    "font.size": 8,
    "axes.titlesize": 9,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


@contextmanager
def _style(key: str) -> Iterator[None]:
    """matplotlib settings for one figure; `key` salts the SVG's hashed ids so they are unique on the page."""
    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"sinternal-{key}"}):
        yield


def _svg(fig: Figure, label: str) -> str:
    """The figure as an `<svg>` element for inline HTML: no XML prolog, no metadata, no page-wide style rule,
    only the ids something refers to; `label` is its accessible name."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata=_NO_METADATA)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<style[^>]*>.*?</style>", "", text, count=1, flags=re.DOTALL)
    referenced = set(re.findall(r"(?:url\(#|href=\"#)([^)\"]+)", text))
    text = re.sub(r' id="([^"]+)"', lambda m: m.group(0) if m.group(1) in referenced else "", text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1).strip()


def _order(values: pl.Series) -> list[str]:
    """Distinct values in first-seen order (the upstream order of checkpoints: base first, then the trained)."""
    return [str(v) for v in values.unique(maintain_order=True).to_list()]


def _colours(names: Sequence[str]) -> dict[str, str]:
    cycle = [f"C{i}" for i in range(10)]
    return {name: cycle[i % len(cycle)] for i, name in enumerate(names)}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pool_rates(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Sum n and successes over the rows of each group (e.g. every source of one family) and recompute the rate
    and its Wilson 95% interval: a pooled rate is exact, an average of rates would not be."""
    sums = frame.group_by(list(by), maintain_order=True).agg(
        pl.col("n").sum().cast(pl.Int64), pl.col("successes").sum().cast(pl.Int64)
    )
    bounds = [wilson_interval(s, n) for s, n in zip(sums["successes"], sums["n"], strict=True)]
    return sums.with_columns(
        pl.when(pl.col("n") > 0).then(pl.col("successes") / pl.col("n")).otherwise(None).alias("rate"),
        pl.Series("ci_low", [b[0] for b in bounds], dtype=pl.Float64),
        pl.Series("ci_high", [b[1] for b in bounds], dtype=pl.Float64),
    )


def pooled(frame: pl.DataFrame, over: str, by: Sequence[str]) -> pl.DataFrame:
    """One rate per `by` group across the values of `over` (e.g. per family across sources): the group's row
    with `over` = 'all' when the frame carries one, else the sum of its rows (`pool_rates`). Rows whose `by`
    values are 'all' are other views of the same answers (e.g. family 'all' = one source) and are left out,
    so nothing is counted twice."""
    rows = frame.filter(pl.all_horizontal([pl.col(c).ne_missing(ALL) for c in by]) if by else pl.lit(True))
    ready = rows.filter(pl.col(over) == ALL).select(*by, "n", "successes", "rate", "ci_low", "ci_high")
    summed = pool_rates(rows.filter(pl.col(over).ne_missing(ALL)), by)
    if ready.is_empty():
        return summed
    rest = summed.join(ready.select(*by), on=list(by), how="anti", nulls_equal=True)
    return pl.concat([ready, rest.select(ready.columns)], how="vertical_relaxed")


def _errors(rows: Sequence[dict]) -> list[list[float]]:
    """matplotlib's asymmetric error bars (below, above) from rate and interval; 0 where the rate is unknown."""
    below = [0.0 if _missing(r["rate"]) else max(0.0, r["rate"] - r["ci_low"]) for r in rows]
    above = [0.0 if _missing(r["rate"]) else max(0.0, r["ci_high"] - r["rate"]) for r in rows]
    return [below, above]


def asr_by_family(asr: pl.DataFrame, judge: str) -> str | None:
    """Grouped bars: attack family on x (pooled over sources), one bar per checkpoint, Wilson 95% error bars,
    as `judge` judged the final answers. Held-out families (never seen in training) are hatched and labelled
    "(held-out)"."""
    frame = asr.filter(pl.col("judge") == judge)
    if frame.is_empty():
        return None
    pooled_rates = pooled(frame, "source", ["family", "family_role", "checkpoint"])
    if pooled_rates.is_empty():
        return None
    families = (
        pooled_rates.select("family", "family_role")
        .unique()
        .sort(pl.col("family_role").replace_strict(ROLE_ORDER, default=3), "family")
    )
    checkpoints = _order(frame["checkpoint"])
    colours = _colours(checkpoints)
    width = 0.8 / len(checkpoints)
    with _style(f"asr-{judge}"):
        fig = Figure(
            figsize=(min(10.0, max(WIDTH, 0.35 * families.height * len(checkpoints) + 1.5)), HEIGHT),
            dpi=DPI,
            layout="constrained",
        )
        ax = fig.add_subplot()
        for i, checkpoint in enumerate(checkpoints):
            rows = []
            for family, role in families.iter_rows():
                match = pooled_rates.filter(
                    (pl.col("family") == family)
                    & (pl.col("family_role") == role)
                    & (pl.col("checkpoint") == checkpoint)
                )
                rows.append(match.row(0, named=True) if match.height else {"rate": None, "ci_low": 0, "ci_high": 0})
            heights = [0.0 if _missing(r["rate"]) else r["rate"] for r in rows]
            xs = [j + (i - (len(checkpoints) - 1) / 2) * width for j in range(families.height)]
            bars = ax.bar(
                xs,
                heights,
                width,
                yerr=_errors(rows),
                capsize=2,
                color=colours[checkpoint],
                edgecolor="black",
                linewidth=0.4,
                label=checkpoint,
                error_kw={"linewidth": 0.8},
            )
            for bar, role in zip(bars, families["family_role"], strict=True):
                if role == HELDOUT:
                    bar.set_hatch("///")
        labels = [f"{f} (held-out)" if r == HELDOUT else f for f, r in families.iter_rows()]
        ax.set_xticks(range(families.height), labels, rotation=30, ha="right")
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel("attack success rate")
        ax.set_title(f"ASR by attack family (judge: {judge}; bars: Wilson 95% CI)")
        handles, names = ax.get_legend_handles_labels()
        if HELDOUT in families["family_role"].to_list():
            handles.append(Patch(facecolor="white", edgecolor="black", hatch="///"))
            names.append("held-out family")
        ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return _svg(fig, f"Attack success rate by attack family and checkpoint, judged by {judge}")


def refusal_vs_asr(
    over_refusal: pl.DataFrame, asr_by_role: pl.DataFrame, refusal_judge: str, asr_judge: str
) -> str | None:
    """One point per checkpoint: x = over-refusal rate on benign prompts, y = harmful ASR (pooled over every
    source, attack family and role), with Wilson 95% error bars both ways; the safe corner is bottom left."""
    refusals = pooled(over_refusal.filter(pl.col("judge") == refusal_judge), "source", ["checkpoint"])
    attacks = pooled(asr_by_role.filter(pl.col("judge") == asr_judge), "family_role", ["checkpoint"])
    points = refusals.join(attacks, on="checkpoint", suffix="_asr", maintain_order="left").filter(
        pl.col("rate").is_not_null() & pl.col("rate_asr").is_not_null()
    )
    if points.is_empty():
        return None
    colours = _colours(_order(points["checkpoint"]))
    with _style(f"refusal-{refusal_judge}-{asr_judge}"):
        fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        for row in points.iter_rows(named=True):
            x, y = row["rate"], row["rate_asr"]
            ax.errorbar(
                [x],
                [y],
                xerr=[[max(0.0, x - row["ci_low"])], [max(0.0, row["ci_high"] - x)]],
                yerr=[[max(0.0, y - row["ci_low_asr"])], [max(0.0, row["ci_high_asr"] - y)]],
                fmt="o",
                color=colours[row["checkpoint"]],
                capsize=2,
                linewidth=0.8,
                markersize=5,
            )
            ax.annotate(row["checkpoint"], (x, y), textcoords="offset points", xytext=(5, 4), fontsize=7)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel(f"over-refusal rate on benign prompts (judge: {refusal_judge})")
        ax.set_ylabel(f"harmful ASR (judge: {asr_judge})")
        ax.set_title("Over-refusal against attack success (lower left is better)")
        return _svg(fig, "Over-refusal rate against harmful attack success rate per checkpoint")


def _heatmap(ax, values: list[list[float]], texts: list[list[str]], vmax: float, cmap: str):
    """Coloured cells with their text; dark cells get white text."""
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            dark = not _missing(value) and vmax > 0 and value / vmax > 0.6
            ax.text(j, i, texts[i][j], ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.spines[:].set_visible(False)
    return image


def confusion_matrix(judge: str, benchmark: str, tp: int, fp: int, fn: int, tn: int) -> str:
    """A 2 x 2 heatmap of one judge on one human-labelled set: rows = human label, columns = judge verdict
    (UNSAFE first: it is the positive class), counts annotated."""
    values = [[tp, fn], [fp, tn]]
    with _style(f"confusion-{judge}-{benchmark}"):
        fig = Figure(figsize=(2.9, 2.5), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        _heatmap(ax, values, [[str(v) for v in row] for row in values], max(1, tp, fp, fn, tn), "Blues")
        ax.set_xticks([0, 1], ["UNSAFE", "SAFE"])
        ax.set_yticks([0, 1], ["UNSAFE", "SAFE"])
        ax.set_xlabel("judge verdict")
        ax.set_ylabel("human label")
        ax.set_title(f"{judge} on {benchmark} (n = {tp + fp + fn + tn})", fontsize=8)
        return _svg(fig, f"Confusion matrix of judge {judge} on {benchmark}")


def agreement_heatmap(agreement: pl.DataFrame) -> str | None:
    """Judge x judge: the share of eval answers both judged on which their verdicts match (n in each cell);
    the diagonal is left blank (a judge trivially agrees with itself)."""
    rows = agreement.filter(pl.col("agreement").is_not_null())
    if rows.is_empty():
        return None
    judges = sorted(set(rows["judge_a"].to_list()) | set(rows["judge_b"].to_list()))
    index = {j: i for i, j in enumerate(judges)}
    values = [[math.nan] * len(judges) for _ in judges]
    texts = [["—" if a == b else "" for b in judges] for a in judges]
    for row in rows.iter_rows(named=True):
        a, b = index[row["judge_a"]], index[row["judge_b"]]
        for i, j in ((a, b), (b, a)):
            values[i][j] = row["agreement"]
            texts[i][j] = f"{row['agreement'] * 100:.1f}%\nn={row['n']}"
    side = min(7.0, 1.2 + 0.9 * len(judges))
    with _style("agreement"):
        fig = Figure(figsize=(side + 1.0, side), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        image = _heatmap(ax, values, texts, 1.0, "Greens")
        ax.set_xticks(range(len(judges)), judges, rotation=30, ha="right")
        ax.set_yticks(range(len(judges)), judges)
        ax.set_title("Agreement between judges")
        colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
        colorbar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        return _svg(fig, "Agreement between judges on the evaluation answers")


def threshold_curves(thresholds: pl.DataFrame) -> str | None:
    """ROC-style curves: each checkpoint acting as a verifier, one point per threshold (x = false-positive rate,
    y = recall), joined through (0, 0) and (1, 1); the dashed diagonal is a random verifier."""
    frame = thresholds.filter(pl.col("false_positive_rate").is_not_null() & pl.col("recall").is_not_null())
    if frame.is_empty():
        return None
    checkpoints = _order(frame["checkpoint"])
    colours = _colours(checkpoints)
    with _style("thresholds"):
        fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8, label="random verifier")
        for checkpoint in checkpoints:
            points = frame.filter(pl.col("checkpoint") == checkpoint).sort("false_positive_rate", "recall")
            xs, ys = points["false_positive_rate"].to_list(), points["recall"].to_list()
            ax.plot([0.0, *xs, 1.0], [0.0, *ys, 1.0], color=colours[checkpoint], linewidth=1.0)
            ax.plot(xs, ys, "o", color=colours[checkpoint], markersize=4, label=checkpoint)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel("false-positive rate (safe answers flagged UNSAFE)")
        ax.set_ylabel("recall (unsafe answers caught)")
        ax.set_title("Checkpoints as verifiers, per threshold")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
        return _svg(fig, "Recall against false-positive rate per threshold for each checkpoint acting as a verifier")


def _when(value: object) -> datetime | None:
    """created_at as a datetime (it may come as a datetime, a date or an ISO string); None when unreadable."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def history_lines(history: pl.DataFrame) -> str | None:
    """Metrics over runs: one panel per metric, one line per checkpoint, x = the run's created_at (run order when
    a timestamp is unreadable or there is only one run). Drawn from one run on (a single run shows points)."""
    frame = history.filter(pl.col("value").is_not_null())
    if frame.is_empty():
        return None
    runs = frame.select("run_id", "created_at").unique(subset="run_id", maintain_order=True)
    stamps = [_when(v) for v in runs["created_at"].to_list()]
    dated = (
        all(s is not None for s in stamps) and len({s.tzinfo is None for s in stamps}) == 1 and len(set(stamps)) > 1
    )  # a date axis needs a range; one run is placed by its run id
    position = dict(zip(runs["run_id"].to_list(), stamps if dated else range(runs.height), strict=True))
    metrics, checkpoints = _order(frame["metric"]), _order(frame["checkpoint"])
    colours = _colours(checkpoints)
    columns = min(3, len(metrics))
    lines = math.ceil(len(metrics) / columns)
    with _style("history"):
        fig = Figure(figsize=(7.5, 0.4 + 2.0 * lines), dpi=DPI, layout="constrained")
        axes = fig.subplots(lines, columns, squeeze=False)
        for k, metric in enumerate(metrics):
            ax = axes[k // columns][k % columns]
            for checkpoint in checkpoints:
                points = frame.filter((pl.col("metric") == metric) & (pl.col("checkpoint") == checkpoint))
                if points.is_empty():
                    continue
                pairs = sorted((position[r], v) for r, v in zip(points["run_id"], points["value"], strict=True))
                ax.plot(
                    [p[0] for p in pairs],
                    [p[1] for p in pairs],
                    marker="o",
                    markersize=3,
                    linewidth=1.0,
                    color=colours[checkpoint],
                    label=checkpoint,
                )
            ax.set_title(metric)
            values = frame.filter(pl.col("metric") == metric)["value"]
            if values.min() >= 0 and values.max() <= 1:
                ax.set_ylim(-0.02, 1.02)
                if "auc" not in metric.lower():  # rates; an AUC is a probability, shown as a number
                    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            if dated:
                locator = AutoDateLocator(maxticks=4)
                ax.xaxis.set_major_locator(locator)
                ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
            else:
                ax.set_xticks(range(runs.height), [str(r) for r in runs["run_id"]], rotation=30, ha="right")
        for k in range(len(metrics), lines * columns):
            axes[k // columns][k % columns].set_visible(False)
        handles = [Patch(color=colours[c]) for c in checkpoints]
        fig.legend(handles, checkpoints, loc="outside upper center", ncols=min(6, len(checkpoints)), frameon=False)
        return _svg(fig, "Headline metrics over evaluation runs, per checkpoint")


CURVE_TITLES = {"loss": "train loss per logged step", "reward": "GRPO reward (weighted sum of terms)"}


def curve_title(metric: str) -> str:
    """A curve panel's title: the fixed ones, or a reward term's (`rewards/<name>/mean`) by its name."""
    if metric in CURVE_TITLES:
        return CURVE_TITLES[metric]
    return f"reward term {metric.split('/')[1]} (mean)"


def training_curves(curves: pl.DataFrame) -> str | None:
    """The trainers' logged curves: one panel per metric (train loss; GRPO's reward, the weighted sum of its
    terms; each reward term's mean apart), one line per checkpoint, x = the optimizer step. None when nothing
    was logged."""
    frame = curves.filter(pl.col("value").is_not_null())
    if frame.is_empty():
        return None
    present = set(frame["metric"].to_list())
    metrics = [m for m in CURVE_TITLES if m in present] + sorted(present - set(CURVE_TITLES))
    checkpoints = _order(frame["checkpoint"])
    colours = _colours(checkpoints)
    columns = min(3, len(metrics))
    rows = -(-len(metrics) // columns)
    with _style("curves"):
        fig = Figure(figsize=(7.5, 2.6 * rows), dpi=DPI, layout="constrained")
        grid = fig.subplots(rows, columns, squeeze=False)
        axes = [ax for row in grid for ax in row]
        for ax in axes[len(metrics) :]:
            ax.set_visible(False)
        for ax, metric in zip(axes, metrics, strict=False):
            for checkpoint in checkpoints:
                points = frame.filter((pl.col("metric") == metric) & (pl.col("checkpoint") == checkpoint)).sort("step")
                if points.is_empty():
                    continue
                ax.plot(
                    points["step"].to_list(),
                    points["value"].to_list(),
                    marker="o",
                    markersize=2.5,
                    linewidth=1.0,
                    color=colours[checkpoint],
                    label=checkpoint,
                )
            ax.set_title(curve_title(metric))
            ax.set_xlabel("optimizer step")
        handles = [Patch(color=colours[c]) for c in checkpoints]
        fig.legend(handles, checkpoints, loc="outside upper center", ncols=min(5, len(checkpoints)), frameon=False)
        return _svg(fig, "Train loss, GRPO reward and its terms per step, per checkpoint")


def probe_auc(probes: pl.DataFrame) -> str | None:
    """The linear probes' held-out ROC AUC per checkpoint (x), one series per layer group (points side by side),
    with their bootstrap 95% intervals; the dashed line at 0.5 is a probe that reads nothing."""
    frame = probes.filter(pl.col("auc").is_not_null())
    if frame.is_empty():
        return None
    checkpoints = _order(frame["checkpoint"])
    groups = frame.select("layer_group", "layers").unique(maintain_order=True).rows()
    colours = _colours([f"{g} ({layers})" for g, layers in groups])
    step = 0.6 / max(1, len(groups))
    with _style("probes"):
        fig = Figure(
            figsize=(min(10.0, max(WIDTH, 0.6 * len(checkpoints) + 2.5)), HEIGHT), dpi=DPI, layout="constrained"
        )
        ax = fig.add_subplot()
        ax.axhline(0.5, linestyle="--", color="grey", linewidth=0.8, label="chance (0.5)")
        for k, (group, layers) in enumerate(groups):
            name = f"{group} ({layers})"
            rows = {r["checkpoint"]: r for r in frame.filter(pl.col("layer_group") == group).iter_rows(named=True)}
            xs, ys, err = [], [], [[], []]
            for j, checkpoint in enumerate(checkpoints):
                row = rows.get(checkpoint)
                if row is None or (row["layers"] != layers):
                    continue
                xs.append(j + (k - (len(groups) - 1) / 2) * step)
                ys.append(row["auc"])
                low = row["auc"] if _missing(row["ci_low"]) else row["ci_low"]
                high = row["auc"] if _missing(row["ci_high"]) else row["ci_high"]
                err[0].append(max(0.0, row["auc"] - low))
                err[1].append(max(0.0, high - row["auc"]))
            ax.errorbar(xs, ys, yerr=err, fmt="o", color=colours[name], markersize=4, capsize=2, label=name)
        ax.set_xticks(range(len(checkpoints)), checkpoints, rotation=30, ha="right")
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("probe ROC AUC (held-out labels)")
        ax.set_title("Linear probes on the verdict position's hidden states (bars: bootstrap 95% CI)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return _svg(fig, "Held-out ROC AUC of a linear probe per checkpoint and layer group")
