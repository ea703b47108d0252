"""Choices inside list- and mapping-valued config fields.

Dagster's config schema takes `Literal` only as a field's own type: a `list[Literal[...]]` or a
`dict[str, Literal[...]]` does not resolve. Such fields stay `list[str]` / `dict[str, str]` and get a pydantic
validator from `only`, which fails the run as it starts, before the step does anything, naming the field, the
bad values and the choices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def only(choices: Sequence[str]) -> Callable[[type, Any, Any], Any]:
    """A `field_validator` body: every item of a list (every value of a mapping) must be one of `choices`."""

    def check(cls: type, value: Any, info: Any) -> Any:
        items = value.values() if isinstance(value, dict) else value
        bad = sorted({str(v) for v in items if v not in choices})
        if bad:
            raise ValueError(f"{info.field_name}: {bad} not among the choices {list(choices)}")
        return value

    return check
