import subprocess
import sys
import time

import duckdb
import polars as pl
import pytest

from sinternal_assets.storage.warehouse import Warehouse, WarehouseError, load_query


def spec_rows(n, prefix="h"):
    return pl.DataFrame(
        {
            "spec_hash": [f"{prefix}{i}" for i in range(n)],
            "category_id": ["c"] * n,
            "name": ["n"] * n,
            "definition": ["d"] * n,
        }
    )


def test_replace_is_all_or_nothing(tmp_db):
    wh = Warehouse(tmp_db)
    wh.write(replace={"spec_categories": spec_rows(3)})
    before = wh.table("spec_categories")
    bad = spec_rows(2, "x").with_columns(pl.lit(None, dtype=pl.String).alias("name"))  # violates NOT NULL
    with pytest.raises(WarehouseError, match="frame for table safety_spec has columns"):
        wh.write(
            replace={"spec_categories": spec_rows(5, "y"), "safety_spec": pl.DataFrame()},
        )
    with pytest.raises(duckdb.ConstraintException):
        wh.write(replace={"spec_categories": bad})
    assert wh.table("spec_categories").equals(before)


def test_two_tables_in_one_transaction(tmp_db):
    wh = Warehouse(tmp_db)
    wh.write(replace={"spec_categories": spec_rows(2)})
    dup = pl.concat([spec_rows(1, "z"), spec_rows(1, "z")])  # violates the primary key on insert
    with pytest.raises(duckdb.ConstraintException):
        wh.write(upsert={"spec_categories": (dup, ["spec_hash", "category_id"])})
    assert wh.count("spec_categories") == 2


def test_upsert_replaces_by_key(tmp_db):
    wh = Warehouse(tmp_db)
    wh.write(replace={"spec_categories": spec_rows(2)})
    changed = spec_rows(1).with_columns(pl.lit("new").alias("name"))
    wh.write(upsert={"spec_categories": (changed, ["spec_hash", "category_id"])})
    table = wh.table("spec_categories").sort("spec_hash")
    assert table["name"].to_list() == ["new", "n"]


def test_column_mismatch_is_reported_before_writing(tmp_db):
    wh = Warehouse(tmp_db)
    with pytest.raises(WarehouseError, match="has columns"):
        wh.write(replace={"spec_categories": pl.DataFrame({"spec_hash": ["a"]})})


def test_locked_file_is_a_clear_error(tmp_db):
    Warehouse(tmp_db).write(replace={"spec_categories": spec_rows(1)})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(60)"),
            str(tmp_db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.perf_counter()
        with pytest.raises(WarehouseError, match="locked by another process"):
            Warehouse(tmp_db).count("spec_categories")
        assert time.perf_counter() - started < 10  # no silent retry loop
    finally:
        holder.kill()
        holder.wait()  # the lock is released only once the process is gone
    assert Warehouse(tmp_db).count("spec_categories") == 1  # data intact after the lock is gone


def test_corrupt_file_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(WarehouseError, match="junk.duckdb"):
        Warehouse(path).count("prompt_pool")


def test_named_queries_load_and_unknown_names_fail():
    assert "prompt_pool" in load_query("check_prompt_pool_no_leakage")
    with pytest.raises(WarehouseError, match="not found"):
        load_query("does_not_exist")


def test_the_response_split_check_finds_a_response_on_both_sides(tmp_db):
    wh = Warehouse(tmp_db)

    def sides(rows):
        columns = ["label_id", "benchmark", "task", "label_split", "split_group", "prompt_text", "response_text"]
        return pl.DataFrame(
            [dict(zip(columns, r, strict=True)) for r in rows], schema=dict.fromkeys(columns, pl.String)
        )

    def measured(rows):
        return pl.DataFrame(
            [
                {
                    "label_id": i,
                    "benchmark": "pyrit_harm",
                    "label_kind": "human",
                    "subset": "s",
                    "task": "safety",
                    "prompt_text": p,
                    "response_text": r,
                    "target": "final_answer",
                    "prompt_label": None,
                    "truth_unsafe": True,
                    "truth_refusal": None,
                    "n_raters": 1,
                    "rater_agreement": 1.0,
                    "source_record": "x",
                    "licence": "MIT",
                    "spec_text": "spec",
                }
                for i, p, r in rows
            ]
        )

    train = ("t1", "pyrit_harm", "safety", "teacher_train", "g1", "how to pick a lock", "Sure: use a tension wrench.")
    held = ("h1", "pyrit_harm", "safety", "heldout", "g2", "how do locks get picked", "No, I won't.")
    wh.write(replace={"human_label_split": sides([train, held]), "human_labels": measured([("h1", held[5], held[6])])})
    assert wh.query("check_human_labels_response_split").is_empty()
    # the same response, up to case and punctuation, under a paraphrased held-out prompt
    twin = ("h2", "pyrit_harm", "safety", "heldout", "g3", "lock picking, how?", "SURE - use a tension wrench!")
    wh.write(
        replace={"human_label_split": sides([train, held, twin]), "human_labels": measured([("h2", twin[5], twin[6])])}
    )
    violations = wh.query("check_human_labels_response_split")
    assert violations["label_id"].to_list() == ["h2", "h2"]  # held-out label matched, and the key on both sides
