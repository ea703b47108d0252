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
    sources = wh.sql("SELECT count(*) AS n, string_agg(DISTINCT licence, ', ') AS licences FROM prompt_sources")
    lines.append(f"  prompt sources   {sources['n'][0]} (licences: {sources['licences'][0]})")
    pool = wh.sql(
        "SELECT label, count(*) AS n, count(DISTINCT source) AS s FROM prompt_pool GROUP BY label ORDER BY label"
    )
    for label, n, s in pool.iter_rows():
        lines.append(f"  prompt_pool      {n:>6} {label} prompts from {s} sources")
    fams = wh.sql(
        "SELECT role, count(*) AS n, string_agg(family, ', ' ORDER BY family) AS f FROM attack_families "
        "GROUP BY role ORDER BY role"
    )
    for role, n, f in fams.iter_rows():
        lines.append(f"  attack families  {n:>6} {role}: {f}")
    lines.append(f"  attacked_prompts {wh.count('attacked_prompts'):>6} rows")
    model = wh.sql("SELECT model_id, architecture, n_parameters, path FROM models WHERE model_key = 'base'")
    if not model.is_empty():
        lines.append(
            f"  base model       {model['model_id'][0]} ({model['architecture'][0]}, "
            f"{model['n_parameters'][0] / 1e6:.1f}M params) at {model['path'][0]}"
        )
    answers = wh.sql("SELECT count(*) AS n, count(DISTINCT attack_id) AS p FROM policy_answers")
    lines.append(f"  policy_answers   {answers['n'][0]:>6} answers to {answers['p'][0]} attacked prompts")
    verdicts = wh.sql(
        "SELECT answer_source, coalesce(verdict, 'unparseable') AS v, count(*) AS n FROM expert_critiques "
        "GROUP BY ALL ORDER BY ALL"
    )
    for source, verdict, n in verdicts.iter_rows():
        lines.append(f"  expert_critiques {n:>6} {source} answers judged {verdict}")
    pushes = wh.sql("SELECT route, count(*) AS n FROM review_pushes GROUP BY route ORDER BY min(priority)")
    for route, n in pushes.iter_rows():
        lines.append(f"  critique_review  {n:>6} pushed to Argilla for review ({route})")
    reviews = wh.sql("SELECT count(*) AS n, count(DISTINCT annotator) AS a FROM human_reviews")
    lines.append(f"  human_reviews    {reviews['n'][0]:>6} responses imported from {reviews['a'][0]} annotators")
    curated = wh.sql("SELECT verdict_source, count(*) AS n FROM reviewed_critiques GROUP BY ALL ORDER BY ALL")
    for source, n in curated.iter_rows():
        lines.append(f"  reviewed_critiques {n:>4} verdicts from {source}")
    examples = wh.sql(
        "SELECT split, final_verdict, count(*) AS n FROM verification_examples GROUP BY ALL ORDER BY ALL"
    )
    for split, verdict, n in examples.iter_rows():
        lines.append(f"  verification_examples {n:>3} {split} examples with verdict {verdict}")
    latest = wh.sql(
        "SELECT asset, version, train_steps, final_loss, path FROM checkpoints "
        "QUALIFY row_number() OVER (PARTITION BY asset ORDER BY created_at DESC) = 1 ORDER BY asset"
    )
    for asset, version, steps, loss, path in latest.iter_rows():
        shown = "" if loss is None else f", final loss {loss:.3f}"
        lines.append(f"  checkpoint       {asset} {version} ({steps} steps{shown}) at {path}")
    items = wh.sql("SELECT kind, count(*) AS n FROM eval_items GROUP BY ALL ORDER BY ALL")
    if not items.is_empty():
        lines.append("  eval_items       " + ", ".join(f"{n} {kind}" for kind, n in items.iter_rows()))
        generated = wh.sql("SELECT count(*) AS n, count(DISTINCT checkpoint) AS c FROM eval_selection")
        lines.append(f"  eval_generations {generated['n'][0]:>6} answers from {generated['c'][0]} checkpoints")
    judges = wh.sql(
        "SELECT r.judge, count(*) AS n, count(c.verdict) AS v FROM judged_results r "
        "JOIN judge_cache c USING (judgement_id) GROUP BY ALL ORDER BY ALL"
    )
    for judge, n, v in judges.iter_rows():
        lines.append(f"  judged_results   {n:>6} judgements by {judge} ({v} with a verdict)")
    report = wh.sql("SELECT report_path FROM evaluation_runs ORDER BY created_at DESC LIMIT 1")
    if not report.is_empty():
        lines.append(
            f"  evaluation report {report['report_path'][0]} (newest: {Path(report['report_path'][0]).parent}"
            f"/latest.html)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(Path(sys.argv[1])))
