"""A test whose prerequisite is missing skips on a developer's machine and fails in CI (`CI` set): CI installs
every prerequisite, so a missing one there is a broken set-up, never a reason to pass silently."""

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> None:
    """Stop the test because `reason` (a prerequisite) is missing: a failure in CI, a skip elsewhere."""
    if in_ci():
        pytest.fail(f"CI must provide this prerequisite: {reason}")
    pytest.skip(reason)
