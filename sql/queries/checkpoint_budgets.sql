-- The training budget each evaluated checkpoint actually got: examples in its data, optimizer steps, the
-- settings that fix examples per step, the logged history, and what the trainer counted it consumed (budget_json).
SELECT asset AS checkpoint, method, n_examples, train_steps, config_json, metrics_json, budget_json
FROM checkpoints
WHERE list_contains($checkpoints, asset)
QUALIFY row_number() OVER (PARTITION BY asset ORDER BY created_at DESC) = 1
ORDER BY asset;
