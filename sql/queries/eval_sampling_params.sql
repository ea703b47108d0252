-- The distinct sampling parameters of the generations the current evaluation selected.
SELECT DISTINCT params_json FROM eval_generations JOIN eval_selection USING (generation_id);
