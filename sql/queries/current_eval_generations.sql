-- The generations the current evaluation judges (selected by `eval_generations`), with their item.
SELECT g.generation_id, g.checkpoint, g.checkpoint_id, g.final_answer, g.reasoning, g.raw_text, i.item_id, i.kind,
       i.prompt_text, i.spec_text
FROM eval_selection s
JOIN eval_generations g USING (generation_id)
JOIN eval_items i ON i.item_id = g.item_id
ORDER BY g.checkpoint, i.item_id, g.sample_index;
