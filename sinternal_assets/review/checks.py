"""The blocking data checks of the `review` stage's assets (GX suites and SQL checks, see validation/checks.py)."""

from sinternal_assets.review.assets import reviewed_critiques
from sinternal_assets.validation import suites
from sinternal_assets.validation.checks import gx_check, sql_check

CHECKS = [
    gx_check(reviewed_critiques, "reviewed_critiques", lambda v, g: suites.reviewed_critiques_suite()),
    sql_check(reviewed_critiques, "check_reviewed_critiques_integrity"),
]
