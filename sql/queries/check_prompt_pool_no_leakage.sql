-- A near-duplicate group (and so any normalised duplicate) must sit in one split only.
SELECT min(prompt_id) AS prompt_id, 'group ' || group_key || ' is in both splits' AS detail
FROM prompt_pool
GROUP BY group_key
HAVING count(DISTINCT split) > 1;
