"""The evaluation's result tables: what the report shows and the asset records (polars frames, one per section).

Built by `build_tables` from the judged results (eval generations x judges) and the judges' verdicts on
human-labelled sets; rendered by `report.py`. Every rate carries its Wilson 95% interval; UNSAFE is the
positive class of every classifier figure. Column contracts (the report and the tests rely on them):

- `asr`: checkpoint, source, family, family_role, judge, n, successes, rate, ci_low, ci_high
  (attack success = the judge found the final answer to a harmful prompt UNSAFE)
- `asr_by_role`: checkpoint, family_role, judge, n, successes, rate, ci_low, ci_high (role: none | train | heldout)
- `over_refusal`: checkpoint, source, judge, n, successes, rate, ci_low, ci_high (success = a benign prompt refused)
- `utility`: checkpoint, n, successes, rate, ci_low, ci_high (exact-match accuracy on the math set)
- `reasoning_gap`: checkpoint, judge, n, unsafe_reasoning, unsafe_final, gap (answers with both parts judged;
  gap = unsafe_reasoning - unsafe_final, rates)
- `judge_accuracy`: judge, benchmark, length, labels, items, coverage, accuracy, accuracy_ci_low,
  accuracy_ci_high, sensitivity, sensitivity_ci_low, sensitivity_ci_high, specificity, specificity_ci_low,
  specificity_ci_high, precision, recall, f1 (against labelled sets; labels: human | constructed; benchmark 'all'
  pools the human safety sets only; length: full, the response as written, or eval, its first tokens up to the
  evaluated answers' token budget; the intervals are Wilson's over the items with a verdict)
- `confusions`: judge, benchmark, length, tp, fp, fn, tn
- `verification`: checkpoint, benchmark, labels, items, coverage, accuracy, precision, recall, f1, f1_strict,
  false_positive_rate, false_negative_rate, roc_auc, score_f1, forced_coverage (each checkpoint acting as a
  verifier on the labelled sets; the rates from its strict verdicts: f1 over the items with a verdict, f1_strict
  with a missing verdict counted wrong; roc_auc and score_f1 from its P(UNSAFE) score: score_f1 is the forced
  choice at threshold 0.5, forced_coverage the share of items with a score)
- `thresholds`: checkpoint, threshold, precision, recall, false_positive_rate, false_negative_rate, f1
- `agreement`: judge_a, judge_b, n, agreement (share of eval answers both judged where their verdicts match)
- `comparison`: checkpoint, harmful_asr, heldout_asr, train_family_asr, over_refusal, utility, verification_f1,
  verification_coverage, verification_f1_strict, verification_f1_forced,
  verification_forced_coverage, roc_auc (one row per checkpoint, the headline figures; the ASR
  columns use the `headline_judge`)
- `budgets`: checkpoint, method, n_examples, steps, examples_per_step, examples_seen, epochs, supervised_tokens,
  tokens, shortened, dropped, precision, first_loss, last_loss, first_reward, last_reward, reward_terms (the
  training budget each checkpoint got, as its trainer counted it; epochs = examples seen / examples in its data;
  GRPO: prompts and rollouts; the first and last logged train loss and
  reward, the weighted sum of the reward terms, and each term's first and last mean by name)
- `corrected`: checkpoint, family_role, judge, n, observed, corrected, ci_low, ci_high, sensitivity,
  specificity, judge_length, note (the headline judge's ASR corrected for its error measured on the human labels
  at the eval length, else full length, as judge_length says: Rogan-Gladen, unclipped; note: not identifiable and
  why, or where it leaves [0, 1])
- `by_agreement`: judge, raters, items, correct, accuracy, ci_low, ci_high (each judge with verdicts on the
  human-labelled safety sets, by how the raters agreed: one rater, several unanimous, several split)
- `probes`: checkpoint, layer_group, layers, n_fit, n_heldout, accuracy, accuracy_ci_low, accuracy_ci_high, auc,
  ci_low, ci_high, n_paired, auc_minus_base, diff_ci_low, diff_ci_high (`probes.probe_table`: a logistic-regression
  probe per checkpoint and layer group on its hidden states at the verdict position, fit on the teacher_train side
  of the human labels, measured on the held-out side: accuracy with its Wilson interval, ROC AUC with a bootstrap
  interval, and the AUC minus base's on the same held-out items with a paired bootstrap interval)
- `curves`: checkpoint, method, step, metric, value (every logged step's train loss and, for GRPO, mean reward)
- `history`: run_id, created_at, checkpoint, metric, value (the comparison of this and earlier runs)
- `controls`: name, method, baseline, measure, n, effect, ci_low, ci_high, p, passed, note (the positive controls,
  `controls.positive_controls`: each a paired test that the training did what it targets, then the convergence
  checks (`CONVERGENCE_CHECKS`: each SFT checkpoint's loss flat over its last quarter); passed null when it could
  not be computed, and note says what was missing)
- `paper`: paper, model, setting, metric, reported, note (numbers the papers report: never mixed with ours)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

BUDGET_SCHEMA = {
    "checkpoint": pl.String,
    "method": pl.String,
    "n_examples": pl.Int64,
    "steps": pl.Int64,
    "examples_per_step": pl.Int64,
    "examples_seen": pl.Int64,  # the trainer's own count (None for a checkpoint trained before it was counted)
    "epochs": pl.Float64,
    "supervised_tokens": pl.Int64,
    "tokens": pl.Int64,
    "shortened": pl.Int64,  # examples shortened in their request or answer to fit max_length
    "dropped": pl.Int64,  # examples too long even shortened
    "precision": pl.String,  # the numeric policy it trained under
    "first_loss": pl.Float64,
    "last_loss": pl.Float64,
    "first_reward": pl.Float64,
    "last_reward": pl.Float64,
    "reward_terms": pl.String,  # each GRPO reward term's first -> last logged mean, by name
}
CORRECTED_SCHEMA = {
    "checkpoint": pl.String,
    "family_role": pl.String,
    "judge": pl.String,
    "n": pl.Int64,
    "observed": pl.Float64,
    "corrected": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "sensitivity": pl.Float64,
    "specificity": pl.Float64,
    "judge_length": pl.String,  # the length the judge's error was measured at: eval | full
    "note": pl.String,  # not identifiable and why, or where the unclipped estimate / interval leave [0, 1]
}
AGREEMENT_SCHEMA = {
    "judge": pl.String,
    "raters": pl.String,
    "items": pl.Int64,
    "correct": pl.Int64,
    "accuracy": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}
# Human review: Cohen's kappa per pair of annotators (overlap: the records both judged), and the records annotated,
# decided by a majority and disputed (annotators disagree with no majority; back in review)
REVIEW_KAPPA_SCHEMA = {
    "annotator_a": pl.String,
    "annotator_b": pl.String,
    "overlap": pl.Int64,
    "kappa": pl.Float64,
}
REVIEW_DISPUTE_SCHEMA = {
    "annotators": pl.Int64,
    "annotated_records": pl.Int64,
    "majority": pl.Int64,
    "disputed": pl.Int64,
}
PROBE_SCHEMA = {
    "checkpoint": pl.String,
    "layer_group": pl.String,  # early | middle | late
    "layers": pl.String,  # the group's blocks, e.g. 1-10
    "n_fit": pl.Int64,
    "n_heldout": pl.Int64,
    "accuracy": pl.Float64,
    "accuracy_ci_low": pl.Float64,
    "accuracy_ci_high": pl.Float64,
    "auc": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "n_paired": pl.Int64,  # held-out items measured for both this checkpoint and base
    "auc_minus_base": pl.Float64,
    "diff_ci_low": pl.Float64,
    "diff_ci_high": pl.Float64,
}
CURVE_SCHEMA = {
    "checkpoint": pl.String,
    "method": pl.String,
    "step": pl.Int64,
    "metric": pl.String,  # loss | reward (the weighted sum of the terms) | rewards/<term>/mean
    "value": pl.Float64,
}

# controls that say whether a checkpoint had converged, not whether its training did what it targets: their
# failure makes the comparison one between under-trained checkpoints, not a suspect pipeline
CONVERGENCE_CHECKS = ("sft_loss_flat",)
CONTROLS_SCHEMA = {
    "name": pl.String,
    "method": pl.String,
    "baseline": pl.String,
    "measure": pl.String,  # what `effect` is, in words
    "n": pl.Int64,  # paired items (a, b) or logged steps (c)
    "effect": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p": pl.Float64,  # null where no p-value applies
    "passed": pl.Boolean,  # null when the control could not be computed
    "note": pl.String,  # how to read it (e.g. the refusal detector's accuracy), or what was missing
}


@dataclass
class EvaluationTables:
    asr: pl.DataFrame
    asr_by_role: pl.DataFrame
    over_refusal: pl.DataFrame
    utility: pl.DataFrame
    reasoning_gap: pl.DataFrame
    judge_accuracy: pl.DataFrame
    confusions: pl.DataFrame
    verification: pl.DataFrame
    thresholds: pl.DataFrame
    agreement: pl.DataFrame
    comparison: pl.DataFrame
    history: pl.DataFrame
    paper: pl.DataFrame
    headline_judge: str = "teacher"
    budgets: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=BUDGET_SCHEMA))
    # SInternal vs refusal SFT (and each vs base) on the same harmful prompts: paired difference and McNemar
    paired: pl.DataFrame = field(default_factory=pl.DataFrame)
    curves: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CURVE_SCHEMA))
    corrected: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CORRECTED_SCHEMA))
    by_agreement: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=AGREEMENT_SCHEMA))
    # positive controls: did each training do what it targets (reported before any comparison)
    controls: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CONTROLS_SCHEMA))
    review_kappa: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REVIEW_KAPPA_SCHEMA))
    review_disputes: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REVIEW_DISPUTE_SCHEMA))
    probes: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PROBE_SCHEMA))
    # lineage, per figure and for the run: section name -> {key: value} (data hashes, spec hash, model ids and
    # hashes, teacher, judges); "run" holds what every section shares
    lineage: dict[str, dict[str, str]] = field(default_factory=dict)
