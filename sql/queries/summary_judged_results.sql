-- For the summary: judgements per judge, and how many of them carry a verdict.
SELECT r.judge, count(*) AS n, count(c.verdict) AS v
FROM judged_results r
JOIN judge_cache c USING (judgement_id)
GROUP BY ALL
ORDER BY ALL;
