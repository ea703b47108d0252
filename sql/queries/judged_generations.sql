-- The current evaluation's judgements of eval generations, with what each generation answered.
SELECT g.generation_id, g.checkpoint, g.checkpoint_id, g.model_hash, g.sample_index, i.item_id, i.kind, i.source,
       i.family, i.family_role, i.reference_answer, g.final_answer, r.judge, r.target, c.verdict, c.refusal,
       c.score_unsafe, c.parse_ok
FROM judged_results r
JOIN judge_cache c USING (judgement_id)
JOIN eval_generations g ON g.generation_id = r.subject_id
JOIN eval_items i ON i.item_id = g.item_id
WHERE r.subject = 'generation'
ORDER BY g.checkpoint, i.item_id, g.sample_index, r.judge, r.target;
