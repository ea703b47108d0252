"""The study record's training budgets come from what each trainer counted (`budget_json`), never from steps x
batch, and say what was shortened or dropped and which numeric path trained."""

import json

from benchmarks.study_summary import budgets_by_checkpoint, budgets_markdown


def test_budgets_are_the_trainers_counts():
    numerics = {"device": "cpu", "dtype": "fp32", "reason": "CPU without native bf16"}
    rows = [
        {
            "checkpoint": "verifier_sft",
            "method": "sft",
            "budget_json": json.dumps(
                {
                    # 64 steps x 4 would be 256: the trainer's own count is what the record holds
                    "consumed": {
                        "examples_in_data": 260,
                        "examples_seen": 252,
                        "epochs": 0.969,
                        "optimizer_steps": 64,
                        "real_tokens": 101_000,
                        "supervised_tokens": 30_500,
                    },
                    "fitting": {"shortened": 7, "dropped": 1},
                    "numerics": numerics,
                }
            ),
        },
        {"checkpoint": "verifier_grpo", "method": "grpo", "budget_json": None},
    ]
    budgets = budgets_by_checkpoint(rows)
    sft = budgets["verifier_sft"]
    assert (sft["examples_seen"], sft["epochs"], sft["supervised_tokens"]) == (252, 0.969, 30_500)
    assert (sft["examples_shortened"], sft["examples_dropped"], sft["numerics"]) == (7, 1, numerics)
    assert budgets["verifier_grpo"]["examples_seen"] is None and budgets["verifier_grpo"]["method"] == "grpo"
    table = budgets_markdown(budgets)
    assert "verifier_sft" in table and "252" in table and "fp32" in table
    assert budgets_markdown({}) == "(no checkpoint trained)"
