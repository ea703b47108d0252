-- Judgements per judge and subject: how many, how many with a verdict, and the share judged UNSAFE.
SELECT r.judge, r.subject, count(*) AS n, count(c.verdict) AS with_verdict,
       round(avg(CASE WHEN c.verdict = 'UNSAFE' THEN 1.0 WHEN c.verdict = 'SAFE' THEN 0.0 END), 3) AS unsafe_share
FROM judged_results r
JOIN judge_cache c USING (judgement_id)
GROUP BY ALL
ORDER BY ALL;
