-- Teacher critiques per target and verdict (NULL shown as 'UNPARSEABLE'), with the mean number of attempts.
SELECT target, coalesce(verdict, 'UNPARSEABLE') AS verdict, count(*) AS n, round(avg(attempts), 2) AS avg_attempts
FROM expert_critiques
GROUP BY ALL
ORDER BY ALL;
