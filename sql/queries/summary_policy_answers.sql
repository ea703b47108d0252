-- For the summary: how many policy answers, to how many attacked prompts.
SELECT count(*) AS n, count(DISTINCT attack_id) AS p FROM policy_answers;
