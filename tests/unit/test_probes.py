"""Linear probes (issue 23, item 4): layer groups, the probe statistics on synthetic vectors, the probe-fit set,
the planning of hidden-state collection, and the warehouse: teacher_train items never reach a judge metric."""

from __future__ import annotations

import random
from datetime import datetime

import numpy as np
import polars as pl
import pytest

from sinternal_assets.evaluation import judge_plan, probe_data, probes, results
from sinternal_assets.evaluation.judges import JudgeOutcome, JudgeRequest, ModelJudge
from sinternal_assets.evaluation.metrics import roc_auc
from sinternal_assets.evaluation.probe_data import FeatureSet
from sinternal_assets.generation.backends.base import ChoiceScores
from sinternal_assets.generation.sampling import SamplingParams
from sinternal_assets.models.layer_groups import layer_groups
from sinternal_assets.storage.warehouse import Warehouse

DIM = 16


def _vectors(n: int, seed: int, signal: float) -> tuple[np.ndarray, np.ndarray]:
    """n labelled vectors; the label shifts the first dimensions by `signal` (0: pure noise)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2 == 0
    x = rng.normal(size=(n, DIM))
    x[:, :3] += signal * np.where(y, 1.0, -1.0)[:, None]
    return x.astype(np.float32), y


def _features(checkpoint: str, signal: float, seed: int, group: str = "middle") -> FeatureSet:
    fit_x, fit_y = _vectors(120, seed, signal)
    held_x, held_y = _vectors(80, seed + 1, signal)
    return FeatureSet(checkpoint, group, "11-20", fit_x, fit_y, [f"h{i:03d}" for i in range(80)], held_x, held_y)


# -- layer groups ------------------------------------------------------------------------------------------------


def test_layer_groups_cut_the_blocks_in_thirds_from_the_block_count():
    assert [(g.name, g.layers) for g in layer_groups(30)] == [
        ("early", "1-10"),
        ("middle", "11-20"),
        ("late", "21-30"),
    ]
    assert [g.layers for g in layer_groups(32)] == ["1-10", "11-21", "22-32"]
    assert [g.layers for g in layer_groups(3)] == ["1-1", "2-2", "3-3"]
    with pytest.raises(ValueError, match="cannot make 3 groups"):
        layer_groups(2)


# -- the probe statistics ----------------------------------------------------------------------------------------


def test_auc_equals_the_mann_whitney_auc_of_metrics_ties_included():
    rng = random.Random(3)
    scores = [rng.choice([0.1, 0.2, 0.3, 0.5, 0.9]) for _ in range(60)]
    labels = [rng.random() < 0.4 for _ in range(60)]
    assert probes.auc(scores, labels) == pytest.approx(roc_auc(scores, labels))
    assert probes.auc([0.1, 0.2], [True, True]) is None


def test_a_separable_set_gives_an_auc_near_one_with_its_interval_above_chance():
    result = probes.measure(_features("base", signal=2.0, seed=1))
    assert result.n_fit == 120 and result.n_heldout == 80
    assert result.auc > 0.95 and result.auc_ci[0] > 0.5 and result.auc_ci[0] <= result.auc <= result.auc_ci[1]
    assert result.accuracy > 0.85 and result.accuracy_ci[0] > 0.5


def test_noise_gives_an_auc_near_one_half_with_chance_inside_its_interval():
    result = probes.measure(_features("base", signal=0.0, seed=5))
    assert 0.35 < result.auc < 0.65
    assert result.auc_ci[0] < 0.5 < result.auc_ci[1]


def test_the_bootstrap_is_seeded():
    scores, labels = np.linspace(0, 1, 40), np.arange(40) % 3 == 0
    assert probes.bootstrap_auc(scores, labels, seed=7) == probes.bootstrap_auc(scores, labels, seed=7)
    assert probes.bootstrap_auc(scores, labels, seed=7) != probes.bootstrap_auc(scores, labels, seed=8)


def test_the_paired_difference_has_the_sign_of_the_better_scoring():
    y = np.arange(100) % 2 == 0
    rng = np.random.default_rng(0)
    good = y + rng.normal(scale=0.3, size=100)
    bad = rng.normal(size=100)
    better = probes.paired_auc_difference(good, bad, y)
    assert better.difference > 0.3 and better.ci_low > 0
    worse = probes.paired_auc_difference(bad, good, y)
    assert worse.difference == pytest.approx(-better.difference) and worse.ci_high < 0
    same = probes.paired_auc_difference(good, good, y)
    assert same.difference == 0 and same.ci_low == same.ci_high == 0
    with pytest.raises(ValueError, match="same items"):
        probes.paired_auc_difference(good, bad[:5], y)


def test_probe_table_pairs_each_checkpoint_against_base_on_the_same_items():
    sets = [
        _features("base", signal=0.0, seed=11),
        _features("verifier_sft", signal=2.0, seed=11),
        _features("refusal_sft", signal=0.0, seed=21),
    ]
    table = probes.probe_table(sets, resamples=500)
    rows = {r["checkpoint"]: r for r in table.iter_rows(named=True)}
    assert rows["base"]["auc_minus_base"] is None and rows["base"]["n_paired"] == 0
    trained = rows["verifier_sft"]
    assert trained["n_paired"] == 80 and trained["auc_minus_base"] > 0.3 and trained["diff_ci_low"] > 0
    assert trained["auc_minus_base"] == pytest.approx(trained["auc"] - rows["base"]["auc"])
    assert rows["refusal_sft"]["diff_ci_low"] < 0 < rows["refusal_sft"]["diff_ci_high"]
    # fewer shared items: only the items both were measured on are paired
    partial = sets[1]
    half = FeatureSet(
        "verifier_sft", "middle", "11-20", partial.fit_x, partial.fit_y, partial.heldout_ids[:40],
        partial.heldout_x[:40], partial.heldout_y[:40],
    )  # fmt: skip
    assert probes.probe_table([sets[0], half], resamples=200)["n_paired"].to_list() == [0, 40]


def test_a_fit_side_with_one_class_gives_no_probe():
    fs = _features("base", 2.0, 1)
    one_class = FeatureSet("base", "early", "1-10", fs.fit_x, np.ones(120, dtype=bool), fs.heldout_ids,
                           fs.heldout_x, fs.heldout_y)  # fmt: skip
    row = probes.probe_table([one_class]).row(0, named=True)
    assert row["n_fit"] == 120 and row["auc"] is None and row["accuracy"] is None


def test_items_with_non_finite_states_are_left_out_not_fatal():
    base, trained = _features("base", 2.0, 5), _features("verifier_sft", 2.0, 5)
    fit_x, held_x = trained.fit_x.copy(), trained.heldout_x.copy()
    fit_x[3, 0], fit_x[7, 5] = np.nan, np.inf  # a diverged checkpoint's states on 2 fit and 3 held-out items
    held_x[[0, 10, 20], 2] = np.nan
    broken = FeatureSet("verifier_sft", "middle", "11-20", fit_x, trained.fit_y, trained.heldout_ids, held_x,
                        trained.heldout_y)  # fmt: skip
    rows = {r["checkpoint"]: r for r in probes.probe_table([base, broken], resamples=200).iter_rows(named=True)}
    assert (rows["verifier_sft"]["n_fit"], rows["verifier_sft"]["n_heldout"]) == (118, 77)
    assert rows["verifier_sft"]["auc"] > 0.8 and rows["verifier_sft"]["n_paired"] == 77
    every = held_x.copy()
    every[:, 0] = np.nan
    gone = FeatureSet("verifier_sft", "middle", "11-20", fit_x, trained.fit_y, trained.heldout_ids, every,
                      trained.heldout_y)  # fmt: skip
    assert probes.probe_table([gone]).row(0, named=True)["auc"] is None


# -- the probe-fit set and the feature matrices -------------------------------------------------------------------


def test_probe_fit_set_takes_the_teacher_train_side_of_the_safety_sets_class_balanced():
    rows = []
    for i in range(40):
        rows.append(
            {
                "label_id": f"l{i:02d}",
                "benchmark": ["pyrit_harm", "pyrit_objective", "pyrit_refusal"][i % 3],
                "task": "refusal" if i % 3 == 2 else "safety",
                "prompt_text": f"p{i}",
                "response_text": "" if i == 4 else f"r{i}",
                "truth_unsafe": None if i % 3 == 2 else i % 4 == 0,
                "label_split": "heldout" if i % 5 == 0 else "teacher_train",
            }
        )
    split = pl.DataFrame(rows)
    fit = probe_data.probe_fit_set(split, ["pyrit_harm", "pyrit_objective", "pyrit_refusal"], 4, "SPEC")
    assert fit.schema == pl.Schema(probe_data.PROBE_FIT_SCHEMA)
    ids = set(fit["label_id"])
    heldout = set(split.filter(pl.col("label_split") == "heldout")["label_id"])
    assert ids and not ids & heldout and "l04" not in ids
    assert set(fit["task"]) == {"safety"} and set(fit["spec_text"]) == {"SPEC"}
    for _, part in fit.group_by("benchmark"):
        assert part.height <= 4 and part["truth_unsafe"].sum() == 2  # balanced where both classes exist
    assert probe_data.probe_fit_set(split, ["pyrit_harm"], 0, "SPEC").is_empty()


def test_feature_sets_split_fit_and_heldout_per_checkpoint_and_group():
    rows = [
        {"judge": f"ckpt:{c}", "side": side, "label_id": f"{side}{i}", "benchmark": "pyrit_harm",
         "truth_unsafe": i % 2 == 0, "layer_group": g, "layers": layers, "state": [float(i), 1.0]}
        for c in ("base", "verifier_sft")
        for g, layers in (("early", "1-10"), ("late", "21-30"))
        for side, n in (("fit", 4), ("heldout", 3))
        for i in range(n)
    ]  # fmt: skip
    sets = probe_data.feature_sets(pl.DataFrame(rows), results.CHECKPOINT_JUDGE_PREFIX)
    assert [(s.checkpoint, s.layer_group) for s in sets] == [
        ("base", "early"), ("base", "late"), ("verifier_sft", "early"), ("verifier_sft", "late"),
    ]  # fmt: skip
    first = sets[0]
    assert first.fit_x.shape == (4, 2) and first.heldout_x.shape == (3, 2)
    assert first.heldout_ids == ["heldout0", "heldout1", "heldout2"]
    assert first.fit_y.tolist() == [True, False, True, False]


# -- planning: which judgements carry states, and what a rerun owes ----------------------------------------------


def _request(text: str) -> JudgeRequest:
    return JudgeRequest("SPEC", "prompt", text, "final_answer", None)


def _labels(ids: list[str], **extra) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "label_id": i,
                "spec_text": "SPEC",
                "prompt_text": "prompt",
                "response_text": f"answer {i}",
                "target": "final_answer",
                "prompt_label": None,
                **extra,
            }
            for i in ids
        ]  # fmt: skip
    )


def test_probe_fit_tasks_go_to_the_checkpoint_verifiers_only():
    judges = judge_plan.choose_judges(["base", "verifier_sft"], "", True, True, True)
    tasks = judge_plan.probe_fit_tasks(_labels(["t1", "t2"]), judges)
    assert {(t.subject, t.subject_id, t.judge) for t in tasks} == {
        ("probe_fit", i, j) for i in ("t1", "t2") for j in ("ckpt:base", "ckpt:verifier_sft")
    }
    assert all(judge_plan.wants_states(t, judges) for t in tasks)
    label = judge_plan.Task("label", "h1", "ckpt:base", _request("x"))
    assert judge_plan.wants_states(label, judges)
    assert not judge_plan.wants_states(judge_plan.Task("label_cut", "h1", "ckpt:base", _request("x")), judges)
    assert not judge_plan.wants_states(judge_plan.Task("label", "h1", "verifier", _request("x")), judges)
    assert not judge_plan.wants_states(judge_plan.Task("label", "h1", "teacher", _request("x")), judges)


def test_a_cached_judgement_without_states_is_owed_again_for_its_states_only():
    judges = judge_plan.choose_judges(["base"], "", False, False, True)
    tasks = [judge_plan.Task("label", f"h{i}", "ckpt:base", _request(f"a{i}")) for i in range(3)]
    identities = {"ckpt:base": "id-base"}
    keys = [judgement_key for _, judgement_key in judge_plan.plan(tasks, identities, set())[0]]
    cached, stored = {keys[0], keys[1]}, {keys[0]}
    keyed, missing = judge_plan.plan(tasks, identities, cached, lambda t: judge_plan.wants_states(t, judges), stored)
    [owed] = missing
    assert set(owed.requests) == {keys[1], keys[2]}
    assert owed.uncached == {keys[2]} and owed.states == {keys[1], keys[2]}
    # without state collection only the uncached judgement is owed
    [plain] = judge_plan.plan(tasks, identities, cached)[1]
    assert set(plain.requests) == {keys[2]} and not plain.states


def test_stored_state_keys_need_every_layer_group():
    stored = pl.DataFrame(
        {
            "judgement_id": ["a", "a", "a", "b", "b"],
            "layer_group": ["early", "middle", "late", "early", "middle"],
            "layers": ["1-10", "11-20", "21-30", "1-10", "11-20"],
        }  # fmt: skip
    )
    assert judge_plan.stored_state_keys(stored) == {"a"}


class FakeStatesBackend:
    """choice_scores with hidden states, as the transformers backend returns them (no model)."""

    can_score_choices = True

    def __init__(self):
        self.calls = 0

    def layer_groups(self):
        return layer_groups(6)

    def choice_probabilities(self, items):
        return self.choice_scores(items).probabilities

    def choice_scores(self, items, groups=()):
        self.calls += 1
        probabilities = [[0.3, 0.7] if "bomb" in conv[-1]["content"] else [0.8, 0.2] for conv, _, _ in items]
        states = [{g.name: np.full(4, float(i), dtype=np.float32) for g in groups} for i in range(len(items))]
        return ChoiceScores(probabilities, states)


def test_the_forced_choice_judge_returns_states_from_the_same_pass_and_chunk_rows_write_what_is_owed():
    backend = FakeStatesBackend()
    params = SamplingParams(temperature=0.0, max_new_tokens=1, n=1, seed=0)
    judge = ModelJudge(backend, "m", "h", params, critique_tokens=0)
    assert judge.can_collect_states
    assert not ModelJudge(backend, "m", "h", params).can_collect_states  # a judge that writes a critique
    requests = [_request("build a bomb"), _request("bake bread")]
    outcomes, states = judge.judge_with_states(requests)
    assert backend.calls == 1  # one pass for verdicts and states
    assert [o.score_unsafe for o in outcomes] == [0.7, 0.2] == [o.score_unsafe for o in judge.judge(requests)]
    assert set(states[0]) == {"early", "middle", "late"}
    work = judge_plan.Missing("ckpt:base", {"k1": requests[0], "k2": requests[1]}, uncached={"k1"}, states={"k2"})
    rows = judge_plan.chunk_rows(judge, ["k1", "k2"], work, outcomes, states, backend.layer_groups())
    cache, state_rows = judge_plan.split_rows(rows)
    assert [r["judgement_id"] for r in cache] == ["k1"]  # k2 was cached: only its states are written
    assert {(r["judgement_id"], r["layer_group"], r["layers"]) for r in state_rows} == {
        ("k2", "early", "1-2"), ("k2", "middle", "3-4"), ("k2", "late", "5-6"),
    }  # fmt: skip
    assert state_rows[0]["state"] == [1.0] * 4


# -- the warehouse: teacher_train judgements never reach a judge metric ------------------------------------------


def _human_label(label_id: str, unsafe: bool) -> dict:
    return {
        "label_id": label_id, "benchmark": "pyrit_harm", "label_kind": "human", "subset": "violence",
        "task": "safety", "prompt_text": "prompt", "response_text": f"answer {label_id}", "target": "final_answer",
        "prompt_label": None, "truth_unsafe": unsafe, "truth_refusal": None, "n_raters": 1, "rater_agreement": 1.0,
        "source_record": "harm/violence.csv:2", "licence": "MIT", "spec_text": "SPEC",
    }  # fmt: skip


def _cache_row(key: str, score: float, verdict: str | None) -> dict:
    return {
        "judgement_id": key, "judge_kind": "model", "judge_model_id": "m", "judge_hash": "h",
        "target": "final_answer", "verdict": verdict, "refusal": None, "score_unsafe": score, "critique": "",
        "raw_text": "", "parse_ok": verdict is not None, "completion_tokens": 0, "created_at": datetime(2026, 1, 1),
    }  # fmt: skip


def test_teacher_train_judgements_never_enter_judge_accuracy_and_feed_the_probes(tmp_db):
    wh = Warehouse(tmp_db)
    heldout = [_human_label("h1", True), _human_label("h2", False)]
    fit = probe_data.probe_fit_set(
        pl.DataFrame(
            [{**_human_label(f"t{i}", i % 2 == 0), "label_split": "teacher_train"} for i in range(4)]
        ).drop("label_kind", "subset", "truth_refusal", "n_raters", "rater_agreement", "source_record", "licence",
               "spec_text", "target", "prompt_label"),
        ["pyrit_harm"], 10, "SPEC",
    )  # fmt: skip
    # every judge is right on the held-out items; on the probe-fit items the checkpoint is always wrong, so any
    # probe-fit judgement that leaked into a judge metric would lower its accuracy below 100%
    judged, cache, states = [], [], []
    for h in heldout:
        for judge in ("teacher", "ckpt:base"):
            key = f"{judge}-{h['label_id']}"
            judged.append({"subject": "label", "subject_id": h["label_id"], "judge": judge,
                           "target": "final_answer", "judgement_id": key})  # fmt: skip
            cache.append(_cache_row(key, 0.9 if h["truth_unsafe"] else 0.1, "UNSAFE" if h["truth_unsafe"] else "SAFE"))
    for f in fit.iter_rows(named=True):
        key = f"ckpt:base-{f['label_id']}"
        judged.append({"subject": "probe_fit", "subject_id": f["label_id"], "judge": "ckpt:base",
                       "target": "final_answer", "judgement_id": key})  # fmt: skip
        cache.append(_cache_row(key, 0.1 if f["truth_unsafe"] else 0.9, None))
    # a probe-fit judgement whose id collides with a held-out label's (label ids are content hashes): wrong on
    # purpose, so a query that read it as a label would show it
    judged.append({"subject": "probe_fit", "subject_id": "h1", "judge": "ckpt:base", "target": "final_answer",
                   "judgement_id": "collides"})  # fmt: skip
    cache.append(_cache_row("collides", 0.0, "SAFE"))
    for row in judged:
        if row["judge"] == "ckpt:base" and row["judgement_id"] != "collides":
            for g in layer_groups(30):
                states.append({"judgement_id": row["judgement_id"], "layer_group": g.name, "layers": g.layers,
                               "state": [1.0, 2.0], "created_at": datetime(2026, 1, 1)})  # fmt: skip
    wh.write(
        replace={
            "human_labels": pl.DataFrame(heldout),
            "probe_fit_labels": fit,
            "judged_results": pl.DataFrame(judged, schema=judge_plan.JUDGED_RESULTS_SCHEMA),
            "judge_cache": wh.frame(cache, "judge_cache"),
            "probe_states": pl.DataFrame(states, schema=judge_plan.PROBE_STATE_SCHEMA),
        }
    )
    labels = wh.query("judged_labels")
    assert set(labels["label_id"]) == {"h1", "h2"} and labels.height == 4  # not one teacher_train judgement
    accuracy, _ = results.judge_accuracy(labels)
    assert set(accuracy.filter(pl.col("judge") == "ckpt:base")["items"].to_list()) == {2}
    assert set(accuracy.filter(pl.col("judge") == "ckpt:base")["accuracy"].to_list()) == {1.0}
    verification, _ = results.verification(labels)
    assert set(verification["items"].to_list()) == {2} and set(verification["roc_auc"].to_list()) == {1.0}
    summary = wh.query("judged_results_summary")
    assert summary.filter(pl.col("subject") == "probe_fit")["n"].to_list() == [5]  # counted apart, by subject
    # the probes read both sides: fit rows from the probe-fit set, held-out rows from human_labels
    features = wh.query("probe_features")
    assert features.group_by("side").len().sort("side").rows() == [("fit", 12), ("heldout", 6)]
    assert set(features.filter(pl.col("side") == "heldout")["label_id"]) == {"h1", "h2"}
    assert features["state"].to_list()[0] == [1.0, 2.0]
    assert not set(features.filter(pl.col("side") == "fit")["label_id"]) & {"h1", "h2"}
    table = probes.probe_table(probe_data.feature_sets(features, results.CHECKPOINT_JUDGE_PREFIX), resamples=50)
    assert table.select("checkpoint", "layer_group", "n_fit", "n_heldout").rows() == [
        ("base", g, 4, 2) for g in ("early", "late", "middle")
    ]  # as evaluation_report builds the table from the warehouse


def test_probe_states_rows_are_keyed_so_a_duplicate_fails_the_whole_chunk(tmp_db):
    wh = Warehouse(tmp_db)
    row = {"judgement_id": "k", "layer_group": "early", "layers": "1-10", "state": [0.5],
           "created_at": datetime(2026, 1, 1)}  # fmt: skip
    wh.write(append={"probe_states": pl.DataFrame([row], schema=judge_plan.PROBE_STATE_SCHEMA)})
    cache = wh.frame([_cache_row("new", 0.5, None)], "judge_cache")
    with pytest.raises(Exception, match="(?i)constraint|duplicate"):
        wh.write(
            append={"judge_cache": cache, "probe_states": pl.DataFrame([row], schema=judge_plan.PROBE_STATE_SCHEMA)}
        )
    assert wh.count("judge_cache") == 0  # nothing half-written
    assert judge_plan.stored_state_keys(wh.query("probe_state_ids"), ["early"]) == {"k"}


def test_outcome_type_is_unchanged_for_existing_callers():
    backend = FakeStatesBackend()
    outcomes = ModelJudge(backend, "m", "h", SamplingParams(temperature=0.0, max_new_tokens=1, n=1, seed=0),
                          critique_tokens=0).judge([_request("x")])  # fmt: skip
    assert isinstance(outcomes[0], JudgeOutcome) and backend.choice_probabilities([]) == []


def test_the_split_check_flags_a_probe_fit_item_off_the_teacher_train_side(tmp_db):
    wh = Warehouse(tmp_db)
    columns = ["label_id", "benchmark", "task", "label_split", "split_group", "prompt_text", "response_text"]
    sides = pl.DataFrame(
        [
            dict(zip(columns, ("t1", "pyrit_harm", "safety", "teacher_train", "g1", "p1", "r1"), strict=True)),
            dict(zip(columns, ("h1", "pyrit_harm", "safety", "heldout", "g2", "p2", "r2"), strict=True)),
        ],
        schema=dict.fromkeys(columns, pl.String),
    )

    def fit(ids):
        return pl.DataFrame(
            [{"label_id": i, "benchmark": "pyrit_harm", "task": "safety", "prompt_text": "p", "response_text": "r",
              "target": "final_answer", "prompt_label": None, "truth_unsafe": True, "spec_text": "S"} for i in ids],
            schema=probe_data.PROBE_FIT_SCHEMA,
        )  # fmt: skip

    wh.write(replace={"human_label_split": sides, "probe_fit_labels": fit(["t1"])})
    assert wh.query("check_human_labels_response_split").is_empty()
    wh.write(replace={"probe_fit_labels": fit(["t1", "h1", "unknown"])})
    violations = wh.query("check_human_labels_response_split")
    assert sorted(violations["label_id"].to_list()) == ["h1", "unknown"]
    assert set(violations["detail"]) == {"probe-fit item not on the teacher_train side of the split"}


def test_the_probes_reach_the_tables_json_and_the_study_record_per_checkpoint():
    import json

    from benchmarks.study_summary import probes_by_checkpoint, probes_markdown
    from sinternal_assets.evaluation.per_item import tables_record
    from tests.unit.test_report import make_tables

    record = json.loads(json.dumps(tables_record(make_tables())))  # as the report's .tables.json holds it
    assert len(record["tables"]["probes"]) == 6
    summary = probes_by_checkpoint(record)
    assert set(summary) == {"base", "verifier_sft"}
    trained = summary["verifier_sft"]
    assert set(trained["groups"]) == {"early", "middle", "late"}
    assert trained["best"]["layer_group"] == "middle" and trained["best"]["auc"] == pytest.approx(0.83)
    for key in ("auc", "ci_low", "ci_high", "accuracy", "n_fit", "n_heldout"):
        assert trained["best"][key] is not None
    assert summary["base"]["groups"]["late"]["auc_minus_base"] is None
    assert probes_by_checkpoint(None) == {} and "no probes" in probes_markdown({})
    assert "middle (11-20)" in probes_markdown(summary)


def test_a_rerun_owes_nothing_and_a_cached_judgement_without_states_gets_only_its_states(tmp_db):
    """The judged_results loop on a real warehouse (the asset's wiring: plan, owed keys, chunks, one transaction
    per chunk), with a fake backend: held-out labels and probe-fit items get verdicts and states in one pass."""
    wh = Warehouse(tmp_db)
    backend = FakeStatesBackend()
    judge = ModelJudge(backend, "m", "h", SamplingParams(temperature=0.0, max_new_tokens=1, n=1, seed=0),
                       critique_tokens=0)  # fmt: skip
    judges = judge_plan.choose_judges(["base"], "", False, False, True)
    labels = _labels(["h1", "h2"], task="safety")
    tasks = judge_plan.judge_tasks(pl.DataFrame(schema={"generation_id": pl.String}), labels, judges, False)
    tasks = [t for t in tasks if t.judge != "keyword"]  # the keyword judge has no model: not this test's business
    tasks += judge_plan.probe_fit_tasks(_labels(["t1", "t2", "t3"]), judges)
    identities = {"ckpt:base": judge.identity}

    def run() -> int:
        _, missing = judge_plan.plan(
            tasks,
            identities,
            set(wh.query("judge_cache_ids")["judgement_id"].to_list()),
            lambda task: judge_plan.wants_states(task, judges),
            judge_plan.stored_state_keys(wh.query("probe_state_ids")),
        )
        done = 0
        for work in missing:
            keys, groups = judge_plan.owed_keys(judge, work)
            for start in range(0, len(keys), 2):
                rows, _ = judge_plan.judge_chunk(judge, work, keys[start : start + 2], groups)
                cache, states = judge_plan.split_rows(rows)
                wh.write(  # as judged_results writes a chunk
                    append={"judge_cache": wh.frame(cache, "judge_cache")},
                    upsert={
                        "probe_states": (
                            pl.DataFrame(states, schema=judge_plan.PROBE_STATE_SCHEMA),
                            list(judge_plan.PROBE_STATE_KEY),
                        )
                    },
                )
                done += len(rows)
        return done

    assert run() == 5 and wh.count("judge_cache") == 5 and wh.count("probe_states") == 5 * 3
    calls = backend.calls
    assert run() == 0 and backend.calls == calls  # nothing owed: no forward pass
    first = wh.sql("SELECT min(judgement_id) AS k FROM judge_cache")["k"][0]
    wh.sql("DELETE FROM probe_states WHERE layer_group = 'late' AND judgement_id = $k", k=first)
    assert run() == 1 and wh.count("judge_cache") == 5 and wh.count("probe_states") == 15  # states only, complete
