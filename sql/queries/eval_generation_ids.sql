-- The id of every stored eval generation (what is already generated is not generated again).
SELECT generation_id FROM eval_generations;
