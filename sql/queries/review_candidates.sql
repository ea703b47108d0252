-- Every critique with what an annotator needs to judge it: the prompt the policy saw, its reasoning and
-- final answer, the teacher's critique and verdict, the compact spec (the same for every record: a category
-- rule picked by the prompt's label would give the label away), and the metadata owners filter on. Reference answers (no attacked prompt) carry their source instead.
WITH spec AS (
    SELECT s.spec_hash, s.name, s.version, s.body_json
    FROM safety_spec s
    ORDER BY s.created_at DESC
    LIMIT 1
)
SELECT c.critique_id, c.answer_id, c.answer_source, c.target, c.teacher_id, c.verdict, c.parse_ok,
       c.parse_reason, c.attempts, c.verdict_score, c.reference_verdict, c.agrees_with_reference, c.critique, c.raw_text,
       coalesce(p.text, r.prompt_text)                         AS prompt_text,
       coalesce(a.reasoning, '')                                AS reasoning,
       coalesce(a.final_answer, r.final_answer)                 AS final_answer,
       coalesce(p.source, r.source)                             AS source,
       coalesce(p.family, 'reference')                          AS attack_family,
       coalesce(p.category, 'unknown')                          AS category,
       coalesce(p.split, 'reference')                           AS split,
       coalesce(p.label, CASE r.reference_verdict WHEN 'SAFE' THEN 'benign' ELSE 'harmful' END) AS label,
       spec_compact(spec.body_json)                             AS spec_excerpt,
       (SELECT name || ' v' || version FROM spec)               AS spec_name
FROM expert_critiques c
LEFT JOIN policy_answers a ON c.answer_source = 'policy' AND a.answer_id = c.answer_id
LEFT JOIN attacked_prompts p ON p.attack_id = a.attack_id
LEFT JOIN reference_answers r ON c.answer_source = 'reference' AND r.answer_id = c.answer_id
LEFT JOIN spec ON TRUE
ORDER BY c.critique_id;
