-- For the summary: teacher verdicts per answer source (NULL verdicts shown as 'unparseable').
SELECT answer_source, coalesce(verdict, 'unparseable') AS v, count(*) AS n
FROM expert_critiques
GROUP BY ALL
ORDER BY ALL;
