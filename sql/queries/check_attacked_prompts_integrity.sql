-- Unique ids, every row points at a pool prompt, every pool prompt has its plain `none` row,
-- and the copied label / split agree with the pool.
SELECT attack_id AS prompt_id, count(*) || ' rows share this attack id' AS detail
FROM attacked_prompts GROUP BY attack_id HAVING count(*) > 1
UNION ALL
SELECT a.attack_id, 'prompt ' || a.prompt_id || ' is not in prompt_pool'
FROM attacked_prompts a LEFT JOIN prompt_pool p USING (prompt_id) WHERE p.prompt_id IS NULL
UNION ALL
SELECT a.attack_id, 'label/split differ from prompt_pool'
FROM attacked_prompts a JOIN prompt_pool p USING (prompt_id)
WHERE a.label <> p.label OR a.split <> p.split
UNION ALL
SELECT p.prompt_id, 'no plain (none) row'
FROM prompt_pool p
LEFT JOIN attacked_prompts a ON a.prompt_id = p.prompt_id AND a.family = 'none'
WHERE a.prompt_id IS NULL;
