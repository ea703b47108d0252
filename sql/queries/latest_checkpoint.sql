-- The most recent checkpoint an asset recorded.
SELECT checkpoint_id, asset, version, method, path, created_at
FROM checkpoints
WHERE asset = $asset
ORDER BY created_at DESC
LIMIT 1;
