-- What evaluation compares: the base model and the most recent checkpoint of every training asset.
SELECT 'base' AS checkpoint, 'base-' || left(content_hash, 12) AS checkpoint_id, path, content_hash AS model_hash,
       model_id, 'base' AS method
FROM models
WHERE model_key = 'base'
UNION ALL
SELECT asset AS checkpoint, checkpoint_id, path, version AS model_hash, asset AS model_id, method
FROM checkpoints
QUALIFY row_number() OVER (PARTITION BY asset ORDER BY created_at DESC) = 1
ORDER BY checkpoint;
