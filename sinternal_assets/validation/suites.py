"""The GX expectation suites of each table. Names are stable (Dagster check names); values may depend on data."""

from __future__ import annotations

from sinternal_assets.validation.gx_suites import Expectation

LABELS = ["harmful", "benign"]
SPLITS = ["train", "eval"]


def source_prompts_suite(categories: list[str], max_chars: int) -> list[Expectation]:
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        Expectation("ExpectColumnValueLengthsToBeBetween", {"column": "text", "min_value": 1, "max_value": max_chars}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "label", "value_set": LABELS}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "category", "value_set": categories}),
        Expectation("ExpectColumnValueLengthsToBeBetween", {"column": "licence", "min_value": 1}),
    ]


def prompt_pool_suite(categories: list[str], max_chars: int, min_rows: int) -> list[Expectation]:
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": min_rows}),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "prompt_id"}),
        Expectation("ExpectColumnValuesToMatchRegex", {"column": "prompt_id", "regex": r"^[0-9a-f]{16}$"}),
        Expectation("ExpectColumnValueLengthsToBeBetween", {"column": "text", "min_value": 1, "max_value": max_chars}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "label", "value_set": LABELS}),
        Expectation("ExpectColumnDistinctValuesToContainSet", {"column": "label", "value_set": LABELS}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "split", "value_set": SPLITS}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "category", "value_set": categories}),
        Expectation("ExpectColumnValueLengthsToBeBetween", {"column": "licence", "min_value": 1}),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "n_merged", "min_value": 1}),
    ]


def attacked_prompts_suite(families: list[str], categories: list[str]) -> list[Expectation]:
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "attack_id"}),
        Expectation("ExpectColumnValueLengthsToBeBetween", {"column": "text", "min_value": 1}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "family", "value_set": families}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "family_role", "value_set": ["train", "heldout"]}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "label", "value_set": LABELS}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "split", "value_set": SPLITS}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "category", "value_set": categories}),
    ]


def policy_answers_suite() -> list[Expectation]:
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "answer_id"}),
        Expectation(
            "ExpectColumnValuesToBeInSet",
            {"column": "finish_reason", "value_set": ["stop", "length", "content_filter"]},
        ),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "completion_tokens", "min_value": 0}),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "prompt_tokens", "min_value": 1}),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "sample_index", "min_value": 0}),
    ]


def expert_critiques_suite() -> list[Expectation]:
    return [
        Expectation("ExpectColumnValuesToBeUnique", {"column": "critique_id"}),
        Expectation(
            "ExpectColumnValuesToBeInSet", {"column": "verdict", "value_set": ["SAFE", "UNSAFE"]}
        ),  # nulls allowed
        Expectation("ExpectColumnValuesToBeInSet", {"column": "target", "value_set": ["final_answer", "reasoning"]}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "answer_source", "value_set": ["policy", "reference"]}),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "attempts", "min_value": 1}),
    ]


def reviewed_critiques_suite() -> list[Expectation]:
    return [
        Expectation("ExpectColumnValuesToBeUnique", {"column": "critique_id"}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "final_verdict", "value_set": ["SAFE", "UNSAFE"]}),
        Expectation(
            "ExpectColumnValuesToBeInSet",
            {"column": "verdict_source", "value_set": ["human", "disputed", "teacher", "none"]},
        ),
        Expectation(
            "ExpectColumnValuesToBeBetween", {"column": "human_agreement", "min_value": 0.5, "max_value": 1.0}
        ),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "n_annotators", "min_value": 0}),
    ]


def verification_examples_suite(max_input_chars: int, max_target_chars: int) -> list[Expectation]:
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "example_id"}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "final_verdict", "value_set": ["SAFE", "UNSAFE"]}),
        Expectation(
            "ExpectColumnValuesToBeInSet", {"column": "verdict_source", "value_set": ["human", "teacher", "reference"]}
        ),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "label", "value_set": LABELS}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "split", "value_set": SPLITS}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "family_role", "value_set": ["train"]}),
        Expectation("ExpectColumnValueLengthsToBeBetween", {"column": "final_answer", "min_value": 1}),
        Expectation(
            "ExpectColumnValuesToBeBetween", {"column": "input_chars", "min_value": 1, "max_value": max_input_chars}
        ),
        Expectation(
            "ExpectColumnValuesToBeBetween", {"column": "target_chars", "min_value": 1, "max_value": max_target_chars}
        ),
    ]


def eval_items_suite(categories: list[str]) -> list[Expectation]:
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "item_id"}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "kind", "value_set": ["harmful", "benign", "utility"]}),
        Expectation(
            "ExpectColumnValuesToBeInSet", {"column": "family_role", "value_set": ["none", "train", "heldout"]}
        ),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "category", "value_set": categories}),
        Expectation("ExpectColumnValueLengthsToBeBetween", {"column": "prompt_text", "min_value": 1}),
        Expectation("ExpectColumnValueLengthsToBeBetween", {"column": "spec_text", "min_value": 1}),
    ]


def human_labels_suite() -> list[Expectation]:
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 1}),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "label_id"}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "task", "value_set": ["safety", "refusal"]}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "label_kind", "value_set": ["human", "constructed"]}),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "target", "value_set": ["final_answer", "reasoning"]}),
        Expectation("ExpectColumnValueLengthsToBeBetween", {"column": "response_text", "min_value": 1}),
        Expectation(
            "ExpectColumnValuesToBeBetween", {"column": "rater_agreement", "min_value": 0.5, "max_value": 1.0}
        ),
        Expectation("ExpectColumnValueLengthsToBeBetween", {"column": "licence", "min_value": 1}),
    ]
