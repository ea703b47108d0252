"""The blocking data checks of the `prompts` stage's assets (GX suites and SQL checks, see validation/checks.py)."""

from sinternal_assets.prompts.assets import prompt_pool
from sinternal_assets.validation import suites
from sinternal_assets.validation.checks import gx_check, sql_check

CHECKS = [
    gx_check(
        prompt_pool,
        "prompt_pool",
        lambda v, g: suites.prompt_pool_suite(v["categories"], g.max_prompt_chars, g.min_pool_rows),
    ),
    sql_check(prompt_pool, "check_prompt_pool_nonempty_text"),
    sql_check(prompt_pool, "check_prompt_pool_valid_labels"),
    sql_check(prompt_pool, "check_prompt_pool_valid_categories"),
    sql_check(prompt_pool, "check_prompt_pool_unique_ids"),
    sql_check(prompt_pool, "check_prompt_pool_no_leakage"),
    sql_check(
        prompt_pool,
        "check_prompt_pool_class_balance",
        lambda g: {"min_harmful": g.min_harmful_share, "max_harmful": g.max_harmful_share},
    ),
]
