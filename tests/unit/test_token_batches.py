"""The forced-choice pass's batches (`token_batches`): in order of length, at most `max_rows` rows and at most
`max_tokens` tokens once padded to the batch's longest row."""

import pytest

from sinternal_assets.generation.backends.transformers_backend import token_batches


def padded(batch: list[int], lengths: list[int]) -> int:
    return len(batch) * max(lengths[i] for i in batch)


def test_rows_run_shortest_first_every_row_once():
    lengths = [50, 10, 40, 20, 30]
    batches = token_batches(lengths, max_rows=2, max_tokens=10_000)
    assert batches == [[1, 3], [4, 2], [0]]
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))


def test_long_rows_run_fewer_to_a_batch_and_past_the_cap_alone():
    lengths = [100] * 8 + [1000] * 4 + [5000, 3000]
    batches = token_batches(lengths, max_rows=8, max_tokens=4096)
    assert batches[0] == list(range(8))  # 8 x 100: the row cap, not the token cap
    assert [len(b) for b in batches[1:]] == [4, 1, 1]  # 4 x 1000 fit 4096; 3000 and 5000 each alone
    assert batches[-1] == [12]
    for batch in batches:
        assert len(batch) == 1 or padded(batch, lengths) <= 4096


def test_a_huge_cap_gives_fixed_batches_of_max_rows():
    lengths = list(range(1, 20))
    assert [len(b) for b in token_batches(lengths, max_rows=8, max_tokens=10**9)] == [8, 8, 3]


def test_empty_and_bad_limits():
    assert token_batches([], max_rows=8, max_tokens=4096) == []
    with pytest.raises(ValueError, match="max_rows and max_tokens must be >= 1"):
        token_batches([3], max_rows=0, max_tokens=4096)
