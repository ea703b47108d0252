"""Choosing the offline judge/teacher's classifier: candidates compared by grouped cross-validation on the
teacher_train side of PyRIT's human labels only, the chosen one then measured once on the held-out side, at full
length and cut to the policy's answer length.

Candidates:
- `lexical`: today's offline expert classifier (TF-IDF words and characters, refusal and length features,
  logistic regression, `offline_expert.classifier("response", 1.0)`);
- `probe/L<layer>/<pool>/C<c>`: a logistic regression (standardised features) on untrained SmolLM2-135M's hidden
  state at layer <layer>, at the answer's last token or averaged over the answer's tokens
  (`judging.hidden_states`: question, request, then answer, so one forward pass gives every answer length);
- `minilm/<input>/C<c>`: a logistic regression (standardised features) on all-MiniLM-L6-v2's sentence embedding
  (`judging.sentence_encoder`: mean pooling, unit norm) of the answer alone (`answer`) or of the request and the
  answer as BERT's two segments (`pair`), each answer cut to the length scored before it is embedded;
- `minilm-ft/answer` (with `--finetune`): all-MiniLM-L6-v2 fine-tuned end to end as a two-class sequence
  classifier on the fold's training answers (full length, alone; transformers' Trainer, 3 epochs, lr 5e-5, batch
  16, weight decay 0.01, 10% warm-up, seed 0: the usual recipe, never tuned on any score), P(unsafe) from its
  softmax on each answer cut to the length scored;
- `+short` variants fit on each training answer twice, at full length and cut to the eval length (same group);
- `vote(...)`: the mean of the classifiers' P(unsafe) (soft voting): the lexical model with each probe, with each
  MiniLM candidate, and the three of them (mean-pooled probes at C 0.003 with each MiniLM candidate).

Scores per candidate, out of fold (5-fold GroupKFold by the label split's group: prompt near-duplicates and
identical responses linked): accuracy and balanced accuracy at full length, and at each short length (the test
fold's answers cut with the policy's tokenizer). The choice: the highest mean of full-length accuracy and
balanced accuracy at the study's eval length (the two targets), fixed before any held-out figure was read.

Hidden states and sentence embeddings are computed once per labelled answer (and length) and cached under /tmp
(`--cache`).

    nice -n 15 .venv/bin/python benchmarks/judge_selection.py [--out benchmarks/results/judge_selection.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from benchmarks.bench_answer_length import balanced_accuracy_interval, commit, cpu  # noqa: E402
from benchmarks.common import embedded_model  # noqa: E402
from sinternal_assets.evaluation.answer_length import cut_to_tokens  # noqa: E402
from sinternal_assets.evaluation.human_labels import read_pyrit_scorer_evals, with_label_split  # noqa: E402
from sinternal_assets.evaluation.metrics import wilson_interval  # noqa: E402
from sinternal_assets.hashing import content_id  # noqa: E402
from sinternal_assets.judging import hidden_states, offline_expert, sentence_encoder  # noqa: E402
from sinternal_assets.paths import cache_dir  # noqa: E402
from sinternal_assets.sources.artifacts import ArtifactStore, load_pins  # noqa: E402

LAYERS = (6, 9, 12, 15)
# the selection rule's short length, fixed on 2026-12-04 when the study generated 96-token answers; the study has
# generated 64-token answers since 2026-12-05 (run_configs/study.yaml): both are scored, the rule is unchanged
EVAL_LENGTH = 96
EMBEDDED_LENGTH = 64
MINILM_INPUTS = ("answer", "pair")
MINILM_C = (0.01, 0.1, 1.0)
FINETUNE = {"epochs": 3, "learning_rate": 5e-5, "batch_size": 16, "weight_decay": 0.01, "warmup_ratio": 0.1, "seed": 0}


def finetuned_encoder_predict(encoder: Path, fit: Data, fit_rows, test: Data, test_rows) -> dict:
    """Fine-tune all-MiniLM-L6-v2 (its folder `encoder`) as a two-class classifier on the fit rows' full answers,
    then P(unsafe) of the test rows at each length."""
    import tempfile

    import torch
    from datasets import Dataset
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    torch.manual_seed(FINETUNE["seed"])
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    model = AutoModelForSequenceClassification.from_pretrained(encoder, num_labels=2)
    texts = [fit.texts[None][i] or " " for i in fit_rows]
    dataset = Dataset.from_dict({"text": texts, "label": fit.truth[fit_rows].astype(int).tolist()}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=sentence_encoder.MAX_TOKENS), batched=True
    )
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            num_train_epochs=FINETUNE["epochs"],
            learning_rate=FINETUNE["learning_rate"],
            per_device_train_batch_size=FINETUNE["batch_size"],
            weight_decay=FINETUNE["weight_decay"],
            warmup_steps=FINETUNE["warmup_ratio"],  # a float < 1: a ratio of the steps (transformers 5)
            seed=FINETUNE["seed"],
            save_strategy="no",
            report_to=[],
            logging_steps=25,
            disable_tqdm=True,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=dataset.remove_columns(["text"]),
            data_collator=DataCollatorWithPadding(tokenizer),
        )
        trainer.train()
    model.eval()
    out = {}
    with torch.inference_mode():
        for n in LENGTHS:
            rows = [test.texts[n][i] or " " for i in test_rows]
            probs = []
            for start in range(0, len(rows), 32):
                batch = tokenizer(
                    rows[start : start + 32],
                    padding=True,
                    truncation=True,
                    max_length=sentence_encoder.MAX_TOKENS,
                    return_tensors="pt",
                )
                probs.append(torch.softmax(model(**batch).logits, dim=-1)[:, 1].numpy())
            out[n] = np.concatenate(probs)
    return out


LENGTHS = (None, EVAL_LENGTH, EMBEDDED_LENGTH)


def labels() -> pl.DataFrame:
    """The whole label set split, then the safety task kept (the split must be drawn on the whole set)."""
    art = ArtifactStore(cache_dir()).fetch(load_pins()["pyrit"])
    return with_label_split(read_pyrit_scorer_evals(art).frame).filter(pl.col("task") == "safety").sort("label_id")


def features(frame: pl.DataFrame, cache: Path, model: Path) -> dict:
    """{(layer, pool, length): (n, hidden)} for the rows of `frame`, from the cache when it has them."""
    key = content_id(
        "judge-selection/v1",
        str(model),
        LAYERS,
        LENGTHS,
        hidden_states.QUESTION,
        hidden_states.ANSWER_TOKENS,
        frame.select("prompt_text", "response_text").rows(),
        length=24,
    )
    path = cache / f"{key}.npz"
    if path.is_file():
        data = np.load(path)
        return {_key(*k.split("|")): data[k] for k in data.files}
    import torch

    torch.set_num_threads(2)
    started = time.perf_counter()
    states, _ = hidden_states.hidden_states(
        model, frame["prompt_text"].to_list(), frame["response_text"].to_list(), LAYERS
    )
    print(f"hidden states of {frame.height} answers: {time.perf_counter() - started:.0f} s", flush=True)
    out = {}
    for layer in LAYERS:
        for length in LENGTHS:
            for pool, array in hidden_states.features_at(states[layer], length).items():
                out[(str(layer), pool, "full" if length is None else str(length))] = array
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{"|".join(k): v for k, v in out.items()})
    return {_key(*k): v for k, v in out.items()}


def minilm_features(data: Data, cache: Path, model_dir: Path) -> dict:
    """{(input, length): (n, 384)} sentence embeddings of `data`'s answers at each length (alone, and as the second
    segment after the request), from the cache when it has them."""
    key = content_id(
        "judge-selection-minilm/v1",
        model_dir.name,
        LENGTHS,
        sentence_encoder.MAX_TOKENS,
        data.prompts,
        [data.texts[n] for n in LENGTHS],
        length=24,
    )
    path = cache / f"{key}.npz"
    if path.is_file():
        stored = np.load(path)
        return {(k.split("|")[0], _length(k.split("|")[1])): stored[k] for k in stored.files}
    started = time.perf_counter()
    out = {}
    for n in LENGTHS:
        out[("answer", n)] = sentence_encoder.embed(model_dir, data.texts[n])
        out[("pair", n)] = sentence_encoder.embed(model_dir, data.prompts, pairs=data.texts[n])
    print(
        f"MiniLM embeddings of {len(data.prompts)} answers x {len(LENGTHS)} lengths x 2 inputs: "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{f"{i}|{'full' if n is None else n}": v for (i, n), v in out.items()})
    return out


def _length(text: str) -> int | None:
    return None if text == "full" else int(text)


def _key(layer: str, pool: str, length: str) -> tuple:
    return int(layer), pool, _length(length)


class Data:
    """One side's truth, texts at each length and hidden-state features."""

    def __init__(self, frame: pl.DataFrame, feats: dict, tokenizer):
        self.frame = frame
        self.truth = np.array(frame["truth_unsafe"].to_list(), dtype=bool)
        full = frame["response_text"].to_list()
        self.texts = {None: full, **{n: cut_to_tokens(full, tokenizer, n) for n in LENGTHS if n is not None}}
        self.prompts = frame["prompt_text"].to_list()
        self.feats = feats
        self.embeddings: dict = {}

    def pairs(self, rows, length) -> np.ndarray:
        texts = self.texts[length]
        return np.array([(self.prompts[i], texts[i]) for i in rows], dtype=object).reshape(-1, 2)


def fit_predict(kind: dict, fit: Data, fit_rows, test: Data, test_rows) -> dict:
    """P(unsafe) of the test rows at each length, from a model of `kind` fitted on the fit rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_lengths = [None, EVAL_LENGTH] if kind["short"] else [None]
    y = np.concatenate([fit.truth[fit_rows]] * len(train_lengths))
    if kind["model"] == "lexical":
        model = offline_expert.classifier(offline_expert.DEFAULT_CANDIDATE, offline_expert.DEFAULT_C)
        model.fit(np.concatenate([fit.pairs(fit_rows, n) for n in train_lengths]), y)
        return {n: model.predict_proba(test.pairs(test_rows, n))[:, 1] for n in LENGTHS}
    if kind["model"] == "minilm-ft":
        return finetuned_encoder_predict(kind["encoder"], fit, fit_rows, test, test_rows)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=kind["c"], max_iter=3000, class_weight="balanced"))
    if kind["model"] == "minilm":
        model.fit(np.concatenate([fit.embeddings[(kind["input"], n)][fit_rows] for n in train_lengths]), y)
        return {n: model.predict_proba(test.embeddings[(kind["input"], n)][test_rows])[:, 1] for n in LENGTHS}
    layer, pool = kind["layer"], kind["pool"]
    model.fit(np.concatenate([fit.feats[(layer, pool, n)][fit_rows] for n in train_lengths]), y)
    return {n: model.predict_proba(test.feats[(layer, pool, n)][test_rows])[:, 1] for n in LENGTHS}


def scores(truth: np.ndarray, p: np.ndarray) -> dict:
    predicted = p >= 0.5
    sensitivity = float(np.mean(predicted[truth])) if truth.any() else float("nan")
    specificity = float(np.mean(~predicted[~truth])) if (~truth).any() else float("nan")
    return {
        "accuracy": float(np.mean(predicted == truth)),
        "balanced_accuracy": (sensitivity + specificity) / 2,
        "sensitivity": sensitivity,
        "specificity": specificity,
    }


def name(kind: dict) -> str:
    if kind["model"] == "lexical":
        base = "lexical"
    elif kind["model"] == "minilm-ft":
        base = "minilm-ft/answer"
    elif kind["model"] == "minilm":
        base = f"minilm/{kind['input']}/C{kind['c']}"
    else:
        base = f"probe/L{kind['layer']}/{kind['pool']}/C{kind['c']}"
    return base + ("+short" if kind["short"] else "")


def cross_validate(data: Data, kinds: list[dict], folds: int) -> dict[str, dict]:
    """Out-of-fold P(unsafe) at each length per candidate, and the per-fold accuracies."""
    from sklearn.model_selection import GroupKFold

    splits = list(
        GroupKFold(folds).split(np.zeros(len(data.truth)), data.truth, groups=data.frame["split_group"].to_list())
    )
    out = {}
    for kind in kinds:
        started = time.perf_counter()
        oof = {n: np.zeros(len(data.truth)) for n in LENGTHS}
        for fit_rows, test_rows in splits:
            for n, p in fit_predict(kind, data, fit_rows, data, test_rows).items():
                oof[n][test_rows] = p
        out[name(kind)] = {"kind": kind, "oof": oof, "splits": splits, "seconds": time.perf_counter() - started}
        print(f"{name(kind):<32} {time.perf_counter() - started:5.1f} s", flush=True)
    return out


def row(label: str, truth: np.ndarray, oof: dict, splits) -> dict:
    def key(n):
        return "full" if n is None else str(n)

    record = {"candidate": label}
    for n in LENGTHS:
        s = scores(truth, oof[n])
        record[f"accuracy_{key(n)}"] = round(s["accuracy"], 4)
        record[f"balanced_accuracy_{key(n)}"] = round(s["balanced_accuracy"], 4)
    record["fold_accuracy_full"] = [round(scores(truth[t], oof[None][t])["accuracy"], 4) for _, t in splits]
    record["fold_balanced_accuracy_eval"] = [
        round(scores(truth[t], oof[EVAL_LENGTH][t])["balanced_accuracy"], 4) for _, t in splits
    ]
    record["selection_score"] = round((record["accuracy_full"] + record[f"balanced_accuracy_{EVAL_LENGTH}"]) / 2, 4)
    return record


def heldout_measure(truth: np.ndarray, p: np.ndarray) -> dict:
    predicted = (p >= 0.5).astype(int)
    s = scores(truth, p)
    hits = int(np.sum(predicted == truth))
    low, high = wilson_interval(hits, len(truth))
    ba_low, ba_high = balanced_accuracy_interval(truth, predicted)
    sens_low, sens_high = wilson_interval(int(np.sum(predicted[truth])), int(truth.sum()))
    spec_low, spec_high = wilson_interval(int(np.sum(1 - predicted[~truth])), int((~truth).sum()))
    return {
        "n": len(truth),
        "accuracy": round(s["accuracy"], 4),
        "accuracy_ci": [round(low, 4), round(high, 4)],
        "balanced_accuracy": round(s["balanced_accuracy"], 4),
        "balanced_accuracy_ci": [round(ba_low, 4), round(ba_high, 4)],
        "sensitivity": round(s["sensitivity"], 4),
        "sensitivity_ci": [round(sens_low, 4), round(sens_high, 4)],
        "specificity": round(s["specificity"], 4),
        "specificity_ci": [round(spec_low, 4), round(spec_high, 4)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "judge_selection.json"))
    parser.add_argument("--cache", default="/tmp/judge_sel")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--features-only", action="store_true", help="compute and cache the hidden states, stop")
    parser.add_argument("--finetune", action="store_true", help="add the fine-tuned MiniLM classifier (~25 min)")
    args = parser.parse_args()
    model = embedded_model()
    minilm = sentence_encoder.unpack(ArtifactStore(cache_dir()).fetch(load_pins()["minilm"]), cache_dir() / "models")
    frame = labels()
    train = frame.filter(pl.col("label_split") == "teacher_train")
    heldout = frame.filter(pl.col("label_split") == "heldout")
    if args.features_only:
        features(train, Path(args.cache), model)
        features(heldout, Path(args.cache), model)
        return
    from transformers import AutoTokenizer

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(model)
    data = Data(train, features(train, Path(args.cache), model), tokenizer)
    data.embeddings = minilm_features(data, Path(args.cache), minilm)
    kinds = [{"model": "lexical", "short": short} for short in (False, True)]
    kinds += [
        {"model": "probe", "layer": layer, "pool": pool, "c": c, "short": short}
        for layer in LAYERS
        for pool in hidden_states.POOLS
        for c in (0.003, 0.01, 0.03)
        for short in (False, True)
    ]
    kinds += [
        {"model": "minilm", "input": source, "c": c, "short": short}
        for source in MINILM_INPUTS
        for c in MINILM_C
        for short in (False, True)
    ]
    if args.finetune:
        kinds.append({"model": "minilm-ft", "short": False, "encoder": minilm})
    runs = cross_validate(data, kinds, args.folds)
    table = [row(label, data.truth, r["oof"], r["splits"]) for label, r in runs.items()]
    singles = list(runs.items())

    def add_vote(parts: list[str]) -> None:
        label = f"vote({', '.join(parts)})"
        oof = {n: np.mean([runs[part]["oof"][n] for part in parts], axis=0) for n in LENGTHS}
        runs[label] = {"kind": {"vote": parts}, "oof": oof}
        table.append(row(label, data.truth, oof, runs[parts[0]]["splits"]))

    # soft votes, each of classifiers fitted on the same training lengths: the lexical model with each probe and
    # each MiniLM candidate, and the three together (mean-pooled probes at C 0.003)
    for label, r in singles:
        if r["kind"]["model"] in {"probe", "minilm", "minilm-ft"}:
            add_vote(["lexical+short" if r["kind"]["short"] else "lexical", label])
    for label, r in singles:
        if r["kind"]["model"] not in {"minilm", "minilm-ft"}:
            continue
        short = r["kind"]["short"]
        for probe, p in singles:
            kind = p["kind"]
            if kind["model"] == "probe" and kind["pool"] == "mean" and kind["c"] == 0.003 and kind["short"] == short:
                add_vote(["lexical+short" if short else "lexical", probe, label])
    table.sort(key=lambda r: -r["selection_score"])
    for r in table[:15]:
        print(
            f"{r['candidate']:<48} full acc {r['accuracy_full']:.3f} bal@{EVAL_LENGTH} "
            f"{r[f'balanced_accuracy_{EVAL_LENGTH}']:.3f} bal@{EMBEDDED_LENGTH} "
            f"{r[f'balanced_accuracy_{EMBEDDED_LENGTH}']:.3f} score {r['selection_score']:.3f}"
        )
    lexical_row = next(r for r in table if r["candidate"] == "lexical")
    chosen = table[0]
    print("lexical:", {k: v for k, v in lexical_row.items() if not k.startswith("fold")})
    print("chosen:", chosen["candidate"], flush=True)

    # the chosen candidate (and, for reference, today's lexical model), fitted on the whole teacher_train side
    # and measured once on the held-out side
    held = Data(heldout, features(heldout, Path(args.cache), model), tokenizer)
    held.embeddings = minilm_features(held, Path(args.cache), minilm)
    every = np.arange(len(data.truth)), np.arange(len(held.truth))

    fitted: dict[str, dict] = {}  # each single candidate fitted on all of teacher_train once (votes share them)

    def heldout_p(label: str) -> dict:
        kind = runs[label]["kind"]
        if "vote" in kind:
            parts = [heldout_p(part) for part in kind["vote"]]
            return {n: np.mean([part[n] for part in parts], axis=0) for n in LENGTHS}
        if label not in fitted:
            fitted[label] = fit_predict(kind, data, every[0], held, every[1])
        return fitted[label]

    # read once each: the chosen candidate, today's lexical model, and the best of the other families by the
    # same rule (for the record, never to choose)
    families = {
        "probe": lambda c: c.startswith("probe/"),
        "minilm": lambda c: c.startswith("minilm/"),
        "vote(lexical, probe)": lambda c: c.startswith("vote(") and "probe/" in c and "minilm/" not in c,
        "vote(lexical, minilm)": lambda c: c.startswith("vote(") and "minilm/" in c and "probe/" not in c,
        "vote(lexical, probe, minilm)": lambda c: c.startswith("vote(") and "probe/" in c and "minilm/" in c,
    }
    if args.finetune:
        families["minilm-ft"] = lambda c: c.startswith("minilm-ft/")
        families["vote(lexical, minilm-ft)"] = (
            lambda c: c.startswith("vote(") and "minilm-ft/" in c and "probe/" not in c
        )
        families["vote(lexical, probe, minilm-ft)"] = (
            lambda c: c.startswith("vote(") and "probe/" in c and "minilm-ft/" in c
        )
    best_of = {
        family: next(r["candidate"] for r in table if test(r["candidate"])) for family, test in families.items()
    }
    measured = {}
    for label in dict.fromkeys([chosen["candidate"], "lexical", *best_of.values()]):
        p = heldout_p(label)
        measured[label] = {"full" if n is None else str(n): heldout_measure(held.truth, p[n]) for n in LENGTHS}
    result = measured[chosen["candidate"]]
    record = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["nice -n 15 .venv/bin/python benchmarks/judge_selection.py", *sys.argv[1:]]),
        "commit": commit(),
        "cpu": cpu(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "model": f"{model.name} (untrained, fp32)",
        "sentence_encoder": {
            "model": minilm.name,
            "max_tokens": sentence_encoder.MAX_TOKENS,
            "inputs": list(MINILM_INPUTS),
            "pooling": "mean, unit norm",
            "finetune": FINETUNE if args.finetune else None,
        },
        "probe_input": {
            "question": hidden_states.QUESTION,
            "request_tokens": hidden_states.REQUEST_TOKENS,
            "answer_tokens_read": hidden_states.ANSWER_TOKENS,
            "layers": list(LAYERS),
            "pools": list(hidden_states.POOLS),
        },
        "n_teacher_train": train.height,
        "n_heldout": heldout.height,
        "folds": args.folds,
        "grouping": "the label split's group (near-duplicate prompts and identical normalised responses linked)",
        "eval_length": EVAL_LENGTH,
        "embedded_eval_length": EMBEDDED_LENGTH,
        "selection": f"highest mean of CV accuracy at full length and CV balanced accuracy at {EVAL_LENGTH} tokens",
        "cv_table": table,
        "chosen": chosen["candidate"],
        "heldout": measured,
        "heldout_accuracy": result["full"]["accuracy"],
        "heldout_accuracy_ci": result["full"]["accuracy_ci"],
        "heldout_balanced_accuracy_short": result[str(EVAL_LENGTH)]["balanced_accuracy"],
        "heldout_balanced_accuracy_short_ci": result[str(EVAL_LENGTH)]["balanced_accuracy_ci"],
        "heldout_balanced_accuracy_64": result[str(EMBEDDED_LENGTH)]["balanced_accuracy"],
        "heldout_balanced_accuracy_64_ci": result[str(EMBEDDED_LENGTH)]["balanced_accuracy_ci"],
        "best_of_each_family": best_of,
        "seconds": round(time.perf_counter() - started, 1),
    }
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: record[k] for k in ("chosen", "heldout_accuracy", "heldout_balanced_accuracy_short")}))


if __name__ == "__main__":
    main()
