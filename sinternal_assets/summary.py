"""Print what the pipeline produced: `python -m sinternal_assets.summary <warehouse.duckdb>`."""

from __future__ import annotations

import sys
from pathlib import Path

from sinternal_assets.storage.warehouse import Warehouse


def summary(path: Path) -> str:
    wh = Warehouse(path, read_only=True)
    lines = [f"sinternal warehouse {path}"]
    spec = wh.query("current_spec")
    if not spec.is_empty():
        lines.append(f"  safety spec      {spec['name'][0]} v{spec['version'][0]} ({spec['spec_hash'][0][:12]})")
    sources = wh.query("summary_prompt_sources")
    lines.append(f"  prompt sources   {sources['n'][0]} (licences: {sources['licences'][0]})")
    pool = wh.query("summary_prompt_pool")
    for label, n, s in pool.iter_rows():
        lines.append(f"  prompt_pool      {n:>6} {label} prompts from {s} sources")
    fams = wh.query("summary_attack_families")
    for role, n, f in fams.iter_rows():
        lines.append(f"  attack families  {n:>6} {role}: {f}")
    lines.append(f"  attacked_prompts {wh.count('attacked_prompts'):>6} rows")
    model = wh.query("summary_base_model")
    if not model.is_empty():
        lines.append(
            f"  base model       {model['model_id'][0]} ({model['architecture'][0]}, "
            f"{model['n_parameters'][0] / 1e6:.1f}M params) at {model['path'][0]}"
        )
    answers = wh.query("summary_policy_answers")
    lines.append(f"  policy_answers   {answers['n'][0]:>6} answers to {answers['p'][0]} attacked prompts")
    verdicts = wh.query("summary_expert_critiques")
    for source, verdict, n in verdicts.iter_rows():
        lines.append(f"  expert_critiques {n:>6} {source} answers judged {verdict}")
    pushes = wh.query("summary_review_pushes")
    for route, n in pushes.iter_rows():
        lines.append(f"  critique_review  {n:>6} pushed to Argilla for review ({route})")
    reviews = wh.query("summary_human_reviews")
    lines.append(f"  human_reviews    {reviews['n'][0]:>6} responses imported from {reviews['a'][0]} annotators")
    curated = wh.query("summary_reviewed_critiques")
    for source, n in curated.iter_rows():
        lines.append(f"  reviewed_critiques {n:>4} verdicts from {source}")
    examples = wh.query("summary_verification_examples")
    for split, verdict, n in examples.iter_rows():
        lines.append(f"  verification_examples {n:>3} {split} examples with verdict {verdict}")
    latest = wh.query("summary_latest_checkpoints")
    for asset, version, steps, loss, path in latest.iter_rows():
        shown = "" if loss is None else f", final loss {loss:.3f}"
        lines.append(f"  checkpoint       {asset} {version} ({steps} steps{shown}) at {path}")
    items = wh.query("summary_eval_items")
    if not items.is_empty():
        lines.append("  eval_items       " + ", ".join(f"{n} {kind}" for kind, n in items.iter_rows()))
        generated = wh.query("summary_eval_selection")
        lines.append(f"  eval_generations {generated['n'][0]:>6} answers from {generated['c'][0]} checkpoints")
    judges = wh.query("summary_judged_results")
    for judge, n, v in judges.iter_rows():
        lines.append(f"  judged_results   {n:>6} judgements by {judge} ({v} with a verdict)")
    report = wh.query("latest_evaluation_report")
    if not report.is_empty():
        lines.append(
            f"  evaluation report {report['report_path'][0]} (newest: {Path(report['report_path'][0]).parent}"
            f"/latest.html)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(Path(sys.argv[1])))
