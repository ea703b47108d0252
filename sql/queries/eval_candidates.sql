-- Eval-split prompts for evaluation: harmful prompts of every attack family (the plain prompt is family
-- `none`, role none; held-out families only ever touch the eval split) and plain benign prompts (whatever
-- families are selected: they measure over-refusal), each group
-- a deterministic slice by attack_id (a content hash). An empty $families keeps every family.
SELECT p.attack_id AS item_id, p.label AS kind, p.source, p.family,
       CASE WHEN p.family = 'none' THEN 'none' ELSE p.family_role END AS family_role, p.category,
       p.text AS prompt_text, pp.text AS base_text
FROM attacked_prompts p
JOIN prompt_pool pp ON pp.prompt_id = p.prompt_id
WHERE p.split = 'eval'
  AND (p.label = 'harmful' OR p.family = 'none')
  -- $families selects the attack families of the harmful prompts; the benign prompts (plain) always come
  AND (len($families) = 0 OR list_contains($families, p.family) OR (p.label = 'benign' AND p.family = 'none'))
QUALIFY row_number() OVER (PARTITION BY p.label, p.family ORDER BY p.attack_id)
        <= CASE WHEN p.label = 'harmful' THEN $per_family ELSE $max_benign END
ORDER BY p.label DESC, p.family, p.attack_id;
