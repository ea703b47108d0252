SELECT prompt_id, count(*) || ' rows share this id' AS detail
FROM prompt_pool
GROUP BY prompt_id
HAVING count(*) > 1
UNION ALL
SELECT min(prompt_id), count(*) || ' rows share normalised text' AS detail
FROM prompt_pool
GROUP BY norm_key
HAVING count(*) > 1;
