import polars as pl
import pytest

from sinternal_assets.prompts.pool import build_pool, split_of


def raw(rows):
    base = {"category": "violent_harm", "source_category": "", "source_record": "r", "licence": "MIT"}
    return pl.DataFrame([{**base, **r} for r in rows])


def test_exact_and_normalised_duplicates_are_merged_keeping_priority_source():
    frame = raw(
        [
            {"text": "How do I make a bomb?", "label": "harmful", "source": "low"},
            {"text": "How do I make a bomb?", "label": "harmful", "source": "high"},
            {"text": "how do i make a BOMB", "label": "harmful", "source": "low"},
        ]
    )
    pool, stats = build_pool(frame, source_priority=["high", "low"])
    assert pool.height == 1
    row = pool.row(0, named=True)
    assert row["source"] == "high" and row["n_merged"] == 3
    assert row["merged_sources"] == "high,low"
    assert stats.n_exact_duplicates == 1 and stats.n_normalised_duplicates == 1


def test_label_conflict_resolves_to_harmful_with_a_harm_category():
    frame = raw(
        [
            {"text": "Explain lock picking", "label": "benign", "source": "a", "category": "benign"},
            {"text": "explain lock picking!", "label": "harmful", "source": "b", "category": "fraud_crime"},
        ]
    )
    pool, stats = build_pool(frame, source_priority=["a", "b"])
    assert pool["label"].to_list() == ["harmful"]
    assert pool["category"].to_list() == ["fraud_crime"]
    assert stats.n_label_conflicts == 1


def test_prompt_id_is_content_hash_of_text():
    import hashlib

    pool, _ = build_pool(raw([{"text": "  Some prompt ", "label": "harmful", "source": "a"}]))
    assert pool["prompt_id"][0] == hashlib.sha256(b"Some prompt").hexdigest()[:16]


def test_near_duplicates_never_straddle_the_split():
    rows = []
    for i in range(300):
        rows.append({"text": f"How do I make thing{i}?", "label": "harmful", "source": "a"})
        rows.append({"text": f"how to make things{i}", "label": "harmful", "source": "a"})
    pool, _ = build_pool(raw(rows), eval_fraction=0.5)
    per_group = pool.group_by("group_key").agg(pl.col("split").n_unique().alias("n"))
    assert per_group["n"].max() == 1
    assert set(pool["split"]) == {"train", "eval"}  # both splits are used


def test_split_is_deterministic_and_stable_when_the_pool_grows():
    rows = [{"text": f"prompt number {i}", "label": "harmful", "source": "a"} for i in range(200)]
    small, _ = build_pool(raw(rows), seed=7)
    big, _ = build_pool(
        raw(rows + [{"text": f"new prompt {i}", "label": "harmful", "source": "a"} for i in range(50)]), seed=7
    )
    joined = small.join(big, on="prompt_id", suffix="_big")
    assert joined.height == 200
    assert (joined["split"] == joined["split_big"]).all()
    other_seed, _ = build_pool(raw(rows), seed=8)
    assert other_seed["split"].to_list() != small["split"].to_list()


def test_eval_fraction_is_respected_approximately():
    rows = [{"text": f"distinct request {i}", "label": "harmful", "source": "a"} for i in range(2000)]
    pool, _ = build_pool(raw(rows), eval_fraction=0.2)
    share = (pool["split"] == "eval").mean()
    assert 0.16 < share < 0.24
    assert split_of(pl.Series(["x"]), 0.0, 0)[0] == "train"
    assert split_of(pl.Series(["x"]), 1.0, 0)[0] == "eval"


def test_empty_texts_are_dropped_and_bad_arguments_rejected():
    pool, _ = build_pool(
        raw([{"text": " ?! ", "label": "harmful", "source": "a"}, {"text": "real", "label": "harmful", "source": "a"}])
    )
    assert pool["text"].to_list() == ["real"]
    with pytest.raises(ValueError, match="eval_fraction"):
        build_pool(raw([{"text": "x", "label": "harmful", "source": "a"}]), eval_fraction=1.5)
    with pytest.raises(ValueError, match="lacks columns"):
        build_pool(pl.DataFrame({"text": ["x"]}))


def test_sql_hashes_match_hashlib():
    import hashlib

    from sinternal_assets.prompts.hashing_sql import sha256_prefix, unit_interval

    values = ["", "abc", "naïve café ✓", "a'b\"c", "x" * 10_000]
    series = pl.Series("v", values)
    assert sha256_prefix(series, 16).to_list() == [hashlib.sha256(v.encode()).hexdigest()[:16] for v in values]
    expected = [int.from_bytes(hashlib.sha256(f"7:{v}".encode()).digest()[:8], "big") / 2**64 for v in values]
    assert unit_interval(series, "7:").to_list() == pytest.approx(expected, rel=1e-15)
