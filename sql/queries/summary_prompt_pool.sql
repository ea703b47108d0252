-- For the summary: prompts in the pool per label, and from how many sources.
SELECT label, count(*) AS n, count(DISTINCT source) AS s FROM prompt_pool GROUP BY label ORDER BY label;
