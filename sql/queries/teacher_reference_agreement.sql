-- The teacher against reference labels: how many reference answers were judged, parsed, and agreed.
SELECT reference_verdict,
       count(*) AS judged,
       count(*) FILTER (WHERE parse_ok) AS parsed,
       count(*) FILTER (WHERE agrees_with_reference) AS agreed,
       round(count(*) FILTER (WHERE agrees_with_reference) / nullif(count(*) FILTER (WHERE parse_ok), 0), 3) AS agreement
FROM expert_critiques
WHERE answer_source = 'reference'
GROUP BY reference_verdict
ORDER BY reference_verdict;
