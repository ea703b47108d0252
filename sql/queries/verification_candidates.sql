-- Policy answers whose `$target` was judged, with the verdict after human review, the prompt (as the policy
-- saw it and as the underlying request), its split and near-duplicate group, and the spec context a
-- verifier reads (`spec_context` macro: the same text for every row).
-- With $include_reference, also the judged reference answers (answers of other models with a human-curated
-- label): the label is their verdict (a human majority overrides it; a disputed review leaves it), the teacher's critique is kept only
-- where the teacher agreed with the label (else the target is the verdict alone); they are training data
-- only (split train), grouped by prompt text, and their prompt label follows the matched-pair design of
-- their source (a SAFE reference answers a benign prompt).
WITH spec AS (
    SELECT spec_hash, rendered_text, body_json
    FROM safety_spec
    ORDER BY created_at DESC
    LIMIT 1
)
SELECT r.critique_id, r.answer_id, a.attack_id, p.prompt_id, pp.group_key, p.split, p.label, p.category,
       p.family, p.family_role, p.source, r.target, p.text AS prompt_text, pp.text AS base_text,
       a.reasoning, a.final_answer, r.critique, r.final_verdict, r.verdict_source, c.verdict_score,
       sc.name AS category_name, sc.definition AS category_definition, spec.spec_hash,
       spec_context($spec_context, spec.rendered_text, spec.body_json)
           AS spec_text
FROM reviewed_critiques r
JOIN expert_critiques c USING (critique_id)
JOIN policy_answers a ON a.answer_id = r.answer_id
JOIN attacked_prompts p ON p.attack_id = a.attack_id
JOIN prompt_pool pp ON pp.prompt_id = p.prompt_id
CROSS JOIN spec
JOIN spec_categories sc ON sc.spec_hash = spec.spec_hash AND sc.category_id = p.category
WHERE r.answer_source = 'policy' AND r.target = $target
UNION ALL
SELECT r.critique_id, r.answer_id, 'ref-' || left(sha256(ra.prompt_text), 12) AS attack_id,
       left(sha256(ra.prompt_text), 16) AS prompt_id, 'ref-' || left(sha256(ra.prompt_text), 16) AS group_key,
       'train' AS split, CASE ra.reference_verdict WHEN 'SAFE' THEN 'benign' ELSE 'harmful' END AS label,
       'reference' AS category, 'reference' AS family, 'train' AS family_role, ra.source, r.target,
       ra.prompt_text, ra.prompt_text AS base_text, '' AS reasoning, ra.final_answer,
       CASE WHEN c.agrees_with_reference THEN r.critique ELSE '' END AS critique,
       CASE WHEN r.verdict_source = 'human' THEN r.final_verdict ELSE ra.reference_verdict END AS final_verdict,
       CASE WHEN r.verdict_source = 'human' THEN 'human' ELSE 'reference' END AS verdict_source,
       CASE WHEN c.agrees_with_reference THEN c.verdict_score END AS verdict_score,
       'Reference answer' AS category_name, 'judged against the whole specification' AS category_definition,
       spec.spec_hash,
       spec_context($spec_context, spec.rendered_text, spec.body_json) AS spec_text
FROM reviewed_critiques r
JOIN expert_critiques c USING (critique_id)
JOIN reference_answers ra ON ra.answer_id = r.answer_id
CROSS JOIN spec
WHERE $include_reference AND r.answer_source = 'reference' AND r.target = $target
ORDER BY critique_id;
