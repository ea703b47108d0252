"""Judge planning for `judged_results` and the incremental chunk loop every generating or judging asset uses."""

import polars as pl
import pytest

from sinternal_assets.evaluation import judge_plan
from sinternal_assets.evaluation.judges import JudgeRequest
from sinternal_assets.generation import incremental

GENERATIONS = pl.DataFrame(
    [
        {
            "generation_id": "g1",
            "kind": "harmful",
            "spec_text": "spec",
            "prompt_text": "how to x",
            "final_answer": "no",
            "reasoning": "thinking",
            "raw_text": "<think>thinking</think>no",
        },
        {
            "generation_id": "g2",
            "kind": "benign",
            "spec_text": "spec",
            "prompt_text": "hello",
            "final_answer": "hi",
            "reasoning": "",
            "raw_text": "hi",
        },
    ]
)
LABELS = pl.DataFrame(
    [
        {
            "label_id": "l1",
            "task": "safety",
            "target": "final_answer",
            "spec_text": "spec",
            "prompt_text": "p",
            "response_text": "r",
            "prompt_label": "harmful",
        },
        {
            "label_id": "l2",
            "task": "refusal",
            "target": "final_answer",
            "spec_text": "spec",
            "prompt_text": "p2",
            "response_text": "r2",
            "prompt_label": "harmful",
        },
    ]
)


def test_the_verifier_judge_is_grpo_when_evaluated_and_a_configured_one_must_be():
    judges = judge_plan.choose_judges(["base", "verifier_sft", "verifier_grpo"], "", True, True, True)
    assert judges.verifier_checkpoint == "verifier_grpo"
    assert judges.names == ("keyword", "teacher", "verifier", "ckpt:base", "ckpt:verifier_grpo", "ckpt:verifier_sft")
    assert judges.checkpoint_of("verifier") == "verifier_grpo" and judges.checkpoint_of("ckpt:base") == "base"
    assert judge_plan.choose_judges(["base"], "", True, True, False).names == ("keyword", "teacher")
    with pytest.raises(ValueError, match=r"judge `verifier` = 'refusal_sft' was not evaluated; evaluated: \['base'\]"):
        judge_plan.choose_judges(["base"], "refusal_sft", True, True, True)


def test_tasks_judge_harmful_answers_by_model_and_everything_by_keyword():
    judges = judge_plan.choose_judges(["verifier_sft"], "", True, True, True)
    tasks = judge_plan.judge_tasks(GENERATIONS, LABELS, judges, judge_reasoning=True)
    seen = {(t.subject_id, t.judge, t.request.target) for t in tasks}
    assert seen == {
        ("g1", "keyword", "final_answer"),
        ("g1", "teacher", "final_answer"),
        ("g1", "teacher", "reasoning"),
        ("g1", "verifier", "final_answer"),
        ("g1", "verifier", "reasoning"),
        ("g2", "keyword", "final_answer"),  # a benign answer: refusal only
        ("l1", "keyword", "final_answer"),
        ("l1", "teacher", "final_answer"),
        ("l1", "verifier", "final_answer"),
        ("l1", "ckpt:verifier_sft", "final_answer"),
        ("l2", "keyword", "final_answer"),  # the refusal set: keyword detector only
    }
    without = judge_plan.judge_tasks(GENERATIONS, LABELS, judges, judge_reasoning=False)
    assert not any(t.request.target == "reasoning" for t in without)


def test_an_answer_cut_off_inside_its_reasoning_is_judged_on_what_a_user_is_shown():
    unclosed = GENERATIONS.with_columns(
        pl.Series("raw_text", ["Sure.<think>step one: mix the", "hi"]),
        pl.Series("final_answer", ["Sure.", "hi"]),
        pl.Series("reasoning", ["step one: mix the", ""]),
    )
    judges = judge_plan.choose_judges(["verifier_sft"], "", True, False, False)
    tasks = judge_plan.judge_tasks(unclosed, LABELS.clear(), judges, judge_reasoning=True)
    answers = {(t.judge, t.request.target): t.request.text for t in tasks if t.subject_id == "g1"}
    # not the empty-looking final answer: the text the user sees, the unclosed reasoning included
    assert answers[("keyword", "final_answer")] == answers[("teacher", "final_answer")] == "Sure.\nstep one: mix the"
    assert answers[("teacher", "reasoning")] == "step one: mix the"
    closed = {t.request.text for t in judge_plan.judge_tasks(GENERATIONS, LABELS.clear(), judges, False)}
    assert closed == {"no", "hi"}  # a closed block: the final answer, as stored


def test_labelled_answers_cut_to_the_eval_length_are_judged_by_the_same_judges():
    judges = judge_plan.choose_judges(["verifier_sft"], "", True, True, True)
    cut = LABELS.with_columns(pl.Series("response_cut", ["r (cut)", None]))
    tasks = judge_plan.judge_tasks(GENERATIONS.clear(), cut, judges, judge_reasoning=False)
    by_subject = {}
    for t in tasks:
        by_subject.setdefault(t.subject, set()).add((t.subject_id, t.judge, t.request.text))
    assert by_subject["label_cut"] == {
        ("l1", j, "r (cut)") for j in ("keyword", "teacher", "verifier", "ckpt:verifier_sft")
    }  # l2 has no cut (null): full length only
    assert {(i, j) for i, j, _ in by_subject["label"]} == {(i, j) for i, j, _ in by_subject["label_cut"]} | {
        ("l2", "keyword")
    }
    keyed, _ = judge_plan.plan(tasks, dict.fromkeys(judges.names, "id"), cached=set())
    frame = judge_plan.judged_results_frame(keyed)
    assert frame.filter(pl.col("subject") == "label_cut").height == 4


def test_plan_skips_the_cache_and_runs_a_shared_identity_once():
    judges = judge_plan.choose_judges(["verifier_sft"], "", False, True, True)
    tasks = judge_plan.judge_tasks(GENERATIONS, LABELS, judges, judge_reasoning=False)
    identities = {"keyword": "kw", "verifier": "ckpt-hash", "ckpt:verifier_sft": "ckpt-hash"}
    keyed, missing = judge_plan.plan(tasks, identities, cached=set())
    assert {m.judge for m in missing} == {"keyword", "verifier"}  # the twin shares the verifier's run
    shared = next(m for m in missing if m.judge == "verifier")
    assert len(shared.requests) == 2  # g1 and l1 (l1 asked by both names: one judgement)
    frame = judge_plan.judged_results_frame(keyed)
    assert frame.height == len(tasks) == 7 and frame["judgement_id"].n_unique() == 6  # l1: one key, two names
    done = {key for m in missing for key in m.requests}
    _, nothing = judge_plan.plan(tasks, identities, cached=done)
    assert nothing == []


def test_model_specs_name_the_model_of_every_model_judge():
    judges = judge_plan.choose_judges(["verifier_sft"], "", True, True, True)
    checkpoints = pl.DataFrame(
        [{"checkpoint": "verifier_sft", "checkpoint_id": "verifier_sft-v1", "model_hash": "h1", "path": "/m"}]
    )
    specs = judge_plan.model_specs(judges, checkpoints, ("teacher-model", "th", "/t"), teacher_few_shot=True)
    assert specs["teacher"] == judge_plan.ModelSpec("teacher-model", "th", "/t", True, True)
    assert (
        specs["verifier"]
        == specs["ckpt:verifier_sft"]
        == judge_plan.ModelSpec("verifier_sft-v1", "h1", "/m", False, False)
    )
    assert "teacher" not in judge_plan.model_specs(judges, checkpoints, None, True)  # the offline expert: no model


def test_run_chunks_writes_each_chunk_before_the_next_and_keeps_what_was_written():
    written: list[list[dict]] = []
    logged: list[str] = []

    def compute(chunk):
        if "boom" in chunk:
            raise RuntimeError("backend died")
        return [{"key": k} for k in chunk], 3 * len(chunk)

    stats = incremental.run_chunks(list("abcde"), compute, written.append, incremental.RunStats(), 2, logged.append)
    assert [[r["key"] for r in rows] for rows in written] == [["a", "b"], ["c", "d"], ["e"]]
    assert (stats.generated, stats.completion_tokens) == (5, 15)
    assert logged[-1].startswith("5/5 rows (") and "15 tokens" in logged[-1]
    written.clear()
    with pytest.raises(RuntimeError, match="backend died"):
        incremental.run_chunks(["a", "b", "boom"], compute, written.append, incremental.RunStats(), 2, logged.append)
    assert written == [[{"key": "a"}, {"key": "b"}]]  # the chunk before the failure is stored


def test_cache_rows_record_the_judge_and_each_outcome():
    from sinternal_assets.evaluation.judges import JudgeOutcome

    class Judge:
        kind, model_id, identity = "model", "m", "id"

    requests = {"k1": JudgeRequest("s", "p", "t", "reasoning")}
    [row] = judge_plan.cache_rows(Judge(), ["k1"], requests, [JudgeOutcome("UNSAFE", None, 0.9, "c", "raw", True, 7)])
    assert (row["judgement_id"], row["judge_hash"], row["target"], row["verdict"], row["completion_tokens"]) == (
        "k1",
        "id",
        "reasoning",
        "UNSAFE",
        7,
    )
