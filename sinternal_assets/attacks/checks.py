"""The blocking data checks of the `attacks` stage's assets (GX suites and SQL checks, see validation/checks.py)."""

from sinternal_assets.attacks.assets import attacked_prompts
from sinternal_assets.validation import suites
from sinternal_assets.validation.checks import gx_check, sql_check

CHECKS = [
    gx_check(
        attacked_prompts,
        "attacked_prompts",
        lambda v, g: suites.attacked_prompts_suite(v["families"], v["categories"]),
    ),
    sql_check(attacked_prompts, "check_attacked_prompts_slots_filled"),
    sql_check(attacked_prompts, "check_attacked_prompts_heldout_not_in_train"),
    sql_check(attacked_prompts, "check_attacked_prompts_integrity"),
]
