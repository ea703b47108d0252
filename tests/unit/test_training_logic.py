"""Curation filter, training formats, SOMF fusion, checkpoint versions and the launch command."""

import json
from pathlib import Path

import polars as pl
import pytest
import torch

from sinternal_assets.curation.contrastive import FilterPolicy, examples_table, select_examples
from sinternal_assets.generation.verdict import parse_verdict
from sinternal_assets.training import checkpoints as ckpt
from sinternal_assets.training import datasets, formats, fusion
from sinternal_assets.training.launch import training_command


def _candidate(cid, attack, label, verdict, source="teacher", score=0.9, role="train", split="train"):
    return {
        "critique_id": cid,
        "answer_id": f"a{cid}",
        "attack_id": attack,
        "prompt_id": f"p{attack}",
        "group_key": f"g{attack}",
        "label": label,
        "split": split,
        "category": "cybercrime" if label == "harmful" else "benign",
        "family": "none" if role == "train" else "dan",
        "family_role": role,
        "source": "advbench",
        "target": "final_answer",
        "spec_text": "SPEC",
        "prompt_text": f"prompt {attack}",
        "base_text": f"prompt {attack}",
        "reasoning": "",
        "final_answer": f"answer {cid}",
        "critique": f"critique {cid}",
        "final_verdict": verdict,
        "verdict_source": source,
        "verdict_score": score,
        "spec_hash": "h",
        "category_name": "Cybercrime and intrusion",
        "category_definition": "Malware and intrusion.",
    }


CANDIDATES = pl.DataFrame(
    [
        _candidate("c01", "A", "harmful", "SAFE", score=0.6),
        _candidate("c02", "A", "harmful", "SAFE", score=0.9),
        _candidate("c03", "A", "harmful", "UNSAFE", score=0.8),
        _candidate("c04", "A", "harmful", "UNSAFE", source="human", score=None),
        _candidate("c05", "B", "harmful", "UNSAFE"),  # one verdict only: no contrast
        _candidate("c06", "B", "harmful", "UNSAFE"),
        _candidate("c07", "C", "benign", "SAFE", score=0.7),
        _candidate("c08", "C", "benign", "SAFE", score=0.95),
        _candidate("c09", "D", "harmful", None),  # unparsed
        _candidate("c10", "D", "harmful", None, source="disputed"),
        _candidate("c11", "E", "harmful", "SAFE", role="heldout", split="eval"),
    ]
)


def test_contrastive_filter_keeps_one_safe_and_one_unsafe_per_harmful_prompt():
    result = select_examples(CANDIDATES)
    chosen = result.examples.sort("critique_id")["critique_id"].to_list()
    # A: the most confident SAFE (c02) and the human-decided UNSAFE (c04); B dropped; C: the most confident
    assert chosen == ["c02", "c04", "c08"]
    assert result.excluded == {
        "heldout_family": 1,
        "unparsed_verdict": 1,
        "disputed_no_verdict": 1,
        "harmful_single_verdict": 2,
        "not_selected": 3,
    }


def test_a_critique_that_states_the_other_verdict_is_never_a_training_target():
    corrected = CANDIDATES.with_columns(
        pl.when(pl.col("critique_id") == "c04")
        .then(pl.lit("It refuses politely.\nVERDICT: SAFE"))  # label UNSAFE
        .when(pl.col("critique_id") == "c02")
        .then(pl.lit("A clean refusal.\nVERDICT: SAFE"))  # agrees
        .otherwise(pl.col("critique"))
        .alias("critique")
    )
    result = select_examples(corrected)
    by_id = {r["critique_id"]: r for r in result.examples.iter_rows(named=True)}
    assert by_id["c04"]["critique"] == "" and result.critiques_dropped == 1  # verdict-only, counted
    assert by_id["c02"]["critique"] == "A clean refusal."  # its own verdict line goes: the target adds it once
    target = formats.verifier_example(by_id["c04"])["completion"]
    assert parse_verdict(target[-1]["content"] if isinstance(target, list) else target).verdict == "UNSAFE"
    assert "SAFE\n" not in (target[-1]["content"] if isinstance(target, list) else target)


def test_filter_is_configurable():
    result = select_examples(CANDIDATES, FilterPolicy(contrastive=False, harmful_per_verdict=2, benign_per_prompt=2))
    assert result.examples["critique_id"].sort().to_list() == ["c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08"]


def test_examples_table_lengths():
    table = examples_table(select_examples(CANDIDATES).examples)
    row = table.filter(pl.col("example_id") == "c02").row(0, named=True)
    assert row["input_chars"] == len("SPEC") + len("prompt A") + len("answer c02")
    assert row["target_chars"] == len("critique c02\nVERDICT: SAFE")


def test_verifier_example_round_trips_through_the_verdict_parser():
    row = select_examples(CANDIDATES).examples.row(0, named=True)
    example = formats.verifier_example(row)
    assert example["prompt"][0] == {"role": "system", "content": "SPEC"}
    assert "prompt A" in example["prompt"][-1]["content"] and "answer c02" in example["prompt"][-1]["content"]
    parsed = parse_verdict(example["completion"][0]["content"])
    assert (parsed.verdict, parsed.critique) == ("SAFE", "critique c02")
    assert formats.verifier_target("c", "UNSAFE", "verdict_only") == "VERDICT: UNSAFE"
    assert formats.verifier_target("c", "UNSAFE", "critique_only") == "c"
    with pytest.raises(ValueError):
        formats.verifier_target("c", "MAYBE")


def test_baseline_rows():
    candidates = CANDIDATES.with_columns(pl.col("final_answer").alias("final_answer"))
    refusal = datasets.refusal_rows(candidates)
    # harmful train prompts A, B, D (a refusal needs no verdict) -> refusals; benign C -> its own safe answer;
    # the held-out family's prompt E never enters
    assert len(refusal) == 4
    texts = [r["completion"][0]["content"] for r in refusal]
    assert sum("I can't help with that" in t for t in texts) == 3
    assert any(t.endswith("answer c07") for t in texts)
    alt = datasets.alttrain_rows(candidates, max_benign_share=0.25)  # 3 harmful -> at most 1 benign
    assert len(alt) == 4
    harmful = [r["completion"][0]["content"] for r in alt if "harmful" in r["completion"][0]["content"]]
    assert harmful and all(t.startswith('<think>The user is asking: "prompt') for t in harmful)


def test_somf_fusion_by_hand():
    aligned = {"w": torch.tensor([1.0, 1.0, 1.0, 1.0]), "b": torch.tensor([0.0, 0.0])}
    finetuned = {"w": torch.tensor([2.0, 1.5, 0.0, 1.0]), "b": torch.tensor([1.0, -1.0])}
    vector = fusion.task_vector(finetuned, aligned)
    assert torch.equal(vector["w"], torch.tensor([1.0, 0.5, -1.0, 0.0]))
    grads = {"w": torch.tensor([1.0, 4.0, 1.0, 5.0]), "b": torch.tensor([-1.0, 3.0])}
    # g * t: w -> [1, 2, -1, 0], b -> [-1, -3]; positive (harms safety): w0 = 1, w1 = 2
    masks = fusion.safety_mask(vector, grads, mask_fraction=1 / 6)  # one coordinate: the largest
    assert masks["w"].tolist() == [False, True, False, False] and not masks["b"].any()
    fused = fusion.fuse(aligned, vector, masks)
    assert fused["w"].tolist() == [2.0, 1.0, 0.0, 1.0]  # w1 stays aligned, the rest take the task vector
    assert fused["b"].tolist() == [1.0, -1.0]
    # a larger fraction never masks coordinates whose change helps safety
    masks = fusion.safety_mask(vector, grads, mask_fraction=1.0)
    assert masks["w"].tolist() == [True, True, False, False] and not masks["b"].any()
    assert fusion.mask_summary(masks)["masked_coordinates"] == 2
    with pytest.raises(ValueError):
        fusion.task_vector({"w": torch.zeros(3)}, {"w": torch.zeros(4)})


def test_checkpoint_versions_and_atomic_publish(tmp_path):
    v1 = ckpt.checkpoint_version("sft", "data1", {"lr": 1}, "base")
    assert v1 == ckpt.checkpoint_version("sft", "data1", {"lr": 1}, "base")
    assert (
        len(
            {
                v1,
                ckpt.checkpoint_version("sft", "data2", {"lr": 1}, "base"),
                ckpt.checkpoint_version("sft", "data1", {"lr": 2}, "base"),
                ckpt.checkpoint_version("sft", "data1", {"lr": 1}, "other"),
            }
        )
        == 4
    )
    partial = ckpt.work_dir(tmp_path, "verifier_sft", v1)
    (partial / "model").mkdir()
    (partial / "model" / "config.json").write_text("{}")
    final = ckpt.final_dir(tmp_path, "verifier_sft", v1)
    assert not ckpt.is_complete(final)
    published = ckpt.publish(partial, {"version": v1})
    assert published == final and ckpt.is_complete(final) and not partial.exists()
    assert ckpt.read_manifest(final) == {"version": v1}
    # a crashed run's leftover is replaced by a fresh folder
    leftover = ckpt.work_dir(tmp_path, "verifier_sft", "v2")
    (leftover / "junk").write_text("x")
    assert not (ckpt.work_dir(tmp_path, "verifier_sft", "v2") / "junk").exists()


def test_jsonl_round_trip_and_bad_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    digest = ckpt.write_jsonl([{"b": 1, "a": [1, 2]}], path)
    assert ckpt.read_jsonl(path) == [{"a": [1, 2], "b": 1}] and len(digest) == 64
    path.write_text(json.dumps({"a": 1}) + "\n{broken\n")
    with pytest.raises(ValueError, match="rows.jsonl:2"):
        ckpt.read_jsonl(path)


def test_training_command(tmp_path):
    job = tmp_path / "job.json"
    direct = ["/py", "-m", "sinternal_assets.training.run", str(job)]
    assert training_command("/py", job, use_cpu=True) == direct  # auto: one plain process runs directly
    assert training_command("/py", job, launcher="auto", mixed_precision="bf16")[2] == "accelerate.commands.launch"
    assert training_command("/py", job, num_processes=2)[2] == "accelerate.commands.launch"
    command = training_command("/py", job, launcher="accelerate", use_cpu=True)
    assert command[:3] == ["/py", "-m", "accelerate.commands.launch"]
    assert command[-3:] == ["-m", "sinternal_assets.training.run", str(job)]
    assert "--cpu" in command and "--multi_gpu" not in command
    multi = training_command("/py", job, num_processes=8)  # auto: several processes go through accelerate
    assert multi[multi.index("--num_processes") + 1] == "8" and "--multi_gpu" in multi
    assert training_command("/py", job, launcher="python") == ["/py", "-m", "sinternal_assets.training.run", str(job)]
    with pytest.raises(FileNotFoundError):
        training_command("/py", job, accelerate_config=str(tmp_path / "missing.yaml"))
    with pytest.raises(ValueError):
        training_command("/py", job, launcher="slurm")


def test_a_training_start_removes_orphaned_partial_folders_of_any_version(tmp_path):
    """A training killed after its weights landed leaves `<version>.partial/`; the next start of that asset, for
    whatever version, removes every such folder and counts it; finished checkpoints and other assets stay."""
    asset = tmp_path / "verifier_sft"
    finished = asset / "aaaa"
    (finished / "model").mkdir(parents=True)
    (finished / "model" / "config.json").write_text("{}")
    for version in ("bbbb", "cccc"):
        (asset / f"{version}.partial" / "model").mkdir(parents=True)
        (asset / f"{version}.partial" / "model" / "model.safetensors").write_bytes(b"\0" * 1000)
    other = tmp_path / "refusal_sft" / "dddd.partial"
    other.mkdir(parents=True)
    removed, freed = ckpt.remove_orphans(tmp_path, "verifier_sft")
    assert removed == ["bbbb.partial", "cccc.partial"] and freed == 2000
    assert sorted(p.name for p in asset.iterdir()) == ["aaaa"] and other.is_dir()
    assert ckpt.remove_orphans(tmp_path, "verifier_sft") == ([], 0)
    assert ckpt.remove_orphans(tmp_path, "never_trained") == ([], 0)


def test_a_cpu_job_run_without_accelerate_sees_no_gpu():
    """`accelerate launch --cpu` hides the GPUs; a CPU job that runs the entry point directly gets an empty
    CUDA_VISIBLE_DEVICES instead, and a GPU job or one under accelerate keeps the machine's."""
    from sinternal_assets.training.resources import TrainingLauncherResource

    assert TrainingLauncherResource(use_cpu=True).environment()["CUDA_VISIBLE_DEVICES"] == ""
    assert "CUDA_VISIBLE_DEVICES" not in TrainingLauncherResource(use_cpu=False).environment()
    under_accelerate = TrainingLauncherResource(use_cpu=True, launcher="accelerate")
    assert "CUDA_VISIBLE_DEVICES" not in under_accelerate.environment()
    assert under_accelerate.command(Path("job.json"))[2] == "accelerate.commands.launch"
