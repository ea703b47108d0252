"""The blocking data checks of the `evaluation` stage's assets (GX suites and SQL checks, see validation/checks.py)."""

from sinternal_assets.evaluation.assets import eval_set, judge_benchmarks, judged_results
from sinternal_assets.validation import suites
from sinternal_assets.validation.checks import gx_check, sql_check

CHECKS = [
    gx_check(eval_set, "eval_items", lambda v, g: suites.eval_items_suite(v["categories"])),
    sql_check(eval_set, "check_eval_items_from_eval_split"),
    sql_check(eval_set, "check_eval_items_not_in_train"),
    gx_check(judge_benchmarks, "human_labels", lambda v, g: suites.human_labels_suite()),
    sql_check(judge_benchmarks, "check_human_labels_truth"),
    sql_check(judge_benchmarks, "check_human_labels_response_split"),
    sql_check(judged_results, "check_judged_results_complete"),
]
