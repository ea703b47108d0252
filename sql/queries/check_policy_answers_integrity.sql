-- Every answer points at an attacked prompt, and the stored split of reasoning / final answer is consistent.
SELECT a.answer_id AS prompt_id, 'attack ' || a.attack_id || ' is not in attacked_prompts' AS detail
FROM policy_answers a LEFT JOIN attacked_prompts p USING (attack_id) WHERE p.attack_id IS NULL
UNION ALL
SELECT answer_id, 'sample_index ' || sample_index || ' appears twice for this prompt, model and sampling'
FROM (SELECT answer_id, sample_index, count(*) OVER (PARTITION BY attack_id, model_hash, params_json, sample_index) AS n
      FROM policy_answers) WHERE n > 1
UNION ALL
SELECT answer_id, 'final answer and reasoning are both empty but the raw text is not'
FROM policy_answers WHERE final_answer = '' AND reasoning = '' AND trim(raw_text) <> '';
