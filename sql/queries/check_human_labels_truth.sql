-- Every human label answers exactly its task: a safety label has truth_unsafe only, a refusal label truth_refusal.
SELECT label_id, benchmark, task, truth_unsafe, truth_refusal
FROM human_labels
WHERE (task = 'safety' AND (truth_unsafe IS NULL OR truth_refusal IS NOT NULL))
   OR (task = 'refusal' AND (truth_refusal IS NULL OR truth_unsafe IS NOT NULL));
