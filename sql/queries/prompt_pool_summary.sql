SELECT source, label, split, count(*) AS n
FROM prompt_pool
GROUP BY ALL
ORDER BY source, label, split;
