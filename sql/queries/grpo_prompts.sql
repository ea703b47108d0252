-- Prompts for RL: train-split attacked prompts of train-side families (held-out families stay unseen), a
-- deterministic slice by attack_id, harmful and benign interleaved so a small slice holds both, with what
-- the rewards need (binary label, the spec context the verifier reads: the same for every prompt).
WITH spec AS (
    SELECT spec_hash, body_json, rendered_text
    FROM safety_spec
    ORDER BY created_at DESC
    LIMIT 1
), ranked AS (
    SELECT p.*, row_number() OVER (PARTITION BY p.label ORDER BY p.attack_id) AS rank_in_label
    FROM attacked_prompts p
    WHERE p.split = 'train' AND p.family_role <> 'heldout'
)
SELECT r.attack_id, r.prompt_id, r.text AS prompt_text, r.label, r.category, r.family,
       sc.name AS category_name, sc.definition AS category_definition,
       spec_context($spec_context, spec.rendered_text, spec.body_json) AS spec_text
FROM ranked r
CROSS JOIN spec
JOIN spec_categories sc ON sc.spec_hash = spec.spec_hash AND sc.category_id = r.category
ORDER BY r.rank_in_label, r.label DESC, r.attack_id
LIMIT $max_prompts;
