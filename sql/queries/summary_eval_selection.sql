-- For the summary: how many generations the current evaluation selected, from how many checkpoints.
SELECT count(*) AS n, count(DISTINCT checkpoint) AS c FROM eval_selection;
