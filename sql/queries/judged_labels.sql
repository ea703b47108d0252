-- The current evaluation's judgements of human-labelled responses, with the human label.
SELECT h.label_id, h.benchmark, h.label_kind, h.task, h.prompt_label, h.truth_unsafe, h.truth_refusal,
       h.n_raters, h.rater_agreement, r.judge, r.target,
       c.verdict, c.refusal, c.score_unsafe, c.parse_ok
FROM judged_results r
JOIN judge_cache c USING (judgement_id)
JOIN human_labels h ON h.label_id = r.subject_id
WHERE r.subject = 'label'
ORDER BY h.benchmark, h.label_id, r.judge;
