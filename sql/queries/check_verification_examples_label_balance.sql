-- Verdict balance of the training examples: the share of SAFE verdicts must lie within the configured
-- bounds, or the verifier learns to say one word. Returns a row when it does not (or when train is empty).
WITH train AS (
    SELECT count(*) AS n, count(*) FILTER (WHERE final_verdict = 'SAFE') AS n_safe
    FROM verification_examples
    WHERE split = 'train'
)
SELECT n, n_safe, CASE WHEN n > 0 THEN n_safe / n END AS safe_share
FROM train
WHERE n = 0 OR n_safe / n < $min_safe_share OR n_safe / n > $max_safe_share;
