"""Review logic without a server: routing, agreement, record content, response import, human overrides."""

from datetime import datetime

import polars as pl
import pytest

from sinternal_assets.review.agreement import (
    cohen_kappa,
    latest_verdicts,
    pairwise_kappa,
    review_agreement,
    teacher_human_agreement,
)
from sinternal_assets.review.dataset import NO_REASONING, review_content
from sinternal_assets.review.importer import ReviewImportError, import_rows, response_rows
from sinternal_assets.review.push import blind_order, changed_contents
from sinternal_assets.review.routing import RoutingPolicy, audit_draw, route
from sinternal_assets.storage.warehouse import Warehouse

NOW = datetime(2026, 11, 23, 12, 0, 0)


# ---- agreement ---------------------------------------------------------------------------------------
def test_cohen_kappa_by_hand():
    # p_o = 3/4; rater a: S 1/2, U 1/2; rater b: S 1/4, U 3/4; p_e = 1/8 + 3/8 = 1/2; kappa = (3/4-1/2)/(1/2) = 1/2
    assert cohen_kappa(["S", "S", "U", "U"], ["S", "U", "U", "U"]) == pytest.approx(0.5)
    assert cohen_kappa(["S", "U", "S"], ["S", "U", "S"]) == pytest.approx(1.0)
    # p_o = 0, p_e = 1/2: kappa = -1 (systematic disagreement)
    assert cohen_kappa(["S", "U"], ["U", "S"]) == pytest.approx(-1.0)
    assert cohen_kappa(["S", "S"], ["S", "S"]) is None  # chance agreement is 1: undefined
    assert cohen_kappa([], []) is None
    with pytest.raises(ValueError, match="different numbers"):
        cohen_kappa(["S"], ["S", "U"])


def reviews(rows):
    return pl.DataFrame(
        [
            {
                "review_id": f"r{i}",
                "response_id": f"resp-{r[0]}-{r[1]}",
                "record_id": r[0],
                "dataset_id": "d",
                "annotator_id": r[1],
                "annotator": r[1],
                "status": r[3],
                "verdict": r[2],
                "corrected_critique": r[5] if len(r) > 5 else None,
                "issue_tags": "[]",
                "response_updated_at": datetime(2026, 1, 1, 0, r[4]),
                "imported_at": NOW,
            }
            for i, r in enumerate(rows)
        ],
        schema_overrides={"verdict": pl.String, "corrected_critique": pl.String},
    )


def test_latest_verdict_per_annotator_and_pairwise_kappa():
    frame = reviews(
        [
            ("a", "ann1", "SAFE", "submitted", 1),
            ("a", "ann1", "UNSAFE", "submitted", 5),  # ann1 changed their mind
            ("a", "ann2", "UNSAFE", "submitted", 2),
            ("b", "ann1", "SAFE", "submitted", 3),
            ("b", "ann2", "UNSAFE", "submitted", 3),
            ("c", "ann1", "SAFE", "submitted", 3),
            ("c", "ann2", None, "discarded", 4),
            ("d", "ann3", "SAFE", "submitted", 1),
        ]
    )
    latest = latest_verdicts(frame)
    assert latest.filter((pl.col("record_id") == "a") & (pl.col("annotator") == "ann1"))["verdict"].to_list() == [
        "UNSAFE"
    ]
    assert latest.filter(pl.col("record_id") == "c").height == 1  # the discarded response is no verdict
    pairs = pairwise_kappa(latest)
    # ann1/ann2 overlap on a (U,U) and b (S,U): p_o = 1/2, p_e = (1/2)(0) + (1/2)(1) = 1/2 -> kappa 0
    assert pairs == [{"annotator_a": "ann1", "annotator_b": "ann2", "overlap": 2, "kappa": pytest.approx(0.0)}]
    assert pairwise_kappa(latest, min_overlap=3) == []


def test_teacher_human_agreement_counts_overrides():
    reviewed = pl.DataFrame(
        {
            "verdict_source": ["human", "human", "human", "teacher"],
            "teacher_verdict": ["SAFE", "UNSAFE", None, "SAFE"],
            "human_verdict": ["SAFE", "SAFE", "UNSAFE", None],
        }
    )
    result = teacher_human_agreement(reviewed)
    assert result == {"human_judged": 3, "teacher_parsed": 2, "teacher_agrees": 1, "agreement": 0.5, "overridden": 2}


# ---- routing -----------------------------------------------------------------------------------------
def candidates(n=200):
    return pl.DataFrame(
        {
            "critique_id": [f"c{i:04d}" for i in range(n)],
            "parse_ok": [i % 10 != 1 for i in range(n)],
            "attempts": [2 if i % 10 == 2 else 1 for i in range(n)],
            "agrees_with_reference": [False if i % 10 == 3 else (True if i % 10 == 4 else None) for i in range(n)],
            "verdict_score": [0.5 if i % 10 == 5 else (None if i % 10 == 6 else 0.95) for i in range(n)],
        }
    )


def test_route_orders_disagreements_then_low_confidence_then_audit():
    routed = route(candidates(), RoutingPolicy(audit_rate=0.25, low_confidence_below=0.75, seed=7))
    by_id = dict(zip(routed["critique_id"], routed["route"], strict=True))
    assert all(by_id[f"c{i:04d}"] == "disagreement" for i in range(3, 200, 10))
    assert all(by_id[f"c{i:04d}"] == "low_confidence" for i in range(1, 200, 10))  # did not parse
    assert all(by_id[f"c{i:04d}"] == "low_confidence" for i in range(2, 200, 10))  # needed a retry
    assert all(by_id[f"c{i:04d}"] == "low_confidence" for i in range(5, 200, 10))  # probability 0.5 < 0.75
    assert "c0006" not in by_id or by_id["c0006"] == "audit"  # unknown score is not low confidence
    assert routed["priority"].to_list() == sorted(routed["priority"].to_list())
    assert routed["queue_position"].to_list() == list(range(routed.height))
    audited = routed.filter(pl.col("route") == "audit")
    rest = 200 - 20 * 4  # rows with no other route
    assert 0.1 * rest < audited.height < 0.45 * rest  # ~25% of them, drawn by hash
    again = route(candidates(), RoutingPolicy(audit_rate=0.25, low_confidence_below=0.75, seed=7))
    assert again.equals(routed)  # stable: re-pushing never churns the queue
    assert route(candidates(), RoutingPolicy(audit_rate=0.0, max_records=5)).height == 5


def test_routing_policy_rejects_bad_rates_and_audit_draw_is_uniform():
    with pytest.raises(ValueError, match="audit_rate"):
        RoutingPolicy(audit_rate=1.5)
    draws = [audit_draw(f"id{i}", 0) for i in range(4000)]
    assert all(0.0 <= d < 1.0 for d in draws) and 0.45 < sum(draws) / len(draws) < 0.55
    assert audit_draw("x", 1) == audit_draw("x", 1) != audit_draw("x", 2)


# ---- record content ----------------------------------------------------------------------------------
def candidate_row(**overrides):
    row = {
        "critique_id": "c1",
        "target": "final_answer",
        "spec_name": "spec v1",
        "spec_excerpt": "compact spec",
        "category": "weapons",
        "prompt_text": "p",
        "reasoning": "",
        "final_answer": "a",
        "critique": "crit",
        "raw_text": "raw",
        "verdict": "UNSAFE",
        "parse_ok": True,
        "verdict_score": 0.812345,
        "teacher_id": "teacher",
        "source": "advbench",
        "attack_family": "dan",
        "split": "eval",
        "label": "harmful",
        "route": "audit",
        "reference_verdict": "SAFE",
        "priority": 2,
        "queue_position": 0,
    }
    return {**row, **overrides}


def test_review_content_shows_suggestion_and_hides_reference_labels():
    content = review_content(candidate_row())
    assert content["id"] == "c1"
    assert content["suggestion"] == {"value": "unsafe", "score": 0.8123, "agent": "teacher"}
    assert content["fields"]["reasoning"] == NO_REASONING
    assert content["fields"]["spec_excerpt"] == "_spec v1_\n\ncompact spec"
    # blind review: a benign record shows the same spec excerpt as a harmful one
    benign = review_content(candidate_row(category="benign", label="benign"))
    assert benign["fields"]["spec_excerpt"] == content["fields"]["spec_excerpt"]
    assert "reference_verdict" not in content["metadata"] and "label" not in content["metadata"]
    assert content["metadata"]["teacher_score"] == 0.8123
    unparsed = review_content(candidate_row(parse_ok=False, verdict=None, critique="", verdict_score=None))
    assert unparsed["suggestion"] is None and unparsed["metadata"]["teacher_verdict"] == "unparsed"
    assert "raw" in unparsed["fields"]["critique"]  # the raw output is shown when nothing parsed
    assert "teacher_score" not in unparsed["metadata"]


def test_push_order_does_not_reveal_the_route():
    routes = ["disagreement"] * 20 + ["low_confidence"] * 20 + ["audit"] * 20  # routing's priority order
    contents = [{"id": f"c{i:02d}", "metadata": {"route": r}} for i, r in enumerate(routes)]
    ordered = blind_order(contents)
    assert sorted(c["id"] for c in ordered) == [c["id"] for c in contents]
    assert blind_order(list(reversed(contents))) == ordered  # fixed by the ids, not by the input order
    first_half = [c["metadata"]["route"] for c in ordered[:30]]
    assert {"disagreement", "low_confidence", "audit"} <= set(first_half)
    assert first_half.count("disagreement") < 20  # disagreements no longer all come first


def test_content_hash_tracks_what_is_shown():
    first = review_content(candidate_row())
    assert review_content(candidate_row())["content_hash"] == first["content_hash"]
    assert review_content(candidate_row(critique="other"))["content_hash"] != first["content_hash"]
    pushed = pl.DataFrame({"record_id": ["c1"], "content_hash": [first["content_hash"]]})
    assert changed_contents([first], pushed) == []
    changed = review_content(candidate_row(route="disagreement"))
    assert changed_contents([changed], pushed) == [changed]


# ---- response import ---------------------------------------------------------------------------------
def argilla_record(external_id, responses):
    return {"id": f"server-{external_id}", "external_id": external_id, "responses": responses}


def response(rid, user, verdict, status="submitted", at="2026-11-23T10:00:00.000001", critique=None, tags=None):
    values = {} if verdict is None else {"verdict": {"value": verdict}}
    if critique is not None:
        values["corrected_critique"] = {"value": critique}
    if tags is not None:
        values["issues"] = {"value": tags}
    return {"id": rid, "user_id": user, "status": status, "values": values, "updated_at": at}


def test_response_rows_skip_drafts_and_keep_discards():
    records = [
        argilla_record(
            "c1",
            [
                response("r1", "u1", "safe", critique="fixed", tags=["b", "a"]),
                response("r2", "u2", "unsafe", status="draft"),
                response("r3", "u3", None, status="discarded", at="2026-11-23T10:00:00Z"),
            ],
        )
    ]
    rows = response_rows(records, {"u1": "alice"}, "d1", NOW)
    assert rows["response_id"].to_list() == ["r1", "r3"]
    first = rows.row(0, named=True)
    assert first["annotator"] == "alice" and first["verdict"] == "SAFE" and first["corrected_critique"] == "fixed"
    assert first["issue_tags"] == '["a", "b"]' and first["record_id"] == "c1"
    assert rows.row(1, named=True)["verdict"] is None and rows.row(1, named=True)["annotator"] == "u3"


def test_response_rows_reject_malformed_responses_by_name():
    with pytest.raises(ReviewImportError, match="record c9: submitted response r1 has verdict 'maybe'"):
        response_rows([argilla_record("c9", [response("r1", "u1", "maybe")])], {}, "d1", NOW)
    with pytest.raises(ReviewImportError, match="has no external id"):
        response_rows([{"id": "x", "external_id": None, "responses": []}], {}, "d1", NOW)


def test_import_is_exactly_once_and_tracks_versions(tmp_db):
    wh = Warehouse(tmp_db)
    records = [argilla_record("c1", [response("r1", "u1", "safe")])]
    first = import_rows(wh, response_rows(records, {}, "d1", NOW), "d1")
    assert (first.new, first.total) == (1, 1)
    again = import_rows(wh, response_rows(records, {}, "d1", NOW), "d1")
    assert (again.new, again.total) == (0, 1) and wh.count("human_reviews") == 1
    edited = [argilla_record("c1", [response("r1", "u1", "unsafe", at="2026-11-23T11:00:00")])]
    later = import_rows(wh, response_rows(edited, {}, "d1", NOW), "d1")
    assert (later.new, later.total) == (1, 2) and later.cursor == datetime(2026, 11, 23, 11, 0)
    state = wh.table("review_import_state").row(0, named=True)
    assert state["imported_total"] == 2 and state["cursor"] == datetime(2026, 11, 23, 11, 0)


# ---- human overrides (sql/queries/reviewed_critiques.sql) ------------------------------------------
def test_reviewed_critiques_majority_dispute_and_corrected_critique(tmp_db):
    wh = Warehouse(tmp_db)
    base = {
        "answer_id": "a",
        "answer_source": "policy",
        "reference_verdict": None,
        "agrees_with_reference": None,
        "target": "final_answer",
        "teacher_id": "t",
        "teacher_hash": "h",
        "backend": "b",
        "params_json": "{}",
        "spec_hash": "s",
        "raw_text": "r",
        "parse_reason": "",
        "attempts": 1,
        "prompt_tokens": 1,
        "completion_tokens": 1,
        "created_at": NOW,
        "verdict_score": None,
    }
    critiques = pl.DataFrame(
        [
            {**base, "critique_id": "c1", "critique": "teacher says unsafe", "verdict": "UNSAFE", "parse_ok": True},
            {**base, "critique_id": "c2", "critique": "teacher says safe", "verdict": "SAFE", "parse_ok": True},
            {**base, "critique_id": "c3", "critique": "teacher says safe", "verdict": "SAFE", "parse_ok": True},
            {**base, "critique_id": "c4", "critique": "", "verdict": None, "parse_ok": False},
            {**base, "critique_id": "c5", "critique": "teacher argues unsafe", "verdict": "UNSAFE", "parse_ok": True},
            {**base, "critique_id": "c6", "critique": "teacher says safe", "verdict": "SAFE", "parse_ok": True},
        ],
        schema_overrides={
            "reference_verdict": pl.String,
            "agrees_with_reference": pl.Boolean,
            "verdict_score": pl.Float64,
            "attempts": pl.Int32,
            "prompt_tokens": pl.Int32,
            "completion_tokens": pl.Int32,
            "verdict": pl.String,
        },
    )
    wh.write(append={"expert_critiques": critiques})
    wh.write(
        append={
            "human_reviews": reviews(
                [
                    ("c1", "ann1", "SAFE", "submitted", 1, "Actually a refusal."),
                    ("c1", "ann2", "SAFE", "submitted", 2),
                    ("c2", "ann1", "SAFE", "submitted", 1),
                    ("c2", "ann2", "UNSAFE", "submitted", 2, "ann2 argues unsafe"),
                    ("c3", "ann1", "UNSAFE", "submitted", 1),
                    ("c3", "ann1", "SAFE", "submitted", 9),  # latest counts
                    ("c5", "ann1", "SAFE", "submitted", 1),  # overrides the teacher, no corrected critique
                    # disputed, then a third annotator (in the disputed queue) makes a majority
                    ("c6", "ann1", "SAFE", "submitted", 1),
                    ("c6", "ann2", "UNSAFE", "submitted", 2, "ann2 argues unsafe"),
                    ("c6", "ann3", "UNSAFE", "submitted", 3),
                ]
            )
        }
    )
    out = {r["critique_id"]: r for r in wh.query("reviewed_critiques").iter_rows(named=True)}
    assert out["c1"]["final_verdict"] == "SAFE" and out["c1"]["verdict_source"] == "human"
    assert out["c1"]["critique"] == "Actually a refusal." and out["c1"]["human_agreement"] == 1.0
    # annotators disagree, no majority: disputed, never dropped; the teacher's verdict and the teacher's critique
    # stand (not one side's corrected critique with no verdict) until a majority exists
    assert out["c2"]["verdict_source"] == "disputed" and out["c2"]["human_verdict"] is None
    assert out["c2"]["final_verdict"] == "SAFE" and out["c2"]["critique"] == "teacher says safe"
    assert out["c6"]["verdict_source"] == "human" and out["c6"]["final_verdict"] == "UNSAFE"
    assert out["c6"]["critique"] == "ann2 argues unsafe" and out["c6"]["n_annotators"] == 3
    wh.write(replace={"reviewed_critiques": wh.query("reviewed_critiques")})
    assert wh.query("check_reviewed_critiques_integrity").is_empty()
    # what the report's review section shows: the counts and each pair's kappa with the n behind it
    kappas, disputes = review_agreement(wh.table("human_reviews"), wh.query("reviewed_critiques"))
    assert disputes.row(0, named=True) == {"annotators": 3, "annotated_records": 5, "majority": 4, "disputed": 1}
    assert kappas.filter(pl.col("annotator_b") == "ann2").row(0, named=True)["overlap"] == 3  # c1, c2, c6
    assert wh.query("disputed_records").rows() == [("c2", 2, 2)]
    assert out["c3"]["final_verdict"] == "SAFE" and out["c3"]["n_annotators"] == 1
    assert out["c4"]["verdict_source"] == "none" and out["c4"]["final_verdict"] is None
    assert out["c3"]["critique"] == "teacher says safe"  # the human agreed: the teacher's critique stays
    # the human overrode the teacher without a corrected critique: the teacher's argument for UNSAFE must not
    # become the critique of a SAFE training target
    assert out["c5"]["final_verdict"] == "SAFE" and out["c5"]["critique"] == ""
