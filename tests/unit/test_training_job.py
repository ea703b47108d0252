"""The training job file: one typed value (`sinternal_assets.training.job.TrainingJob`) written by the checkpoint
assets and read back by the training process through the same type; a bad or missing field is an error naming
the file and the field; its parts mirror the assets' Config classes field for field."""

import dataclasses
import json
from typing import get_args

import pytest

from sinternal_assets.training.assets import (
    BaselineSFTConfig,
    DownstreamTrainSettings,
    GRPOAssetConfig,
    GRPOSettings,
    GRPOTrainSettings,
    LoraSettings,
    RewardWeights,
    SOMFConfig,
    TrainSettings,
    VerifierSFTConfig,
)
from sinternal_assets.training.job import (
    GRPOSpec,
    LoraSpec,
    Method,
    RewardWeightsSpec,
    SOMFSpec,
    TrainingJob,
    TrainSpec,
)


def _fields(spec) -> set[str]:
    return {f.name for f in dataclasses.fields(spec)}


def _job(tmp_path, method="sft", config=None, **sections) -> TrainingJob:
    """A job built as `run_training` builds it, from an asset's config."""
    config = (config or VerifierSFTConfig()).model_dump()
    return TrainingJob(
        asset=f"{method}_check",
        method=method,
        version="v1",
        start_model="/models/base",
        start_model_hash="h1",
        data_hash="d1",
        n_examples=3,
        config=config,
        train=TrainSpec(**config["train"]),
        partial_dir=str(tmp_path),
        data=str(tmp_path / "inputs" / "train.jsonl"),
        **sections,
    )


def _grpo(reward="sinternal", **overrides) -> GRPOSpec:
    settings = {**GRPOAssetConfig().grpo.model_dump(), **overrides}
    return GRPOSpec(**settings, reward=reward, verifier_model="/ckpt/verifier" if reward == "sinternal" else None)


def _somf() -> SOMFSpec:
    config = SOMFConfig()
    return SOMFSpec(mask_fraction=config.mask_fraction, scale=config.scale, keep_downstream=config.keep_downstream)


def test_the_job_parts_mirror_the_asset_configs():
    # an asset setting the job does not carry (or the reverse) would be dropped or invented between the two
    for config in (TrainSettings, GRPOTrainSettings, DownstreamTrainSettings):
        assert _fields(TrainSpec) == set(config.model_fields), config
    assert _fields(LoraSpec) == set(LoraSettings.model_fields)
    assert _fields(RewardWeightsSpec) == set(RewardWeights.model_fields)
    assert _fields(GRPOSpec) == set(GRPOSettings.model_fields) | {"reward", "verifier_model"}
    assert _fields(SOMFSpec) <= set(SOMFConfig.model_fields)


def test_every_method_has_a_trainer():
    from sinternal_assets.training.trainers import METHODS

    assert set(METHODS) == set(get_args(Method))


# each checkpoint asset's job, as its asset builds it from its default config
JOBS = {
    "verifier_sft": lambda tmp: _job(tmp, "sft", VerifierSFTConfig()),
    "refusal_sft": lambda tmp: _job(tmp, "sft", BaselineSFTConfig()),
    "verifier_grpo": lambda tmp: _job(tmp, "grpo", GRPOAssetConfig(), grpo=_grpo("sinternal")),
    "alphaalign_grpo": lambda tmp: _job(tmp, "grpo", GRPOAssetConfig(), grpo=_grpo("alphaalign", math_tasks=0)),
    "somf_fusion": lambda tmp: _job(
        tmp, "somf", SOMFConfig(), somf=_somf(), safety_data=str(tmp / "inputs" / "safety.jsonl")
    ),
}


@pytest.mark.parametrize("asset", sorted(JOBS))
def test_a_job_round_trips_through_its_file(tmp_path, asset):
    job = JOBS[asset](tmp_path)
    path = job.to_json(tmp_path / "job.json")
    back = TrainingJob.from_json(path)
    assert back == job and isinstance(back.train.lora, LoraSpec)
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["train"] == job.config["train"]  # the asset's train settings, as the trainer read them before
    assert written["config"] == back.config == job.config  # the asset's whole config, as the manifest records it


def _broken(tmp_path, edit) -> str:
    """The error reading back a job file that `edit` (a function of the written dict) spoiled."""
    data = _job(tmp_path).to_dict()
    edit(data)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError) as error:
        TrainingJob.from_json(path)
    message = str(error.value)
    assert message.startswith(f"{path}: not a valid training job: ")
    return message


def test_a_bad_job_file_names_the_file_and_the_field(tmp_path):
    assert "train.batch_size: missing" in _broken(tmp_path, lambda d: d["train"].pop("batch_size"))
    assert "train.lora.rank: unknown field" in _broken(tmp_path, lambda d: d["train"]["lora"].update(rank=8))
    message = _broken(tmp_path, lambda d: d.update(method="dpo"))
    assert "method: Input should be 'sft', 'grpo' or 'somf'" in message and "'dpo'" in message
    assert "train.max_length: " in _broken(tmp_path, lambda d: d["train"].update(max_length="long"))
    assert "method 'grpo' needs `grpo`" in _broken(tmp_path, lambda d: d.update(method="grpo"))
    assert "method 'sft' takes no `somf`" in _broken(tmp_path, lambda d: d.update(somf=dataclasses.asdict(_somf())))
    path = tmp_path / "job.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"job\.json: not a valid training job: not JSON"):
        TrainingJob.from_json(path)


def test_the_sinternal_reward_needs_its_verifier():
    settings = GRPOAssetConfig().grpo.model_dump()
    with pytest.raises(ValueError, match="reward 'sinternal' needs verifier_model"):
        GRPOSpec(**settings, reward="sinternal")
    with pytest.raises(ValueError, match="reward"):
        GRPOSpec(**settings, reward="dpo", verifier_model="/ckpt")
    assert GRPOSpec(**settings, reward="alphaalign").verifier_model is None
    with pytest.raises(ValueError, match="verifier_reward .p_safe. .* needs verifier_max_new_tokens 0, got 48"):
        GRPOSpec(**{**settings, "verifier_max_new_tokens": 48, "verifier_reward": "p_safe"}, reward="alphaalign")


def test_the_training_process_reads_its_job_through_the_type(tmp_path, monkeypatch):
    """run.py's entry point hands the method a TrainingJob read from the file, and reports a bad file by name."""
    from sinternal_assets.training import run

    seen = []
    monkeypatch.setattr(run, "run", seen.append)
    job = _job(tmp_path)
    assert run.main([str(job.to_json(tmp_path / "job.json"))]) == 0
    assert seen == [job]
    (tmp_path / "bad.json").write_text(json.dumps({**job.to_dict(), "method": "dpo"}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json: not a valid training job: method"):
        run.main([str(tmp_path / "bad.json")])
