-- A prompt (or a near-duplicate of it) in both the train and the eval examples would leak. Returns the
-- near-duplicate groups found in both splits (none expected).
SELECT group_key, count(DISTINCT split) AS n_splits
FROM verification_examples
GROUP BY group_key
HAVING count(DISTINCT split) > 1;
