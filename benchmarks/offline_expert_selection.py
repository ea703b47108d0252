"""Model selection for the offline expert, on its teacher_train side only: grouped cross-validation of candidate
classifiers, folds by the same near-duplicate prompt group that separates teacher_train from heldout (so no
near-duplicate prompt sits on both sides of a fold). The held-out side is never read here: the chosen candidate
is measured on it once, by the `offline_expert` asset.

    .venv/bin/python benchmarks/offline_expert_selection.py [--folds 5] [--out PATH.json]
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

from sinternal_assets.evaluation.human_labels import (  # noqa: E402
    read_pyrit_scorer_evals,
    split_groups,
    with_label_split,
)
from sinternal_assets.judging import offline_expert  # noqa: E402
from sinternal_assets.paths import cache_dir  # noqa: E402
from sinternal_assets.sources.artifacts import ArtifactStore, load_pins  # noqa: E402


def teacher_train() -> pl.DataFrame:
    art = ArtifactStore(cache_dir()).fetch(load_pins()["pyrit"])
    labels = with_label_split(read_pyrit_scorer_evals(art).frame).filter(pl.col("task") == "safety")
    train = labels.filter(pl.col("label_split") == "teacher_train").sort("label_id")
    return train.with_columns(pl.Series("group", split_groups(train)))


def many_shot_examples() -> pl.DataFrame:
    """PyRIT's 400 many-shot jailbreak examples (harmful request + compliant answer, UNSAFE by construction, not
    human-labelled), read from the pinned wheel: a candidate source of extra UNSAFE training examples."""
    import zipfile

    store, pin = ArtifactStore(cache_dir()), load_pins()["pyrit"]
    store.fetch(pin)  # verifies (or downloads) the pinned wheel
    with zipfile.ZipFile(store.wheel_path(pin)) as wheel:
        rows = json.loads(wheel.read("pyrit/datasets/jailbreak/many_shot_examples.json"))
    return pl.DataFrame({"prompt_text": [r["user"] for r in rows], "response_text": [r["assistant"] for r in rows]})


def grouped_cv(train: pl.DataFrame, candidate: str, c: float, folds: int, extra: pl.DataFrame | None = None) -> dict:
    """Grouped CV accuracy; `extra` rows (all UNSAFE) join every fold's fitting side, never its test side."""
    from sklearn.model_selection import GroupKFold

    truth = np.array(train["truth_unsafe"].to_list())
    accuracy, by_benchmark = [], {}
    predicted = np.zeros(len(truth), dtype=bool)
    for fit_rows, test_rows in GroupKFold(folds).split(np.zeros(len(truth)), truth, groups=train["group"].to_list()):
        model = offline_expert.classifier(candidate, c)
        fit, test = train[fit_rows.tolist()], train[test_rows.tolist()]
        inputs, labels = offline_expert.classifier_inputs(fit), truth[fit_rows]
        if extra is not None and extra.height:
            inputs = np.concatenate([inputs, offline_expert.classifier_inputs(extra)])
            labels = np.concatenate([labels, np.ones(extra.height, dtype=bool)])
        model.fit(inputs, labels)
        predicted[test_rows] = model.predict(offline_expert.classifier_inputs(test)).astype(bool)
        accuracy.append(float(np.mean(predicted[test_rows] == truth[test_rows])))
    for benchmark in sorted(set(train["benchmark"].to_list())):
        rows = (train["benchmark"] == benchmark).to_numpy()
        by_benchmark[benchmark] = round(float(np.mean(predicted[rows] == truth[rows])), 4)
    return {
        "candidate": candidate,
        "c": c,
        "extra_unsafe_examples": 0 if extra is None else extra.height,
        "cv_accuracy": round(float(np.mean(predicted == truth)), 4),
        "fold_accuracy": [round(a, 4) for a in accuracy],
        "by_benchmark": by_benchmark,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "offline_expert_selection.json"))
    args = parser.parse_args()
    train = teacher_train()
    started = time.perf_counter()
    results = [
        grouped_cv(train, candidate, c, args.folds)
        for candidate in offline_expert.CANDIDATES
        for c in (1.0, 4.0, 16.0)
    ]
    extra = many_shot_examples()
    augmented = [
        grouped_cv(train, "response", c, args.folds, extra.head(n)) for n in (100, extra.height) for c in (1.0, 4.0)
    ]
    for r in [*results, *augmented]:
        head = f"{r['candidate']:<22} +{r['extra_unsafe_examples']:<4} C={r['c']:<5}"
        print(f"{head} cv accuracy {r['cv_accuracy']:.4f}  {r['by_benchmark']}")
    best = max(results, key=lambda r: (r["cv_accuracy"], -r["c"]))
    record = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": " ".join(["benchmarks/offline_expert_selection.py", *sys.argv[1:]]),
        "n_teacher_train": train.height,
        "folds": args.folds,
        "grouping": "near-duplicate prompt group (the label split's key)",
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
        "augmented_with_many_shot_unsafe": augmented,
        "chosen": {"candidate": best["candidate"], "c": best["c"], "cv_accuracy": best["cv_accuracy"]},
    }
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["chosen"]))


if __name__ == "__main__":
    main()
