"""Labelled answers cut to the evaluated answers' token budget, with a real (tiny, offline) Hugging Face tokenizer."""

import json

import polars as pl
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from sinternal_assets.evaluation.answer_length import cut_to_tokens, eval_token_budget, with_cut_responses


@pytest.fixture(scope="module")
def tokenizer():
    words = "[UNK] how to make a cake first mix flour then bake it i can not help with that".split()
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]")


def test_an_answer_keeps_its_first_tokens_and_a_short_one_is_unchanged(tokenizer):
    long, short = "first mix flour then bake it", "i can not help"
    assert cut_to_tokens([long, short], tokenizer, 4) == ["first mix flour then", short]
    assert cut_to_tokens([long], tokenizer, 6) == [long]  # exactly the budget: the text itself, byte for byte
    with pytest.raises(ValueError, match="max_tokens must be >= 1"):
        cut_to_tokens([long], tokenizer, 0)


def test_human_labels_get_a_cut_response_and_constructed_ones_none(tokenizer):
    labels = pl.DataFrame(
        {
            "label_kind": ["human", "constructed", "human"],
            "response_text": ["first mix flour then bake it", "first mix flour then bake it", "i can not"],
        }
    )
    cut = with_cut_responses(labels, tokenizer, 2)["response_cut"].to_list()
    assert cut == ["first mix", None, "i can"]
    assert with_cut_responses(labels, tokenizer, None)["response_cut"].null_count() == 3  # no evaluated answers


def test_the_budget_is_the_largest_max_new_tokens_of_the_evaluated_answers():
    params = [json.dumps({"max_new_tokens": 32, "temperature": 0.0}), json.dumps({"max_new_tokens": 64})]
    assert eval_token_budget(params) == 64 and eval_token_budget([]) is None
