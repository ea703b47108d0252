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


def file_hash(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_schema_statements_run_only_when_the_schema_is_missing_or_older(tmp_db):
    from sinternal_assets.storage.warehouse import code_schema_version

    wh = Warehouse(tmp_db)
    wh.write(replace={"spec_categories": spec_rows(2)})
    assert wh.sql(load_query("schema_version"))["version"].to_list() == [code_schema_version()]
    before = file_hash(tmp_db)
    with wh.connect() as conn:
        assert wh.ensure_schema(conn) is False  # up to date: nothing runs
    assert wh.count("spec_categories") == 2 and wh.table("safety_spec").height == 0
    assert file_hash(tmp_db) == before  # reading through a writer's connection wrote nothing
    # An older schema (a version the code does not have, a table it lacks): the next writer brings it up to date.
    with duckdb.connect(str(tmp_db)) as conn:
        conn.execute("DROP TABLE review_pushes")
        conn.execute("UPDATE schema_version SET version = 'older'")
    assert wh.count("review_pushes") == 0
    assert wh.sql(load_query("schema_version"))["version"].to_list() == [code_schema_version()]
    assert wh.count("spec_categories") == 2


def test_a_reader_opens_read_only_and_runs_no_schema_statement(tmp_db):
    Warehouse(tmp_db).write(replace={"spec_categories": spec_rows(1)})
    with duckdb.connect(str(tmp_db)) as conn:
        conn.execute("UPDATE schema_version SET version = 'older'")
    before = file_hash(tmp_db)
    reader = Warehouse(tmp_db).reader()
    assert reader.count("spec_categories") == 1
    with pytest.raises(duckdb.Error):  # a read-only connection refuses writes
        with reader.connect() as conn:
            conn.execute("DELETE FROM spec_categories")
    assert file_hash(tmp_db) == before
    # two readers at once share the file
    with reader.connect() as first, reader.connect() as second:
        assert first.execute("SELECT 1").fetchone() == second.execute("SELECT 1").fetchone()


def _hold_lock(path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
                "time.sleep(float(sys.argv[2])); c.close(); print('released', flush=True); time.sleep(60)"
            ),
            str(path),
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_writer_waits_for_the_lock_up_to_its_limit_and_says_so(tmp_db):
    Warehouse(tmp_db).write(replace={"spec_categories": spec_rows(1)})
    holder = _hold_lock(tmp_db, 3)  # a short read elsewhere: it lets go after 3 s
    messages: list[str] = []
    try:
        wh = Warehouse(tmp_db, lock_wait_s=120, log=messages.append)
        wh.write(replace={"spec_categories": spec_rows(2)})
    finally:
        holder.kill()
        holder.wait()
    assert Warehouse(tmp_db).count("spec_categories") == 2
    assert "is locked by another process: waiting up to 120 s" in messages[0]
    assert "got the lock after" in messages[-1]


def test_a_writer_that_waited_its_limit_fails_with_the_lock_message(tmp_db):
    Warehouse(tmp_db).write(replace={"spec_categories": spec_rows(1)})
    holder = _hold_lock(tmp_db, 60)
    messages: list[str] = []
    try:
        with pytest.raises(WarehouseError, match=r"locked by another process .*waited 1 s of the 1 s allowed"):
            Warehouse(tmp_db, lock_wait_s=1, log=messages.append).count("spec_categories")
    finally:
        holder.kill()
        holder.wait()
    assert messages and "waiting up to 1 s" in messages[0]


def _damaged_warehouse(path):
    """A real warehouse with a table larger than one block, then 256 KiB in its middle overwritten: the file
    opens (the catalog is intact) and the first read of the table fails its checksum."""
    wh = Warehouse(path)
    with wh.connect() as conn:
        conn.execute("CREATE TABLE big AS SELECT range AS i, repeat('x', 300) || range AS s FROM range(300000)")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + (256 << 10)] = b"\xab" * (256 << 10)
    path.write_bytes(bytes(data))


def test_a_damaged_warehouse_is_named_and_never_written(tmp_db):
    _damaged_warehouse(tmp_db)
    before = file_hash(tmp_db)
    for _attempt in range(2):
        with pytest.raises(WarehouseError) as error:
            Warehouse(tmp_db).sql("SELECT max(s) FROM big")
        message = str(error.value)
        assert str(tmp_db) in message and "damaged or unreadable" in message
        assert "Move it aside" in message and "restore a backup" in message and "re-materialize" in message
        assert file_hash(tmp_db) == before  # not written by the failed attempt


def test_a_warehouse_cut_in_half_is_named_and_left_as_it_was(tmp_db):
    Warehouse(tmp_db).write(replace={"spec_categories": spec_rows(2000)})
    tmp_db.write_bytes(tmp_db.read_bytes()[: tmp_db.stat().st_size // 2])
    before = file_hash(tmp_db)
    for warehouse in (Warehouse(tmp_db), Warehouse(tmp_db).reader()):
        with pytest.raises(WarehouseError) as error:
            warehouse.count("spec_categories")
        assert str(tmp_db) in str(error.value) and "Move it aside" in str(error.value)
    assert file_hash(tmp_db) == before


def test_a_full_disk_says_so_first(tmp_path):
    """A real write refused by the kernel (a per-file size limit in a child process: EFBIG, as a full disk is
    ENOSPC) is a WarehouseError that names the file and says the disk is full, not DuckDB's rollback error."""
    db = tmp_path / "w.duckdb"
    Warehouse(db).write(replace={"spec_categories": spec_rows(1)})
    script = (
        "import resource, signal, sys, polars as pl\n"
        "from sinternal_assets.storage.warehouse import Warehouse\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "wh = Warehouse(sys.argv[1])\n"
        "rows = pl.DataFrame({'spec_hash': [f'h{i}' for i in range(300000)], 'category_id': ['c'] * 300000,\n"
        "                     'name': ['n' * 100] * 300000, 'definition': ['d' * 100] * 300000})\n"
        "limit = wh.path.stat().st_size + (1 << 20)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))\n"
        "try:\n"
        "    wh.write(replace={'spec_categories': rows})\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    from tests.services import ROOT

    done = subprocess.run(
        [sys.executable, "-c", script, str(db)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.stdout.startswith("WarehouseError"), done.stdout + done.stderr
    assert f"the disk holding warehouse {db} is full" in done.stdout and "nothing of it was written" in done.stdout
    assert Warehouse(db).count("spec_categories") == 1  # the failed transaction left the old rows


def test_a_data_folder_that_is_a_file_is_named(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    for warehouse in (Warehouse(blocker / "w.duckdb"), Warehouse(blocker / "sub" / "w.duckdb").reader()):
        with pytest.raises(WarehouseError, match=f"{blocker} is a file, not a folder"):
            warehouse.count("spec_categories")
    assert blocker.read_text() == "not a folder"
