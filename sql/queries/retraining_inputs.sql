-- What retraining reads, fingerprinted: the prompt pool (ids, which are content hashes, and splits) and the
-- imported human review versions. The same fingerprint means nothing new to retrain on.
WITH pool AS (
    SELECT count(*) AS n_prompts,
           coalesce(md5(string_agg(prompt_id || ':' || split, ',' ORDER BY prompt_id)), '') AS pool_hash
    FROM prompt_pool
), reviews AS (
    SELECT count(*) AS n_reviews,
           coalesce(md5(string_agg(review_id, ',' ORDER BY review_id)), '') AS reviews_hash
    FROM human_reviews
)
SELECT n_prompts, n_reviews, md5(pool_hash || '|' || reviews_hash) AS fingerprint
FROM pool, reviews;
