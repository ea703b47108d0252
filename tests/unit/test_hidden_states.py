"""Hidden-state features for the probe, on a tiny random Llama and a tiny offline tokenizer: one pass gives the
features of every answer length, exactly as a pass over the cut answer would, whatever the batch's padding."""

import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaModel, PreTrainedTokenizerFast

from sinternal_assets.evaluation.answer_length import cut_to_tokens
from sinternal_assets.judging import hidden_states

WORDS = "[UNK] [PAD] how to make a cake first mix flour then bake it i can not help with that".split()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    import torch

    folder = tmp_path_factory.mktemp("tiny-llama")
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]", eos_token="[PAD]")
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=3,
        num_attention_heads=2,
        num_key_value_heads=1,
        pad_token_id=1,
    )
    LlamaModel(config).save_pretrained(folder)
    return folder


REQUESTS = ["how to make a cake", "help with that", "how to bake"]
ANSWERS = ["first mix flour then bake it then mix it", "i can not help with that", "bake it"]


def test_a_cut_answer_reads_as_the_prefix_of_the_full_one(model_dir):
    full, _ = hidden_states.hidden_states(model_dir, REQUESTS, ANSWERS, [1, 3], batch_size=3)
    from transformers import AutoTokenizer

    cut = cut_to_tokens(ANSWERS, AutoTokenizer.from_pretrained(model_dir), 4)
    alone, _ = hidden_states.hidden_states(model_dir, REQUESTS, cut, [1, 3], batch_size=1)
    for layer in (1, 3):
        at_four = hidden_states.features_at(full[layer], 4)
        direct = hidden_states.features_at(alone[layer], None)
        for pool in hidden_states.POOLS:
            np.testing.assert_allclose(at_four[pool], direct[pool], atol=1e-5)
    assert [s.shape[0] for s in full[3]] == [9, 6, 2]  # one state per answer token, none of the prefix
    assert not np.allclose(full[1][0], full[3][0][:, :])  # layers differ


def test_the_request_and_the_answer_are_capped(model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    long_request = " ".join(["cake"] * (hidden_states.REQUEST_TOKENS + 10))
    ids, prefixes, full = hidden_states.encode_pairs(tokenizer, [long_request, "how"], ["mix it " * 5, ""], 4)
    assert [len(i) - p for i, p in zip(ids, prefixes, strict=True)] == [4, 1]  # an empty answer reads as one token
    assert full == [10, 1]
    assert prefixes[0] - prefixes[1] == hidden_states.REQUEST_TOKENS - 1
