-- Per judge of the current evaluation: its model, its identity hash and how many judgements it made.
SELECT r.judge, any_value(c.judge_model_id) AS model, any_value(c.judge_hash) AS judge_hash, count(*) AS n
FROM judged_results r
JOIN judge_cache c USING (judgement_id)
GROUP BY ALL
ORDER BY judge;
