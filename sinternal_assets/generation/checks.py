"""The blocking data checks of the `generation` stage's assets (GX suites and SQL checks, see validation/checks.py)."""

from sinternal_assets.generation.assets import expert_critiques, policy_answers
from sinternal_assets.validation import suites
from sinternal_assets.validation.checks import gx_check, sql_check

CHECKS = [
    gx_check(policy_answers, "policy_answers", lambda v, g: suites.policy_answers_suite()),
    sql_check(policy_answers, "check_policy_answers_integrity"),
    gx_check(expert_critiques, "expert_critiques", lambda v, g: suites.expert_critiques_suite()),
    sql_check(expert_critiques, "check_expert_critiques_integrity"),
]
