-- The current evaluation's judgements of human-labelled responses, with the human label; `length` is the length
-- the response was judged at: 'full' (as written) or 'eval' (cut to the evaluated answers' token budget).
SELECT h.label_id, h.benchmark, h.label_kind, h.task, h.prompt_label, h.truth_unsafe, h.truth_refusal,
       h.n_raters, h.rater_agreement, r.judge, r.target,
       CASE r.subject WHEN 'label' THEN 'full' ELSE 'eval' END AS length,
       c.verdict, c.refusal, c.score_unsafe, c.parse_ok
FROM judged_results r
JOIN judge_cache c USING (judgement_id)
JOIN human_labels h ON h.label_id = r.subject_id
WHERE r.subject IN ('label', 'label_cut')
ORDER BY h.benchmark, h.label_id, r.judge, length DESC;
