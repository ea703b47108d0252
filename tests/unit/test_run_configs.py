"""Run configurations live in YAML files (`dagster_project/run_configs/<name>.yaml`): each validates against every
asset's config schema, its `budgets` give every method the same training budget, and a typo in it (a key, an
asset name, a budget, an enum-like value) is an error that names the file. Enum-like config fields are `Literal`
types: Dagster rejects a value outside them before a step runs, naming the field and the choices."""

import pytest
import yaml
from dagster import (
    AssetSelection,
    DagsterInvalidConfigError,
    Definitions,
    define_asset_job,
    materialize,
    validate_run_config,
)

from dagster_project import profiles
from dagster_project.budgets import GRPO_ASSETS, SFT_ASSETS
from dagster_project.definitions import ASSETS, build_definitions, check_run_config
from dagster_project.jobs import RUN_CONFIG_DIR, load_run_config, run_config_path
from dagster_project.resources import GenerationResource, TrainingLauncherResource, default_resources

GPU_ENV = {"SINTERNAL_PROFILE": "gpu", "SINTERNAL_EXECUTOR": "multiprocess"}
PROFILE_ENVS = {"local": {}, "gpu": GPU_ENV}


def _within(small, big) -> bool:
    """Every setting of `small` is in `big` with the same value (nested mappings compared key by key)."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and _within(v, big[k]) for k, v in small.items())
    return small == big


def test_each_profile_reads_its_yaml_file():
    assert sorted(p.stem for p in RUN_CONFIG_DIR.glob("*.yaml")) == ["embedded", "gpu", "study"]
    for name, env in PROFILE_ENVS.items():
        profile = profiles.load_profile(env)
        assert profile.run_config_file == str(profiles.RUN_CONFIG_FILES[name])
        assert profile.run_config == load_run_config(profiles.RUN_CONFIG_FILES[name].stem)


@pytest.mark.parametrize("name", ["embedded", "gpu", "study"])
def test_each_run_config_fits_every_assets_config_schema(name):
    run_config = load_run_config(name)
    resolved = check_run_config(run_config, str(run_config_path(name)), default_resources())
    assert _within(run_config, resolved)  # each setting reaches its asset's config as written


@pytest.mark.parametrize("profile_name", sorted(PROFILE_ENVS))
def test_the_jobs_of_each_profile_validate_with_its_run_config(profile_name):
    profile = profiles.load_profile(PROFILE_ENVS[profile_name])
    defs = build_definitions(profile)
    assert validate_run_config(defs.resolve_job_def("embedded_default"), {})  # its own (embedded) run config
    for study in ("study", "study_extra"):  # the study's two configurations, each with study.yaml's settings
        assert validate_run_config(defs.resolve_job_def(study), {})
    assert check_run_config(profile.run_config, "profile", profile.resources)  # every asset's config schema
    resolved = validate_run_config(defs.resolve_job_def("retraining"), {})
    assert resolved["ops"]["verifier_sft"]["config"]["train"]["max_steps"] == (2 if profile_name == "local" else 1000)


@pytest.mark.parametrize("name", ["embedded", "gpu", "study"])
def test_budgets_expand_to_every_method(name):
    raw = yaml.safe_load(run_config_path(name).read_text(encoding="utf-8"))
    ops = load_run_config(name)["ops"]
    for asset in SFT_ASSETS:
        assert ops[asset]["config"]["train"].items() >= raw["budgets"]["sft"].items(), asset
    for asset in GRPO_ASSETS:
        assert ops[asset]["config"]["grpo"].items() >= raw["budgets"]["grpo"].items(), asset
        assert ops[asset]["config"]["train"]["max_steps"] == raw["budgets"]["grpo_steps"], asset


# -- typos name the file -----------------------------------------------------------------------------------------


def _variant(tmp_path, edit, name="embedded"):
    """A copy of run_configs/<name>.yaml in tmp_path, edited by `edit` (a function of the parsed YAML)."""
    data = yaml.safe_load(run_config_path(name).read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _load_error(tmp_path, edit) -> str:
    path = _variant(tmp_path, edit)
    with pytest.raises(ValueError) as error:
        load_run_config("embedded", tmp_path)
    assert str(error.value).startswith(f"{path}: "), error.value
    return str(error.value)


def _schema_error(tmp_path, edit, name="embedded") -> str:
    path = _variant(tmp_path, edit, name)
    run_config = load_run_config(name, tmp_path)
    with pytest.raises(ValueError) as error:
        check_run_config(run_config, str(path), default_resources())
    assert str(error.value).startswith(f"{path}: the run configuration does not fit the assets' config"), error.value
    return str(error.value)


def test_a_typo_in_the_files_layout_names_the_file(tmp_path):
    assert "unknown key(s) budget (expected: ops, budgets)" in _load_error(
        tmp_path, lambda d: d.update(budget=d.pop("budgets"))
    )
    assert "unknown key(s) budgets.grpo_step" in _load_error(
        tmp_path, lambda d: d["budgets"].update(grpo_step=d["budgets"].pop("grpo_steps"))
    )
    assert "budgets: not budget settings: ['max_step']" in _load_error(
        tmp_path, lambda d: d["budgets"]["sft"].update(max_step=d["budgets"]["sft"].pop("max_steps"))
    )
    assert "no `budgets` mapping" in _load_error(tmp_path, lambda d: d.pop("budgets"))
    # a budget setting given to one method directly would undo the matched budget
    message = _load_error(tmp_path, lambda d: d["ops"].update(refusal_sft={"config": {"train": {"max_steps": 30}}}))
    assert "refusal_sft.config.train.max_steps" in message and "set them under `budgets`" in message
    (tmp_path / "embedded.yaml").write_text("ops: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"embedded\.yaml: not valid YAML"):
        load_run_config("embedded", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no run configuration 'laptop'.*known: embedded"):
        load_run_config("laptop", tmp_path)


def test_a_typo_in_an_assets_config_names_the_file_and_the_key(tmp_path):
    message = _schema_error(tmp_path, lambda d: d["ops"]["eval_set"]["config"].update(harmful_per_famly=3), name="gpu")
    assert 'unexpected config entry "harmful_per_famly" at path root:ops:eval_set:config' in message
    message = _schema_error(tmp_path, lambda d: d["ops"].update(eval_sett=d["ops"].pop("eval_set")))
    assert 'unexpected config entry "eval_sett" at path root:ops' in message
    message = _schema_error(tmp_path, lambda d: d["budgets"]["sft"].update(max_length="long"))
    assert "root:ops:verifier_sft:config:train:max_length" in message


def test_a_bad_run_config_file_fails_the_code_location_load_naming_it(tmp_path):
    path = _variant(tmp_path, lambda d: d["ops"]["judged_results"]["config"].update(max_new_token=8), "gpu")
    profile = profiles.load_profile(GPU_ENV)
    broken = profiles.Profile(
        profile.name, profile.executor, profile.resources, load_run_config("gpu", tmp_path), str(path)
    )
    with pytest.raises(ValueError, match=rf"{path}: the run configuration does not fit(.|\n)*max_new_token"):
        build_definitions(broken)


# -- Literal config fields ---------------------------------------------------------------------------------------


def test_an_enum_like_asset_setting_outside_its_choices_names_the_field_and_the_choices(tmp_path):
    message = _schema_error(tmp_path, lambda d: d["ops"].update(verifier_sft={"config": {"mode": "verdict_olny"}}))
    assert "root:ops:verifier_sft:config:mode not in enum type" in message
    assert "'critique_and_verdict', 'verdict_only', 'critique_only'" in message and "verdict_olny" in message


@pytest.mark.parametrize(
    ("asset_name", "config", "expected"),
    [
        ("judge_benchmarks", {"benchmarks": ["pyrit_harm", "pyrit_hram"]}, "benchmarks: ['pyrit_hram'] not among"),
        ("policy_answers", {"splits": ["train", "test"]}, "splits: ['test'] not among the choices ['train', 'eval']"),
        ("attacked_prompts", {"attack_labels": ["harmfull"]}, "attack_labels: ['harmfull'] not among"),
        ("attacked_prompts", {"family_roles": {"roleplay": "held-out"}}, "family_roles: ['held-out'] not among"),
    ],
)
def test_choices_inside_lists_and_mappings_fail_the_run_before_the_step_works(tmp_path, asset_name, config, expected):
    """Dagster's schema takes no Literal inside a list or a mapping: their pydantic validators fail the step as it
    starts, naming the field, the bad values and the choices, before anything is read or written."""
    from dagster import AssetSelection, Definitions, define_asset_job

    from sinternal_assets.storage.resources import WarehouseResource

    job = define_asset_job("one", selection=AssetSelection.assets(asset_name))
    defs = Definitions(
        assets=ASSETS,
        jobs=[job],
        resources={**default_resources(), "warehouse": WarehouseResource(path=str(tmp_path / "never.duckdb"))},
    )
    result = defs.resolve_job_def("one").execute_in_process(
        run_config={"ops": {asset_name: {"config": config}}}, raise_on_error=False
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert expected in str(failure.step_failure_data.error)
    assert not (tmp_path / "never.duckdb").exists()


def test_materializing_with_a_value_outside_a_literal_fails_before_the_step_runs(tmp_path):
    from sinternal_assets.storage.resources import WarehouseResource
    from sinternal_assets.training.assets import verifier_sft

    resources = {
        "warehouse": WarehouseResource(path=str(tmp_path / "never.duckdb")),
        "trainer": TrainingLauncherResource(checkpoint_root=str(tmp_path / "checkpoints")),
    }
    with pytest.raises(DagsterInvalidConfigError) as error:
        materialize(
            [verifier_sft],
            resources=resources,
            run_config={"ops": {"verifier_sft": {"config": {"mode": "verdict_olny"}}}},
        )
    message = str(error.value)
    assert "root:ops:verifier_sft:config:mode" in message and "'verdict_only'" in message
    assert not (tmp_path / "never.duckdb").exists() and not (tmp_path / "checkpoints").exists()


def test_a_resource_setting_outside_its_literal_names_the_field_and_the_choices():
    with pytest.raises(ValueError, match=r"launcher\n  Input should be 'auto', 'accelerate' or 'python'"):
        TrainingLauncherResource(launcher="slurm")
    with pytest.raises(ValueError, match=r"mixed_precision\n  Input should be 'no', 'fp16', 'bf16' or 'fp8'"):
        TrainingLauncherResource(mixed_precision="fp12")
    with pytest.raises(
        ValueError, match=r"backend\n  Input should be 'transformers', 'vllm', 'openai' or 'offline_expert'"
    ):
        GenerationResource(backend="tgi")
    # and through Dagster's run config of the resource
    everything = define_asset_job("everything", selection=AssetSelection.all())
    job = Definitions(assets=ASSETS, jobs=[everything], resources=default_resources()).resolve_job_def("everything")
    with pytest.raises(DagsterInvalidConfigError, match=r"root:resources:trainer:config:launcher not in enum"):
        validate_run_config(job, {"resources": {"trainer": {"config": {"launcher": "slurm"}}}})


def test_the_two_study_configurations_train_every_method_once_and_both_evaluate():
    """`study` (the core) and `study_extra` (the other methods and the ablations) split the training assets
    between them with none in both and none left out; both end with the whole evaluation; the core trains
    refusal SFT, SInternal SFT and SInternal + GRPO."""
    from dagster_project.definitions import ASSETS, defs
    from sinternal_assets.training.assets import CHECKPOINT_ASSETS

    def assets(job):
        return {key.to_user_string() for key in defs.resolve_job_def(job).asset_layer.selected_asset_keys}

    core, extra = assets("study"), assets("study_extra")
    training = {a.key.to_user_string() for a in CHECKPOINT_ASSETS}
    assert core & extra & training == set() and (core | extra) & training == training
    assert core & training == {"refusal_sft", "verifier_sft", "verifier_grpo"}
    evaluation = {
        a.key.to_user_string()
        for a in ASSETS
        if getattr(a, "group_names_by_key", None) and "evaluation" in a.group_names_by_key.values()
    }
    assert evaluation and evaluation <= core and evaluation <= extra
