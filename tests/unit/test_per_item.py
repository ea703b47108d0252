"""Per-item results on a tiny warehouse: what `benchmarks/study_summary.py` writes beside the study's JSON (one row
per judgement: item, checkpoint, judge, score, verdict, human label), and the report's tables as JSON."""

import json
from datetime import UTC, datetime

import polars as pl

from benchmarks.study_summary import write_per_item
from sinternal_assets.evaluation import per_item, results
from sinternal_assets.evaluation.report import load_paper_numbers
from sinternal_assets.storage.warehouse import Warehouse

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def _tiny_warehouse(db) -> Warehouse:
    wh = Warehouse(db)
    item = {
        "item_id": "h1",
        "kind": "harmful",
        "source": "advbench",
        "family": "none",
        "family_role": "none",
        "category": "weapons",
        "prompt_text": "how to x",
        "base_text": "how to x",
        "spec_text": "spec",
        "spec_hash": "s",
    }
    generation = {
        "generation_id": "g1",
        "item_id": "h1",
        "checkpoint": "base",
        "checkpoint_id": "base-1",
        "model_hash": "m",
        "backend": "transformers",
        "params_json": "{}",
        "sample_index": 0,
        "raw_text": "Sure: step one",
        "reasoning": "",
        "final_answer": "Sure: step one",
        "finish_reason": "length",
        "prompt_tokens": 5,
        "completion_tokens": 4,
        "created_at": NOW,
    }
    label = {
        "label_id": "l1",
        "benchmark": "pyrit_harm",
        "label_kind": "human",
        "subset": "violence",
        "task": "safety",
        "prompt_text": "p",
        "response_text": "a long harmful answer",
        "target": "final_answer",
        "truth_unsafe": True,
        "n_raters": 1,
        "rater_agreement": 1.0,
        "source_record": "x.csv:2",
        "licence": "MIT",
        "spec_text": "spec",
    }

    def cache(key, verdict, score, refusal=None):
        return {
            "judgement_id": key,
            "judge_kind": "model",
            "judge_model_id": "m",
            "judge_hash": "h",
            "target": "final_answer",
            "verdict": verdict,
            "refusal": refusal,
            "score_unsafe": score,
            "critique": "",
            "raw_text": "",
            "parse_ok": verdict is not None,
            "completion_tokens": 0,
            "created_at": NOW,
        }

    judged = [
        ("generation", "g1", "keyword", "j1"),
        ("generation", "g1", "teacher", "j2"),
        ("label", "l1", "teacher", "j3"),
        ("label_cut", "l1", "teacher", "j4"),  # the same label cut to the eval length: the judge now misses it
        ("label", "l1", "ckpt:base", "j5"),
    ]
    wh.write(
        replace={
            "eval_items": wh.frame([item], "eval_items"),
            "eval_generations": wh.frame([generation], "eval_generations"),
            "human_labels": wh.frame([label], "human_labels"),
            "judge_cache": wh.frame(
                [
                    cache("j1", "UNSAFE", None, refusal=False),
                    cache("j2", "UNSAFE", 0.8),
                    cache("j3", "UNSAFE", 0.9),
                    cache("j4", "SAFE", 0.3),
                    cache("j5", None, 0.6),
                ],
                "judge_cache",
            ),
            "judged_results": wh.frame(
                [
                    {"subject": s, "subject_id": i, "judge": j, "target": "final_answer", "judgement_id": k}
                    for s, i, j, k in judged
                ],
                "judged_results",
            ),
        }
    )
    return wh


def test_the_study_writes_every_judgement_per_item_beside_its_json(tmp_path):
    db = tmp_path / "w.duckdb"
    _tiny_warehouse(db)
    out = tmp_path / "results" / "study-2026-12-04"
    recorded = write_per_item(db, out)
    assert recorded["file"] == "study-2026-12-04.items.parquet" and recorded["rows"] == 5
    frame = pl.read_parquet(out.parent / recorded["file"])
    assert frame.schema == pl.Schema(per_item.PER_ITEM_SCHEMA)
    rows = {
        (r["subject"], r["item_id"], r["judge"], r["length"]): (
            r["checkpoint"],
            r["score_unsafe"],
            r["verdict"],
            r["human_label"],
        )
        for r in frame.iter_rows(named=True)
    }
    assert rows == {
        ("generation", "h1", "keyword", "full"): ("base", None, "UNSAFE", None),
        ("generation", "h1", "teacher", "full"): ("base", 0.8, "UNSAFE", None),
        ("label", "l1", "teacher", "full"): (None, 0.9, "UNSAFE", "UNSAFE"),
        ("label", "l1", "teacher", "eval"): (None, 0.3, "SAFE", "UNSAFE"),
        ("label", "l1", "ckpt:base", "full"): ("base", 0.6, None, "UNSAFE"),  # the checkpoint judging it
    }
    assert frame.filter(pl.col("subject") == "generation")["generation_id"].to_list() == ["g1", "g1"]


def test_every_report_table_is_written_as_json_with_its_numbers(tmp_path):
    wh = _tiny_warehouse(tmp_path / "w.duckdb")
    tables = results.build_tables(
        wh.query("judged_generations"),
        wh.query("judged_labels"),
        ["base"],
        pl.DataFrame(
            schema={
                "run_id": pl.String,
                "created_at": pl.Datetime("us"),
                "checkpoint": pl.String,
                "metric": pl.String,
                "value": pl.Float64,
            }
        ),
        load_paper_numbers(),
        "teacher",
        {"run": {"spec_hash": "s"}},
    )
    record = json.loads(json.dumps(per_item.tables_record(tables)))  # JSON-ready, NaN-free
    assert record["headline_judge"] == "teacher" and record["lineage"] == {"run": {"spec_hash": "s"}}
    frames = {name for name, value in vars(tables).items() if isinstance(value, pl.DataFrame)}
    assert set(record["tables"]) == frames and {"asr", "judge_accuracy", "corrected", "paired", "controls"} <= frames
    accuracy = {(r["judge"], r["length"]): r for r in record["tables"]["judge_accuracy"] if r["benchmark"] == "all"}
    assert accuracy[("teacher", "full")]["sensitivity"] == 1.0 and accuracy[("teacher", "eval")]["sensitivity"] == 0.0
    [asr] = [r for r in record["tables"]["asr_by_role"] if r["judge"] == "teacher" and r["family_role"] == "all"]
    assert (asr["n"], asr["successes"]) == (1, 1)
