-- For the summary: evaluation items per kind.
SELECT kind, count(*) AS n FROM eval_items GROUP BY ALL ORDER BY ALL;
