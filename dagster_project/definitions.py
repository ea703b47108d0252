"""The one `Definitions` of the sinternal code location, built for the run profile (SINTERNAL_PROFILE: local | gpu;
see dagster_project/profiles.py)."""

from dagster import (
    AssetsDefinition,
    AssetSelection,
    DagsterInvalidConfigError,
    Definitions,
    define_asset_job,
    load_assets_from_modules,
    validate_run_config,
)

from dagster_project.checks import all_checks
from dagster_project.jobs import (
    EMBEDDED_RUN_CONFIG,
    EMBEDDED_SELECTION,
    EVALUATION_SELECTION,
    RETRAINING_SELECTION,
    REVIEW_FOLLOWUP_SELECTION,
    STUDY_EXTRA_SELECTION,
    STUDY_RUN_CONFIG,
    STUDY_SELECTION,
    embedded_default_job,
    evaluation_job,
    ingest_prompts,
    retraining_job,
    review_followup_job,
    run_config_path,
    study_extra_job,
    study_job,
)
from dagster_project.profiles import Profile, load_profile
from dagster_project.schedules import make_weekly_retraining
from dagster_project.sensors import make_annotation_sensor, make_checkpoint_sensor, make_prompt_inbox_sensor
from dagster_project.stages import stage_modules

# every stage's assets, found by Dagster's loader in the stages' assets.py modules (dagster_project/stages.py)
ASSETS = list(load_assets_from_modules(stage_modules("assets"), include_specs=True))


def config_for(run_config: dict, selection: AssetSelection) -> dict:
    """The profile's run config restricted to the assets `selection` picks (a job's config may only name its
    own ops). Every job, schedule and sensor runs with this: the same settings as the profile's main job."""
    names = {key.to_user_string() for key in selection.resolve([a for a in ASSETS if isinstance(a, AssetsDefinition)])}
    return {"ops": {op: value for op, value in run_config.get("ops", {}).items() if op in names}}


def check_run_config(run_config: dict, source: str, resources: dict) -> dict:
    """`run_config` validated against every asset's config schema (a job selecting all of ASSETS); a misspelt or
    mistyped key is an error naming `source` (the run configuration's file). Returns the resolved config."""
    everything = define_asset_job("run_config_check", selection=AssetSelection.all())
    job = Definitions(assets=ASSETS, jobs=[everything], resources=resources).resolve_job_def(everything.name)
    try:
        return validate_run_config(job, run_config)
    except DagsterInvalidConfigError as error:
        problems = "\n".join(f"  {e.message}" for e in error.errors)
        raise ValueError(f"{source}: the run configuration does not fit the assets' config:\n{problems}") from None


def build_definitions(profile: Profile) -> Definitions:
    # a run config is first used when a run launches: check it now, so a typo fails the load and names the file
    checked = {  # embedded_default's and study's, in every profile
        str(run_config_path("embedded")): EMBEDDED_RUN_CONFIG,
        str(run_config_path("study")): STUDY_RUN_CONFIG,
    }
    if profile.run_config_file:
        checked[profile.run_config_file] = profile.run_config
    for source, run_config in checked.items():
        check_run_config(run_config, source, profile.resources)
    embedded_default = embedded_default_job(config_for(EMBEDDED_RUN_CONFIG, EMBEDDED_SELECTION))
    study = study_job(config_for(STUDY_RUN_CONFIG, STUDY_SELECTION))
    study_extra = study_extra_job(config_for(STUDY_RUN_CONFIG, STUDY_EXTRA_SELECTION))
    retraining = retraining_job(config_for(profile.run_config, RETRAINING_SELECTION))
    followup_config = config_for(profile.run_config, REVIEW_FOLLOWUP_SELECTION)
    followup = review_followup_job(followup_config)
    evaluation_config = config_for(profile.run_config, EVALUATION_SELECTION)
    evaluation = evaluation_job(evaluation_config)
    return Definitions(
        assets=ASSETS,
        asset_checks=all_checks(),
        jobs=[embedded_default, study, study_extra, retraining, ingest_prompts, followup, evaluation],
        schedules=[make_weekly_retraining(retraining)],
        sensors=[
            make_annotation_sensor(followup, followup_config),
            make_prompt_inbox_sensor(ingest_prompts),
            make_checkpoint_sensor(evaluation, evaluation_config),
        ],
        resources=profile.resources,
        executor=profile.executor,
    )


PROFILE = load_profile()
defs = build_definitions(PROFILE)
