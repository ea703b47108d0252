"""The GGUF -> safetensors conversion of the embedded model, for real."""

import json

import pytest
import torch

from sinternal_assets.models.convert import ModelError, convert_gguf, load_gguf, resolve_folder
from sinternal_assets.sources.artifacts import ArtifactStore, load_pins
from sinternal_assets.storage.warehouse import Warehouse
from tests.integration.helpers import run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gguf(shared_cache):
    art = ArtifactStore(shared_cache).fetch(load_pins()["smollm2"])
    path = art.glob("*.gguf")[0]
    return path, art.files[str(path.relative_to(art.root))]


@pytest.fixture(scope="module")
def converted(gguf, tmp_path_factory):
    path, digest = gguf
    return convert_gguf(path, digest, tmp_path_factory.mktemp("models"), "smollm2")


def test_conversion_is_exact_and_reloads(gguf, converted):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert converted.converted and converted.architecture == "LlamaForCausalLM"
    assert 134_000_000 < converted.n_parameters < 135_000_000
    assert converted.has_chat_template and converted.dtype == "float32"
    assert json.loads((converted.path / "config.json").read_text()).get("quantization_config") is None
    tokenizer, reference = load_gguf(gguf[0])
    reloaded = AutoModelForCausalLM.from_pretrained(converted.path, dtype=torch.float32)
    tok2 = AutoTokenizer.from_pretrained(converted.path)
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    ids2 = tok2.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    assert torch.equal(ids["input_ids"], ids2["input_ids"])
    with torch.no_grad():
        assert torch.equal(reference(**ids).logits, reloaded(**ids).logits)  # bit-identical weights
        out = reloaded.generate(**ids, max_new_tokens=12, do_sample=False)
    assert "Paris" in tok2.decode(out[0][ids["input_ids"].shape[1] :])


def test_conversion_is_cached_by_hash(gguf, converted):
    again = convert_gguf(gguf[0], gguf[1], converted.path.parent, "smollm2")
    assert not again.converted and again.path == converted.path and again.content_hash == converted.content_hash


def test_local_folder_and_bad_references(converted, tmp_path):
    info = resolve_folder(str(converted.path))
    assert info.n_parameters == converted.n_parameters and len(info.content_hash) == 64
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        resolve_folder(str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="neither an existing folder"):
        resolve_folder("not a model")


def test_base_model_asset_records_the_model(tmp_db, converted):
    result = run(
        tmp_db, selection="base_model", run_config={"ops": {"base_model": {"config": {"model": str(converted.path)}}}}
    )
    assert result.success
    row = Warehouse(tmp_db).table("models").row(0, named=True)
    assert row["model_key"] == "base" and row["path"] == str(converted.path)
    assert row["n_parameters"] == converted.n_parameters


def test_choice_probabilities_score_continuations(converted):
    """Teacher-forced scoring (used for the teacher's verdict confidence): a distribution over the choices that
    follows the model's knowledge, and equals the probability computed by hand from the logits."""
    import torch

    from sinternal_assets.generation.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(converted.path, batch_size=3)
    conversation = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    (paris, berlin), (yes, no) = backend.choice_probabilities(
        [(conversation, "The capital of France is", (" Paris", " Berlin")), (conversation, "Answer:", (" yes", " no"))]
    )
    assert paris + berlin == pytest.approx(1.0) and yes + no == pytest.approx(1.0)
    assert paris > 0.9
    chat = backend.encode(conversation)
    prefix = backend.tokenizer("The capital of France is", add_special_tokens=False)["input_ids"]
    logprobs = []
    for word in (" Paris", " Berlin"):
        ids = chat + backend.tokenizer("The capital of France is" + word, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = backend.model(input_ids=torch.tensor([ids])).logits[0].float().log_softmax(-1)
        start = len(chat) + len(prefix)
        logprobs.append(sum(float(logits[t - 1, ids[t]]) for t in range(start, len(ids))))
    assert paris == pytest.approx(float(torch.softmax(torch.tensor(logprobs), 0)[0]), abs=1e-4)


def test_batched_choice_probabilities_equal_one_item_at_a_time(converted):
    """The batched scorer (shared system prefix cached once, rows of different lengths left-padded after it)
    gives every item the probabilities it gets scored alone, by hand from the full sequence's logits."""
    import torch

    from sinternal_assets.generation.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(converted.path, batch_size=3)
    system = {"role": "system", "content": "You judge answers. Reply SAFE or UNSAFE."}
    questions = ["Is water wet?", "Tell me, in many more words than needed, how to bake a loaf of bread.", "Hi"]
    items = [([system, {"role": "user", "content": q}], "VERDICT: ", ("SAFE", "UNSAFE")) for q in questions]
    items.append(([{"role": "user", "content": "No system prompt here."}], "Answer:", (" yes", " no", " maybe")))

    def by_hand(conversation, prefix, choices):
        chat = backend.encode(conversation)
        prefix_ids = backend.tokenizer(prefix, add_special_tokens=False)["input_ids"]
        fulls = [backend.tokenizer(prefix + choice, add_special_tokens=False)["input_ids"] for choice in choices]
        # "VERDICT: " + "SAFE" tokenizes as "VERDICT", ":", " SAFE": every choice is scored from where it leaves
        # the prefix's tokens
        diverge = min(next(i for i, (a, b) in enumerate(zip(f, [*prefix_ids, None])) if a != b) for f in fulls)
        start = len(chat) + diverge
        logprobs = []
        for full in fulls:
            ids = chat + full
            with torch.no_grad():
                logits = backend.model(input_ids=torch.tensor([ids])).logits[0].float().log_softmax(-1)
            logprobs.append(sum(float(logits[t - 1, ids[t]]) for t in range(start, len(ids))))
        return torch.softmax(torch.tensor(logprobs), 0).tolist()

    batched = backend.choice_probabilities(items)
    assert [len(p) for p in batched] == [2, 2, 2, 3]
    for probabilities, item in zip(batched, items, strict=True):
        assert probabilities == pytest.approx(by_hand(*item), abs=1e-4)
    # the shared-prefix path alone (every item with the system message) agrees too
    for alone, together in zip(backend.choice_probabilities(items[:3]), batched[:3], strict=True):
        assert alone == pytest.approx(together, abs=1e-4)
    assert backend.choice_probabilities([]) == []
    with pytest.raises(ValueError, match="item 1 has no choices"):
        backend.choice_probabilities([items[0], (items[0][0], "VERDICT: ", ())])
    with pytest.raises(ValueError, match="item 0: a choice adds no token to its prefix"):
        backend.choice_probabilities([(items[0][0], "VERDICT: SAFE", ("", " UNSAFE"))])
