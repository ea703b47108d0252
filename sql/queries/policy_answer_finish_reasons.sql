-- Policy answers per finish reason, with their mean completion length in tokens.
SELECT finish_reason, count(*) AS n, round(avg(completion_tokens), 1) AS avg_tokens
FROM policy_answers
GROUP BY ALL
ORDER BY finish_reason;
