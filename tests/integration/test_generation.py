"""policy_answers and expert_critiques on the real small model: incremental, resumable, strictly parsed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from sinternal_assets.storage.warehouse import Warehouse
from tests.integration.helpers import LLM_TEACHER, run

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = "safety_spec,prompt_sources,prompt_pool,attacked_prompts,base_model,reference_answers"
SMALL_SOURCES = {"ops": {"prompt_sources": {"config": {"max_per_source": 20}}}}


def policy_config(max_prompts, chunk_size=8, tokens=12):
    return {
        "ops": {
            "policy_answers": {
                "config": {
                    "max_prompts": max_prompts,
                    "chunk_size": chunk_size,
                    "sampling": {"n": 2, "max_new_tokens": tokens, "temperature": 0.7},
                }
            }
        }
    }


@pytest.fixture(scope="module")
def upstream_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("gen") / "warehouse.duckdb"
    assert run(db, selection=UPSTREAM, run_config=SMALL_SOURCES).success
    return db


def metadata(result, asset):
    return result.asset_materializations_for_node(asset)[0].metadata


def test_answers_then_critiques_then_incremental_rerun(upstream_db, tmp_path):
    db = tmp_path / "w.duckdb"
    db.write_bytes(upstream_db.read_bytes())
    config = policy_config(2)
    config["ops"]["expert_critiques"] = {
        "config": {
            "max_attempts": 2,
            "max_reference_answers": 2,
            "sampling": {"temperature": 0.0, "max_new_tokens": 24, "n": 1},
        }
    }
    result = run(db, selection="policy_answers,expert_critiques", run_config=config, extra_resources=LLM_TEACHER)
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert {e.asset_key.to_user_string() for e in checks} == {"policy_answers", "expert_critiques"}
    assert len(checks) >= 13 and all(e.passed for e in checks)
    wh = Warehouse(db)
    answers = wh.table("policy_answers")
    assert answers.height == 4 and answers["answer_id"].n_unique() == 4  # 2 prompts x 2 samples
    assert set(answers["finish_reason"]) <= {"stop", "length"}
    assert (answers["completion_tokens"] > 0).all() and (answers["prompt_tokens"] > 0).all()
    assert (answers["reasoning"] == "").all()  # SmolLM2 does not reason: empty reasoning, answer kept whole
    all_critiques = wh.table("expert_critiques")
    reference = all_critiques.filter(pl.col("answer_source") == "reference")
    assert reference.height == 2 and reference["reference_verdict"].is_in(["SAFE", "UNSAFE"]).all()
    for row in reference.iter_rows(named=True):  # agreement is stored exactly when the verdict parsed
        expected = (row["verdict"] == row["reference_verdict"]) if row["parse_ok"] else None
        assert row["agrees_with_reference"] == expected
    critiques = all_critiques.filter(pl.col("answer_source") == "policy")
    assert critiques["reference_verdict"].is_null().all() and critiques["agrees_with_reference"].is_null().all()
    assert critiques.height == answers.filter(pl.col("final_answer").str.strip_chars() != "").height
    assert set(critiques["target"]) == {"final_answer"}
    parsed = critiques.filter(pl.col("parse_ok"))
    assert parsed["verdict"].is_in(["SAFE", "UNSAFE"]).all()
    scored = all_critiques.filter(pl.col("parse_ok"))  # the transformers teacher scores every parsed verdict
    assert scored["verdict_score"].is_not_null().all() and scored["verdict_score"].is_between(0.0, 1.0).all()
    assert all_critiques.filter(~pl.col("parse_ok"))["verdict_score"].is_null().all()
    unparsed = critiques.filter(~pl.col("parse_ok"))
    assert unparsed["verdict"].is_null().all() and (unparsed["attempts"] == 2).all()
    assert (unparsed["raw_text"].str.len_chars() > 0).all() and (unparsed["parse_reason"] != "").all()

    again = run(db, selection="policy_answers,expert_critiques", run_config=config, extra_resources=LLM_TEACHER)
    assert metadata(again, "policy_answers")["generated"].value == 0
    assert metadata(again, "expert_critiques")["generated"].value == 0
    assert wh.table("policy_answers").sort("answer_id").equals(answers.sort("answer_id"))

    grown = run(db, selection="policy_answers", run_config=policy_config(3))
    meta = metadata(grown, "policy_answers")
    assert meta["skipped"].value == 4 and meta["generated"].value == 2
    assert wh.count("policy_answers") == 6


def test_killed_run_resumes_without_redoing_or_duplicating(upstream_db, tmp_path):
    db = tmp_path / "w.duckdb"
    db.write_bytes(upstream_db.read_bytes())
    script = (
        "import sys, json; from pathlib import Path; from tests.integration.helpers import run; "
        "run(Path(sys.argv[1]), selection='policy_answers', run_config=json.loads(sys.argv[2]))"
    )
    import json

    config = policy_config(4, chunk_size=1, tokens=24)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(db), json.dumps(config)],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        for line in proc.stdout:
            if "2/8 samples generated" in line:  # the first chunk is committed
                proc.send_signal(signal.SIGKILL)
                break
            assert time.monotonic() < deadline, "no progress line in time"
    finally:
        proc.kill()
        proc.wait()
    stored = Warehouse(db).count("policy_answers")
    assert 2 <= stored < 8
    resumed = run(db, selection="policy_answers", run_config=config)
    meta = metadata(resumed, "policy_answers")
    assert meta["skipped"].value == stored and meta["generated"].value == 8 - stored
    answers = Warehouse(db).table("policy_answers")
    assert answers.height == 8 and answers["answer_id"].n_unique() == 8
