"""Which critiques go to human review, and in which order.

Disagreements with a reference label come first, then low-confidence judgements (the verdict did not parse,
the teacher needed retries, or its verdict-token probability is below a threshold), then a random audit
sample of everything else at a configured rate. The audit draw is a hash of (seed, critique id): the same
critique is drawn or not on every run, so re-pushing never churns the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from sinternal_assets.hashing import sha256_text

ROUTES = ("disagreement", "low_confidence", "audit")


@dataclass(frozen=True)
class RoutingPolicy:
    audit_rate: float = 0.1
    low_confidence_below: float = 0.75
    seed: int = 0
    max_records: int | None = None

    def __post_init__(self):
        if not 0.0 <= self.audit_rate <= 1.0:
            raise ValueError(f"audit_rate must be within [0, 1], got {self.audit_rate}")
        if not 0.0 <= self.low_confidence_below <= 1.0:
            raise ValueError(f"low_confidence_below must be within [0, 1], got {self.low_confidence_below}")


def audit_draw(critique_id: str, seed: int) -> float:
    """A uniform number in [0, 1) fixed by (seed, critique id)."""
    return int(sha256_text(f"{seed}:{critique_id}")[:12], 16) / float(1 << 48)


def route(candidates: pl.DataFrame, policy: RoutingPolicy) -> pl.DataFrame:
    """The candidates that go to review, with `route`, `priority` (0 = first) and `queue_position`.

    Needs columns critique_id, parse_ok, attempts, agrees_with_reference and verdict_score (may be null).
    """
    if candidates.is_empty():
        return candidates.with_columns(
            pl.lit(None, pl.String).alias("route"), pl.lit(0).alias("priority"), pl.lit(0).alias("queue_position")
        )
    draws = pl.Series("audit_draw", [audit_draw(c, policy.seed) for c in candidates["critique_id"]], pl.Float64)
    frame = candidates.with_columns(draws)
    low_confidence = (
        ~pl.col("parse_ok")
        | (pl.col("attempts") > 1)
        | (pl.col("verdict_score").is_not_null() & (pl.col("verdict_score") < policy.low_confidence_below))
    )
    routed = frame.with_columns(
        pl.when(pl.col("agrees_with_reference").eq(False))
        .then(pl.lit("disagreement"))
        .when(low_confidence)
        .then(pl.lit("low_confidence"))
        .when(pl.col("audit_draw") < policy.audit_rate)
        .then(pl.lit("audit"))
        .otherwise(None)
        .alias("route")
    ).filter(pl.col("route").is_not_null())
    routed = routed.with_columns(
        pl.col("route").replace_strict({r: i for i, r in enumerate(ROUTES)}, return_dtype=pl.Int32).alias("priority")
    ).sort(["priority", pl.col("verdict_score").fill_null(-1.0), "critique_id"])
    if policy.max_records is not None:
        routed = routed.head(policy.max_records)
    return routed.with_row_index("queue_position").drop("audit_draw")
