-- A deterministic pseudo-random slice of attacked prompts (attack_id is a content hash).
SELECT attack_id, prompt_id, template_id, text
FROM attacked_prompts
WHERE list_contains($splits, split)
ORDER BY attack_id
LIMIT $max_prompts;
