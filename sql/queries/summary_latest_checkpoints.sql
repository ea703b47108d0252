-- For the summary: the most recent checkpoint of every training asset, with its steps, loss and path.
SELECT asset, version, train_steps, final_loss, path
FROM checkpoints
QUALIFY row_number() OVER (PARTITION BY asset ORDER BY created_at DESC) = 1
ORDER BY asset;
