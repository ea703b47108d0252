-- Every (subject, judge, target) of the evaluation points at a stored judgement, and to one only.
SELECT r.subject, r.subject_id, r.judge, r.target, count(c.judgement_id) AS found
FROM judged_results r
LEFT JOIN judge_cache c USING (judgement_id)
GROUP BY ALL
HAVING count(c.judgement_id) <> 1 OR count(*) <> 1;
