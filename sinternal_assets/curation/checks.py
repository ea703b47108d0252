"""The blocking data checks of the `curation` stage's assets (GX suites and SQL checks, see validation/checks.py)."""

from sinternal_assets.curation.assets import verification_examples
from sinternal_assets.validation import suites
from sinternal_assets.validation.checks import gx_check, sql_check

CHECKS = [
    gx_check(
        verification_examples,
        "verification_examples",
        lambda v, g: suites.verification_examples_suite(g.max_example_input_chars, g.max_example_target_chars),
    ),
    sql_check(verification_examples, "check_verification_examples_no_duplicate_inputs"),
    sql_check(verification_examples, "check_verification_examples_heldout_absent"),
    sql_check(verification_examples, "check_verification_examples_no_leakage"),
    sql_check(
        verification_examples,
        "check_verification_examples_label_balance",
        lambda g: {"min_safe_share": g.min_safe_share, "max_safe_share": g.max_safe_share},
    ),
]
