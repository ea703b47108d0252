"""Great Expectations 1.x suites, run on a pandas frame through an ephemeral context.

GX 1.x has no polars or DuckDB datasource, and its SQL datasource on duckdb-engine reads rows after the
connection closes, so tables are read from DuckDB into pandas and validated in memory. GX is imported lazily: its
import costs seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Expectation:
    """One GX expectation: its class name (e.g. `ExpectColumnValuesToBeUnique`) and keyword arguments."""

    kind: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        column = self.kwargs.get("column")
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in self.kind).lstrip("_")
        return f"gx_{snake}" + (f"__{column}" if column else "")


@dataclass(frozen=True)
class Outcome:
    expectation: Expectation
    success: bool
    observed: dict[str, Any]


def _configure_quietly() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_PROGRESS_BARS", "false")


def run_suite(frame, suite_name: str, expectations: list[Expectation]) -> list[Outcome]:
    """Validate a pandas DataFrame; one Outcome per expectation, in order."""
    _configure_quietly()
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    try:
        context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    except Exception:  # older/newer GX layouts: progress bars are cosmetic
        pass
    batch_definition = (
        context.data_sources.add_pandas(f"{suite_name}_source")
        .add_dataframe_asset(f"{suite_name}_frame")
        .add_batch_definition_whole_dataframe(f"{suite_name}_batch")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
    for exp in expectations:
        cls = getattr(gx.expectations, exp.kind, None)
        if cls is None:
            raise ValueError(f"suite {suite_name}: GX has no expectation {exp.kind}")
        suite.add_expectation(cls(**exp.kwargs))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}_validation", data=batch_definition, suite=suite)
    )
    result = validation.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
    outcomes = []
    # GX returns results in suite order; match by position and check the type to be sure.
    for exp, res in zip(expectations, result.results, strict=True):
        observed = {
            k: res.result.get(k)
            for k in (
                "observed_value",
                "element_count",
                "unexpected_count",
                "unexpected_percent",
                "partial_unexpected_list",
            )
            if res.result.get(k) is not None
        }
        if res.exception_info and res.exception_info.get("raised_exception"):
            observed["exception"] = str(res.exception_info.get("exception_message"))[:500]
        outcomes.append(Outcome(exp, bool(res.success), observed))
    return outcomes
